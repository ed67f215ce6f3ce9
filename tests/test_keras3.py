"""cgan.keras3: the article's GAN in Keras 3 is the TF1 graph's algorithm (same weights, batches
and z, dropout off: the same losses and weights after a run of steps), and it trains through
the package's loop, run folder and study as the graph does."""
from __future__ import annotations

import numpy as np
import pytest

import cgan
from cgan import GANGraph, Settings, keras3
from cgan.keras3 import KerasGAN


def copy_weights(tf1: GANGraph, k3: KerasGAN) -> None:
    """The TF1 graph's initial weights into the Keras 3 models (the same layers, in order)."""
    for source, target in ((tf1.generator.weights, k3.generator.trainable_variables),
                           (tf1.discrim.weights, k3.discrim.trainable_variables)):
        values = tf1.sess.run(source)
        assert [v.shape for v in values] == [tuple(t.shape) for t in target]
        for variable, value in zip(target, values):
            variable.assign(value)


def run_steps(gan, data, steps: int, seed: int = 0) -> list[float]:
    """``steps`` D and G steps in turn on batches and z drawn from ``seed``; the L_dis of each."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(steps):
        idx = rng.integers(0, len(data.x_train), 32)
        z = rng.standard_normal((32, gan.settings.latent_dim)).astype("float32")
        step = gan.step_d if i % 2 == 0 else gan.step_g
        out.append(step(data.x_train[idx], data.y_train_cat[idx], z))
    return out


def all_weights(gan) -> list[np.ndarray]:
    if isinstance(gan, GANGraph):
        return gan.sess.run(gan.generator.weights + gan.discrim.weights)
    return [np.asarray(v) for v in gan.generator.trainable_variables + gan.discrim.trainable_variables]


def update_error(tf1: GANGraph, k3: KerasGAN, start: list[np.ndarray]) -> float:
    """How far the Keras 3 code's weight updates since ``start`` are from the TF1 graph's: the
    largest difference in any array, over the largest TF1 update in that array (an array that
    only one of them changed counts as infinitely far)."""
    errors = []
    for a, b, s in zip(all_weights(tf1), all_weights(k3), start):
        moved = np.max(np.abs(a - s))
        if moved == 0:
            errors.append(0.0 if np.array_equal(b, s) else np.inf)
        else:
            errors.append(float(np.max(np.abs(b - a)) / moved))
    return max(errors)


@pytest.mark.parametrize("conditional", [True, False])
def test_keras3_steps_are_the_tf1_graphs_steps(small_data, conditional):
    """With the same initial weights, batches and z, and dropout off (rate 0), 8 steps of the
    Keras 3 code and of the TF1 graph with the article's plain layers give the same losses (to 1e-5),
    and updates of every weight array that agree to 0.5% of that array's largest update (float
    rounding, grown over the steps: the TF1 graph's default exact rewrites differ from its plain
    layers by as much; Keras 3's stock RMSprop is off by more than 100%, below). Learning rates of
    1e-2 (G) and 3e-3 (D), unequal so that swapping them shows, and large so that the updates stand
    well above float32's rounding of the weights."""
    settings = Settings(seed=3, batch_size=32, dropout_rate=0.0, conditional=conditional, lr_gen=1e-2, lr_dis=3e-3,
                        fused_upsampling=False, fast_stride2_grad=False)
    tf1, k3 = GANGraph(settings), KerasGAN(settings.replace(idiom="keras3"))
    try:
        copy_weights(tf1, k3)
        start = all_weights(tf1)
        losses_tf1, losses_k3 = run_steps(tf1, small_data, 8), run_steps(k3, small_data, 8)
        np.testing.assert_allclose(losses_k3, losses_tf1, rtol=1e-5)
        assert tf1.last_terms == pytest.approx(k3.last_terms, rel=1e-5)
        assert update_error(tf1, k3, start) < 5e-3
    finally:
        tf1.close()


