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
    largest difference in any array, over the largest TF1 update in that array."""
    return max(float(np.max(np.abs((b - s) - (a - s))) / np.max(np.abs(a - s)))
               for a, b, s in zip(all_weights(tf1), all_weights(k3), start) if np.any(a != s))


@pytest.mark.parametrize("conditional", [True, False])
def test_keras3_steps_are_the_tf1_graphs_steps(small_data, conditional):
    """With the same initial weights, batches and z, and dropout off (rate 0), 8 steps of the
    Keras 3 code and of the TF1 graph give the same losses (to 1e-5), and updates of every weight
    array that agree to 1% of that array's largest update (measured: up to 0.4%, in the generator,
    whose gradients pass through the discriminator; Keras 3's stock RMSprop is off by more than
    100%, below). Learning rates of 1e-2, so that the updates stand well above float32's rounding
    of the weights."""
    settings = Settings(seed=3, batch_size=32, dropout_rate=0.0, conditional=conditional, lr_gen=1e-2, lr_dis=1e-2)
    tf1, k3 = GANGraph(settings), KerasGAN(settings.replace(idiom="keras3"))
    try:
        copy_weights(tf1, k3)
        start = all_weights(tf1)
        losses_tf1, losses_k3 = run_steps(tf1, small_data, 8), run_steps(k3, small_data, 8)
        np.testing.assert_allclose(losses_k3, losses_tf1, rtol=1e-5)
        assert tf1.last_terms == pytest.approx(k3.last_terms, rel=1e-5)
        assert update_error(tf1, k3, start) < 1e-2
    finally:
        tf1.close()


def test_stock_keras3_rmsprop_is_not_the_articles(small_data):
    """Why ArticleRMSprop exists: Keras 3's own RMSprop (mean square from 0, epsilon 1e-7) takes
    other steps than TF1's RMSPropOptimizer: its updates are off by far more than the tolerance above."""
    settings = Settings(seed=3, batch_size=32, dropout_rate=0.0, lr_gen=1e-2, lr_dis=1e-2)
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


def test_article_rmsprop_is_tf1s_update():
    """One update by hand: TF1's RMSProp starts the mean square at 1, with epsilon 1e-10."""
    variable = keras3.keras.Variable(np.array([1.0, -2.0], "float32"))
    optimizer = keras3.ArticleRMSprop(0.1)
    grad = np.array([0.5, -3.0], "float32")
    optimizer.apply_gradients([(keras3.tf.constant(grad), variable)])
    ms = 0.9 * 1.0 + 0.1 * grad ** 2
    np.testing.assert_allclose(np.asarray(variable), [1.0, -2.0] - 0.1 * grad / np.sqrt(ms + 1e-10), rtol=1e-6)


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
