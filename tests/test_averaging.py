"""The averaged generator (Settings.ema_decay, ours): bit-neutral to training, resumable, loadable."""
import numpy as np
import pytest

import cgan
from cgan.averaging import WeightAverage
from conftest import TINY


def _all_variables(trainer):
    """Every variable of the graph: weights and both optimizers' RMSProp slots."""
    from cgan import tf

    with trainer.graph.graph.as_default():
        variables = tf.compat.v1.global_variables()
    return dict(zip([v.name for v in variables], trainer.graph.sess.run(variables)))


def test_averaging_changes_no_bit_of_training(small_data, tmp_path):
    settings = TINY.replace(iterations=6)
    plain = cgan.train(settings, tmp_path / "plain", progress=False, data=small_data)
    averaged = cgan.train(settings.replace(ema_decay=(0.9, 0.5)), tmp_path / "averaged", progress=False,
                          data=small_data)
    a, b = _all_variables(plain), _all_variables(averaged)
    assert a.keys() == b.keys() and any("RMSProp" in k for k in a)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    assert plain.history.__dict__ == averaged.history.__dict__
    # and the averages are not the trained weights, but the decay-weighted mean of the path
    trained = averaged.graph.sess.run(averaged.generator_weights)
    assert averaged.average.updates == 6
    assert not all(np.array_equal(x, y) for x, y in zip(averaged.average.averages[0.9], trained))
    for r in (plain, averaged):
        r.close()


def test_average_update_is_the_exponential_moving_average():
    start = [np.zeros(3, "float32"), np.ones((2, 2), "float32")]
    avg = WeightAverage((0.9, 0.5), start)
    avg.update([np.full(3, 10, "float32"), np.zeros((2, 2), "float32")])
    np.testing.assert_allclose(avg.averages[0.9][0], 1.0)
    np.testing.assert_allclose(avg.averages[0.5][1], 0.5)
    again = WeightAverage.from_state(avg.state_dict())
    assert again.updates == 1 and again.decays == (0.9, 0.5)
    np.testing.assert_array_equal(again.averages[0.9][1], avg.averages[0.9][1])


def test_averaged_generator_is_saved_and_loaded(small_data, tmp_path):
    t = cgan.train(TINY.replace(ema_decay=(0.9, 0.5)), tmp_path / "run", progress=False, data=small_data)
    path = tmp_path / "run" / "generator.npz"
    z = np.zeros((2, 2), "float32")
    drawn = {}
    for averaged in (False, True, 0.9, 0.5):
        g = cgan.load_generator(path=path, averaged=averaged)
        drawn[averaged] = g.generate(z, [3, 4])
        g.close()
    np.testing.assert_array_equal(drawn[True], drawn[0.9])  # True: the first decay
    assert not np.array_equal(drawn[False], drawn[0.9])
    assert not np.array_equal(drawn[0.9], drawn[0.5])
    np.testing.assert_array_equal(drawn[False], t.graph.generate(z, [3, 4]))
    with pytest.raises(ValueError, match="holds no 'ema_0.7' weights"):
        cgan.load_generator(path=path, averaged=0.7)
    with pytest.raises(ValueError, match="accepted: False, True or a decay"):
        cgan.load_generator(path=path, averaged=2)
    plain = cgan.train(TINY, tmp_path / "plain", progress=False, data=small_data)
    with pytest.raises(ValueError, match="holds no averaged generator"):
        cgan.load_generator(path=tmp_path / "plain" / "generator.npz", averaged=True)
    t.close()
    plain.close()


@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.1, "0.9", (0.9, 0.9), (0.9, 2)])
def test_bad_ema_decay_is_refused(bad):
    with pytest.raises(ValueError, match="ema_decay"):
        cgan.Settings(ema_decay=bad)


def test_ema_decay_travels_as_a_tuple():
    s = cgan.Settings(ema_decay=0.999)
    assert s.ema_decay == (0.999,)
    assert cgan.Settings.from_dict(s.to_dict()) == s
    assert cgan.Settings(ema_decay=None).ema_decay is None


def test_shipped_averaged_generator_draws_the_labels_asked_for():
    from cgan import metrics

    g = cgan.load_generator("cgan", averaged=True)  # the study's seed-2017 run, its first decay (0.99)
    assert g.settings.ema_decay == (0.99, 0.999) and g.settings.seed == 2017
    digits = cgan.manifold_digits(g).reshape(-1, 28, 28, 1)
    accuracy = metrics.conditional_accuracy(digits, np.repeat(np.arange(10), 225))["overall"]
    assert accuracy >= 0.95
    trained = cgan.load_generator(path=cgan.graph.WEIGHTS_DIR / "cgan_generator_averaged.npz")
    z = np.zeros((1, 2), "float32")
    assert not np.array_equal(trained.generate(z, [3]), g.generate(z, [3]))
    for graph in (g, trained):
        graph.close()
    with pytest.raises(FileNotFoundError, match="no averaged gan generator ships"):
        cgan.load_generator("gan", averaged=True)