def test_stock_keras3_rmsprop_is_not_the_articles(small_data):
    """Why ArticleRMSprop exists: Keras 3's own RMSprop (mean square from 0, epsilon 1e-7) takes
    other steps than TF1's RMSPropOptimizer: its updates are off by far more than the tolerance above."""
    settings = Settings(seed=3, batch_size=32, dropout_rate=0.0, lr_gen=1e-2, lr_dis=3e-3)
    tf1, k3 = GANGraph(settings), KerasGAN(settings.replace(idiom="keras3"))
    try:
        stock = keras3.keras.optimizers.RMSprop(settings.lr_dis)
        k3._step_dis = keras3.train_step(k3.generator, k3.discrim, k3.discrim, stock, "L_dis")
        copy_weights(tf1, k3)
        start = all_weights(tf1)
        for gan in (tf1, k3):
            run_steps(gan, small_data, 1)
        assert update_error(tf1, k3, start) > 1.0
    finally:
        tf1.close()


@pytest.mark.parametrize("lazily", [False, True], ids=["eagerly", "inside a tf.function"])
def test_article_rmsprop_is_tf1s_update(lazily):
    """Two updates by hand: TF1's RMSProp starts the mean square at 1, with epsilon 1e-10, whether
    the optimizer is built eagerly or on its first apply_gradients inside a tf.function."""
    tf = keras3.tf
    variable = keras3.keras.Variable(np.array([1.0, -2.0], "float32"))
    optimizer = keras3.ArticleRMSprop(0.1)
    grad = np.array([0.5, -3.0], "float32")

    def apply():
        optimizer.apply_gradients([(tf.constant(grad), variable)])
    step = tf.function(apply) if lazily else apply
    expected, ms = np.array([1.0, -2.0]), np.ones(2)
    for _ in range(2):
        step()
        ms = 0.9 * ms + 0.1 * grad.astype("float64") ** 2
        expected = expected - 0.1 * grad / np.sqrt(ms + 1e-10)
        np.testing.assert_allclose(np.asarray(variable), expected, rtol=1e-6)


def _layer_specs(model) -> list[tuple]:
    """A model's computing layers in order, with what decides their math (InputLayers and the
    shape-only Reshape / RepeatVector / Concatenate / Flatten left out)."""
    out = []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind in ("InputLayer", "Reshape", "RepeatVector", "Concatenate", "Flatten"):
            continue
        c = layer.get_config()
        slope = c.get("negative_slope", c.get("alpha"))
        out.append((kind, c.get("filters", c.get("units")), tuple(c.get("kernel_size", ())), tuple(c.get("strides", ())),
                    c.get("padding"), c.get("activation"), c.get("rate"), tuple(c.get("size", ())),
                    None if slope is None else round(float(slope), 6), tuple(c.get("pool_size", ()))))
    return out


@pytest.mark.parametrize("conditional", [True, False])
def test_keras3_models_have_the_articles_layers_in_order(conditional):
    """Layer by layer (kind, sizes, strides, padding, activation, dropout rate, upsampling, slope,
    pooling), the Keras 3 models are the TF1 graph's models with the article's plain layers."""
    settings = Settings(conditional=conditional, fused_upsampling=False, fast_stride2_grad=False)
    tf1, k3 = GANGraph(settings), KerasGAN(settings.replace(idiom="keras3"))
    try:
        for old, new in ((tf1.generator, k3.generator), (tf1.discrim, k3.discrim)):
            assert _layer_specs(new) == _layer_specs(old)
            assert len(_layer_specs(new)) >= 7
    finally:
        tf1.close()


def test_keras3_refuses_what_it_cannot_train(tmp_path):
    with pytest.raises(ValueError, match="idiom='keras3'"):
        KerasGAN(Settings())
    with pytest.raises(ValueError, match="loss='L_x' is invalid"):
        keras3.train_step(None, None, None, None, "L_x")
    with pytest.raises(ValueError, match="seeds must be 3 integers or None"):
        keras3.build_generator(Settings(), seeds=(1, 2))
    gan = KerasGAN(Settings(idiom="keras3", seed=1))
    gan.save(tmp_path)
    other = KerasGAN(Settings(idiom="keras3", seed=1, conditional=False))
    with pytest.raises(ValueError, match=r"holds 37 variables, this KerasGAN has 37; variable 0 is \(\(12, 3136\), '<f4'\) .*expected \(\(2, 3136\)"):
        other.restore(tmp_path)



