import numpy as np
import pytest
import tensorflow as tf
import tf_keras

import cgan
from cgan.graph import make_session


def test_parameter_counts_match_the_article(cgan_graph, gan_graph):
    # The article's layers: G is Dense(12 -> 7*7*64), Conv 5x5 64->64, Conv 3x3 64->32, Conv 5x5 32->1;
    # D is Conv 7x7 1->128, Conv 3x3 (128 + 10)->128, Dense(7*7*128 -> 1): 162,497 and 171,777 parameters.
    assert [tuple(w.shape) for w in cgan_graph.generator.weights] == [
        (12, 3136), (3136,), (5, 5, 64, 64), (64,), (3, 3, 64, 32), (32,), (5, 5, 32, 1), (1,)]
    assert [tuple(w.shape) for w in cgan_graph.discrim.weights] == [
        (7, 7, 1, 128), (128,), (3, 3, 138, 128), (128,), (6272, 1), (1,)]
    assert cgan_graph.generator.count_params() == 162497
    assert cgan_graph.discrim.count_params() == 171777
    # the plain GAN: no label into G's dense layer nor D's second conv
    assert gan_graph.generator.count_params() == 162497 - 10 * 7 * 7 * 64
    assert gan_graph.discrim.count_params() == 171777 - 9 * 10 * 128


def test_output_shapes(cgan_graph, gan_graph, batch):
    x, y, z = batch
    assert cgan_graph.generator.output_shape == (None, 28, 28, 1)
    assert cgan_graph.discrim.output_shape == (None, 1)
    imgs = cgan_graph.generate(z, y)
    assert imgs.shape == (16, 28, 28, 1) and imgs.dtype == np.float32
    assert imgs.min() >= 0 and imgs.max() <= 1
    assert gan_graph.generate(z).shape == (16, 28, 28, 1)
    d = cgan_graph.sess.run(cgan_graph.discr_img, {cgan_graph.inputs.x_: x, cgan_graph.inputs.y_: y,
                                                     cgan_graph.learning_phase: 0})
    assert d.shape == (16, 1) and np.all((d > 0) & (d < 1))


def test_variables_by_scope(cgan_graph):
    with cgan_graph.graph.as_default():
        gen = cgan.scope_variables("generator")
        dis = cgan.scope_variables("discrim")
    assert len(gen) == 8 and len(dis) == 6
    assert all(v.name.startswith("generator/") for v in gen)
    assert all(v.name.startswith("discrim/") for v in dis)
    assert {v.name for v in gen} == {v.name for v in cgan_graph.generator.trainable_weights}
    assert {v.name for v in dis} == {v.name for v in cgan_graph.discrim.trainable_weights}


@pytest.mark.parametrize("step, moved, still", [("step_d", "discrim/", "generator/"),
                                                 ("step_g", "generator/", "discrim/")])
def test_a_step_moves_only_its_networks_variables(cgan_graph, batch, step, moved, still):
    before = cgan_graph.variable_values()
    loss = getattr(cgan_graph, step)(*batch)
    after = cgan_graph.variable_values()
    assert np.isfinite(loss)
    assert set(before) == set(after) and len(before) == 14
    for name in before:
        changed = not np.array_equal(before[name], after[name])
        if name.startswith(moved):
            assert changed, f"{step} left {name} unchanged"
        else:
            assert name.startswith(still) and not changed, f"{step} changed {name}"


def test_dropout_follows_the_learning_phase(cgan_graph, batch):
    _, y, z = batch
    g = cgan_graph
    def run(phase, seed=(0, 0)):
        return g.sess.run(g.generated_z, {g.inputs.z_: z, g.inputs.y_: y, g.learning_phase: phase,
                                          g.dropout_seed: seed})

    assert np.array_equal(run(0, (1, 2)), run(0, (3, 4)))   # drawing: dropout off, whatever the seed
    assert not np.array_equal(run(0), run(1))               # training: dropout on
    assert not np.array_equal(run(1, (1, 2)), run(1, (3, 4)))  # masks follow the fed seed ...
    assert np.array_equal(run(1, (1, 2)), run(1, (1, 2)))      # ... and only the fed seed