def test_keras3_training_resumes_exactly_and_its_generator_loads_in_the_tf1_graph(tmp_path, small_data):
    """Settings(idiom='keras3') trains through cgan.train: stopped after 8 iterations and resumed,
    it ends where an uninterrupted run ends (checkpoints hold the models, the optimizers' slots and
    the dropout seeds' state), and its generator.npz draws the same digits in the TF1 graph."""
    settings = Settings(idiom="keras3", seed=5, batch_size=32, iterations=12, batches_per_period=4,
                        save_periods=(0, 1, 2, 3), ema_decay=0.9)
    straight = cgan.train(settings, tmp_path / "straight", progress=False, data=small_data)
    cgan.train(settings.replace(iterations=8), tmp_path / "resumed", progress=False, data=small_data).close()
    resumed = cgan.train(settings, tmp_path / "resumed", progress=False, data=small_data)
    try:
        assert resumed.history.l_dis == straight.history.l_dis
        for a, b in zip(resumed.graph.generator_values(), straight.graph.generator_values()):
            np.testing.assert_array_equal(a, b)
        z = cgan.manifold_z(settings)[:20]
        keras_digits = straight.graph.generate(z, 7)
        tf1 = GANGraph.from_generator_file(tmp_path / "straight" / "generator.npz")
        try:
            np.testing.assert_allclose(tf1.generate(z, 7), keras_digits, atol=1e-5)
        finally:
            tf1.close()
        assert cgan.read_snapshots(tmp_path / "straight")[0] == [0, 1, 2]  # periods at iterations 0, 4, 8
    finally:
        straight.close()
        resumed.close()


def test_keras3_settings_are_checked():
    with pytest.raises(ValueError, match="idiom"):
        Settings(idiom="keras2")
    with pytest.raises(ValueError, match="'fp32' with idiom='keras3'"):
        Settings(idiom="keras3", precision="bf16")
    with pytest.raises(ValueError, match="32 with idiom='keras3'"):
        Settings(idiom="keras3", dropout_mask_bits=16)


def test_keras3_leaves_tensorflows_optimizer_options_as_they_were(small_data):
    """The steps turn grappler's remapper off while they run, and put the options back."""
    tf = keras3.tf
    before = tf.config.optimizer.get_experimental_options()
    gan = KerasGAN(Settings(idiom="keras3", seed=1, batch_size=32))
    run_steps(gan, small_data, 2)
    assert tf.config.optimizer.get_experimental_options() == before


def test_idiom_table_sets_two_studies_side_by_side():
    """cgan.reproduction.idiom_table: each study's CGAN final-G summary, mean ± sd (min–max)."""
    import json
    from pathlib import Path

    from cgan import reproduction

    figs = Path(__file__).resolve().parent.parent / "figs"
    tf1, other = (json.loads((figs / name / "study.json").read_text()) for name in ("study", "study-figure-time"))
    table = reproduction.idiom_table(tf1, other)
    stats = reproduction.final_stats(tf1, "cgan")["accuracy_manifold"]
    row = next(line for line in table.splitlines() if line.startswith("| manifold accuracy |"))
    assert row.split(" | ")[1] == (f"{100 * stats['mean']:.1f}% ± {100 * stats['sd']:.1f}% "
                                   f"({100 * stats['min']:.1f}%–{100 * stats['max']:.1f}%)")
    assert "| seeds judged (of those trained) | 5 | 3 of 5 |" in table
    with pytest.raises(ValueError, match="keras3 must be a seed study's report"):
        reproduction.idiom_table(tf1, {"seeds": []})


def test_the_keras3_studys_readme_sets_it_beside_the_tf1_study():
    """figs/study-keras3/README.md quotes cgan.reproduction.idiom_table of the two committed studies."""
    import json
    from pathlib import Path

    from cgan import reproduction

    figs = Path(__file__).resolve().parent.parent / "figs"
    readme = (figs / "study-keras3" / "README.md").read_text()
    start = ("<!-- idiom table: cgan.reproduction.idiom_table(figs/study/study.json, "
             "figs/study-keras3/study.json) -->\n")
    quoted = readme[readme.index(start) + len(start):readme.index("<!-- end of the idiom table -->")]
    studies = [json.loads((figs / name / "study.json").read_text()) for name in ("study", "study-keras3")]
    assert quoted == reproduction.idiom_table(*studies)
    report = studies[1]
    assert {e["settings"]["idiom"] for e in report["evaluations"]} == {"keras3"}
    assert sorted(e["seed"] for e in report["evaluations"]) == [2017, 2018, 2019]
    assert all(e["iterations"] == 5000 for e in report["evaluations"]) and not report.get("diverged")