@pytest.mark.parametrize("mask_bits, rate", [(32, 0.3), (16, round(0.3 * 65536) / 65536)])
def test_dropout_keeps_kerass_rate_and_scale(mask_bits, rate):
    from cgan.layers import Dropout, dropout_seed

    n = 400001  # odd: the 16-bit masks split 32-bit draws in two
    sess = make_session()
    with sess.graph.as_default():
        x = tf_keras.layers.Input(shape=(n,))
        out = Dropout(0.3, mask_bits)(x)
        phase = tf_keras.backend.learning_phase()
        ones = np.ones((1, n), "float32")
        train = sess.run(out, {x: ones, phase: 1, dropout_seed(): [5, 6]})
        other = sess.run(out, {x: ones, phase: 1, dropout_seed(): [5, 7]})
        test = sess.run(out, {x: ones, phase: 0})
    dropped = (train == 0)[0]
    assert abs(dropped.mean() - rate) < 4 * np.sqrt(rate * (1 - rate) / n)
    # neighbours (which share a 32-bit draw in the 16-bit masks) are independent
    assert abs(np.corrcoef(dropped[:-1:2], dropped[1::2])[0, 1]) < 0.01
    assert abs(np.corrcoef(dropped, (other == 0)[0])[0, 1]) < 0.01
    np.testing.assert_allclose(train[train != 0], 1 / 0.7, rtol=1e-6)
    np.testing.assert_array_equal(test, ones)
    sess.close()


def test_dropout_mask_bits_are_checked():
    from cgan.layers import Dropout

    with pytest.raises(ValueError, match="mask_bits"):
        Dropout(0.3, 8)
    with pytest.raises(ValueError, match="dropout_mask_bits"):
        cgan.Settings(dropout_mask_bits=24)


def test_losses_follow_the_article():
    sess = make_session()
    with sess.graph.as_default():
        d_real = tf.constant([[0.9], [0.6]])
        d_fake = tf.constant([[0.2], [0.3]])
        losses = sess.run(cgan.build_losses(d_real, d_fake))
    log_img = -np.log(np.array([0.9, 0.6]) + 1e-10).mean()
    log_gen = -np.log(1 - np.array([0.2, 0.3]) + 1e-10).mean()
    np.testing.assert_allclose(losses.log_dis_img, log_img, rtol=1e-6)
    np.testing.assert_allclose(losses.log_dis_gen_z, log_gen, rtol=1e-6)
    np.testing.assert_allclose(losses.L_gen, -log_gen, rtol=1e-6)
    np.testing.assert_allclose(losses.L_dis, 0.5 * (log_img + log_gen), rtol=1e-6)
    sess.close()


def test_label_tiling_puts_the_one_hot_at_every_position():
    sess = make_session()
    with sess.graph.as_default():
        maps = tf_keras.layers.Input(shape=(14, 14, 5))
        units = tf_keras.layers.Input(shape=(10,))
        out = cgan.add_units_to_conv2d(maps, units)
        model = tf_keras.Model([maps, units], out)
        m = np.random.default_rng(0).standard_normal((3, 14, 14, 5)).astype("float32")
        labels = np.eye(10, dtype="float32")[[2, 7, 9]]
        result = sess.run(model.output, {maps: m, units: labels})
    assert result.shape == (3, 14, 14, 15)
    np.testing.assert_array_equal(result[..., :5], m)
    for k in range(3):
        np.testing.assert_array_equal(result[k, :, :, 5:], np.broadcast_to(labels[k], (14, 14, 10)))
    sess.close()


def test_discriminator_sees_the_label(cgan_graph, batch):
    x, y, _ = batch
    g = cgan_graph
    run = lambda lab: g.sess.run(g.discr_img, {g.inputs.x_: x, g.inputs.y_: lab, g.learning_phase: 0})
    other = np.roll(y, 1, axis=1)
    assert not np.allclose(run(y), run(other))


@pytest.mark.parametrize("fused, fast", [(True, True), (False, False)])
def test_the_settings_choose_the_layers_and_the_variables_keep_the_articles_names(fused, fast):
    """The same build_generator / build_discriminator build the article's plain layers or our
    exact rewrites (cgan.layers), as the settings say; the variables are named alike."""
    from cgan.layers import Stride2Conv2D, UpsampledConv2D

    settings = cgan.Settings(batch_size=4, fused_upsampling=fused, fast_stride2_grad=fast, seed=0)
    g = cgan.GANGraph(settings)
    try:
        kinds = {type(layer).__name__ for layer in g.generator.layers + g.discrim.layers}
        assert ("UpSampling2D" in kinds) != fused and (UpsampledConv2D.__name__ in kinds) == fused
        assert (Stride2Conv2D.__name__ in kinds) == fast
        names = sorted(v.name for v in g.generator.weights + g.discrim.weights)
        assert names == sorted(f"{scope}/{layer}/{w}:0" for scope, layers in
                               (("generator", ("dense", "conv2d", "conv2d_1", "conv2d_2")),
                                ("discrim", ("conv2d_3", "conv2d_4", "dense_1")))
                               for layer in layers for w in ("kernel", "bias"))
    finally:
        g.close()


def test_the_fused_upsampling_takes_only_a_factor_of_2():
    from cgan.layers import article_layers

    with pytest.raises(ValueError, match=r"size=\(2, 2\), got \(3, 3\)"):
        article_layers(cgan.Settings()).UpSampling2D(size=(3, 3))
