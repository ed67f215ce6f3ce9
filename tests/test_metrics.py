import json
import math

import numpy as np
import pytest
from scipy import ndimage

from cgan import evaluation, metrics
from cgan.classifier import WEIGHTS, load_classifier


@pytest.fixture(scope="module")
def clf():
    return load_classifier()


def test_shipped_classifier_reaches_its_stated_accuracy(clf, mnist):
    with np.load(WEIGHTS) as npz:
        meta = json.loads(str(npz["meta"]))
    assert meta["test_accuracy"] >= 0.99
    acc = (clf.predict(mnist.x_test[:2000]).argmax(1) == mnist.y_test[:2000]).mean()
    assert acc == pytest.approx(meta["test_accuracy_first_2000"], abs=1e-6)


def test_real_digits_score_near_the_classifier_accuracy_and_noise_near_chance(clf, mnist):
    real = metrics.conditional_accuracy(mnist.x_test[:2000], mnist.y_test[:2000].astype(int), clf)
    assert real["overall"] > 0.98 and min(real["per_label"]) > 0.9
    rng = np.random.default_rng(0)
    noise = rng.random((2000, 28, 28)).astype("float32")
    chance = metrics.conditional_accuracy(noise, rng.integers(0, 10, 2000), clf)
    assert abs(chance["overall"] - 0.1) < 0.03


def test_frechet_distance_is_zero_to_itself_and_grows_with_shift_and_blur(clf, mnist):
    x = mnist.x_test[:2000]
    assert metrics.feature_distance(x, x, clf) == pytest.approx(0, abs=1e-6)
    other_half = metrics.feature_distance(x, mnist.x_test[2000:4000], clf)
    shifted = metrics.feature_distance(x, np.roll(x, 3, axis=2), clf)
    blurred = metrics.feature_distance(x, ndimage.gaussian_filter(x, sigma=(0, 1.5, 1.5, 0)), clf)
    more_blurred = metrics.feature_distance(x, ndimage.gaussian_filter(x, sigma=(0, 3, 3, 0)), clf)
    assert other_half < shifted and other_half < blurred < more_blurred


def test_frechet_distance_of_gaussians_is_analytic():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((20000, 3))
    b = rng.standard_normal((20000, 3)) * 2 + 1
    # ||mu_a - mu_b||^2 + tr(I + 4I - 2*2I) = 3 + 3
    assert metrics.frechet_distance(a, b) == pytest.approx(6.0, rel=0.03)


def test_parzen_on_a_toy_gaussian_matches_the_analytic_log_likelihood():
    rng = np.random.default_rng(1)
    s, sigma, d = 0.5, 0.2, 2
    samples = rng.normal(0, s, (40000, d))
    points = rng.normal(0, s, (500, d))
    ll = metrics.parzen_log_likelihoods(samples, points, [sigma])[0]
    var = s ** 2 + sigma ** 2  # the window smooths N(0, s^2) into N(0, s^2 + sigma^2)
    exact = -0.5 * (points ** 2).sum(1) / var - d / 2 * math.log(2 * math.pi * var)
    assert np.abs(ll - exact).mean() < 0.03


def test_parzen_protocol_picks_the_best_validation_sigma():
    rng = np.random.default_rng(2)
    samples, val, test = (rng.normal(0, 0.3, (n, 4)) for n in (3000, 300, 300))
    res = metrics.parzen(samples, val, test)
    assert res["sigma"] == pytest.approx(metrics.SIGMAS[int(np.argmax(res["validation_means"]))])
    assert res["se"] > 0 and np.isfinite(res["mean"])


def test_class_coverage_sums_to_one(clf, mnist):
    cov = metrics.class_coverage(mnist.x_test[:1000], clf)
    assert len(cov) == 10 and sum(cov) == pytest.approx(1)
    assert max(cov) < 0.2  # real digits cover every class


def test_evaluate_untrained_generator_is_the_floor(clf, mnist, cgan_graph, gan_graph):
    row = evaluation.evaluate(cgan_graph, mnist, per_label=20, classifier=clf, with_parzen=False)
    assert row["samples"] == 200 and row["accuracy_manifold"]["overall"] < 0.5 and row["fd"] > 10
    plain = evaluation.evaluate(gan_graph, mnist, per_label=20, classifier=clf, with_parzen=False)
    assert "accuracy_manifold" not in plain and sum(plain["coverage"]) == pytest.approx(1)


@pytest.mark.parametrize("call, match", [
    (lambda: metrics.frechet_distance(np.zeros((5, 3)), np.zeros((5, 4))), "same|must be"),
    (lambda: metrics.conditional_accuracy(np.zeros((3, 28, 28)), [1, 2]), "3 images but 2 labels"),
    (lambda: metrics.parzen_log_likelihoods(np.zeros((3, 2)), np.zeros((3, 2)), [0.0]), "sigmas be > 0"),
])
def test_metrics_reject_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_evaluate_command_writes_the_table_and_curves(small_data, tmp_path, capsys):
    import cgan
    from cgan.cli import main
    from conftest import TINY

    for name, conditional in (("cgan", True), ("gan", False)):
        cgan.train(TINY.replace(conditional=conditional), tmp_path / name, progress=False,
                   data=small_data).close()
    figs = tmp_path / "figs"
    assert main(["evaluate", "--cgan", str(tmp_path / "cgan" / "generator.npz"), "--gan",
                 str(tmp_path / "gan" / "generator.npz"), "--curves-run", str(tmp_path / "cgan"),
                 "--figs-dir", str(figs), "--per-label", "5", "--no-parzen"]) == 0
    report = json.loads((figs / "metrics.json").read_text())
    assert len(report["rows"]) == 5 and report["command"].startswith("python -m cgan evaluate")
    assert report["curves"]["batch"] == [0, 2]  # TINY snapshots periods 0 and 2, one batch a period
    assert (figs / "metrics_over_training.png").is_file()
    md = (figs / "metrics.md").read_text()
    assert "real test digits (ceiling)" in md and "225 ± 2.0" in md and "Fréchet distance" in md
    assert md in capsys.readouterr().out


def test_the_evaluation_table_names_its_frechet_distance_random_z():
    """The table's Fréchet distance is that of random-z samples (the study's other one is the
    manifolds'), in the table and per label."""
    from cgan import evaluation_report

    row = {"fd": 9.84, "coverage": [0.1] * 10, "accuracy_manifold": {"overall": 0.99, "per_label": [0.99] * 10},
           "accuracy_random_z": {"overall": 0.98, "per_label": [0.98] * 10}, "fd_per_label": [40.0] * 10}
    md = evaluation_report.report({"trained CGAN": row}, "trained CGAN")
    assert "| accuracy, random z | Fréchet distance, random z | classes ≥ 5% |" in md
    assert "| Fréchet distance, random z | 40.0 | 40.0 |" in md
    assert md.count("Fréchet distance") == md.count("Fréchet distance, random z") == 2


def test_evaluate_command_rejects_a_missing_generator(tmp_path, capsys):
    from cgan.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["evaluate", "--cgan", str(tmp_path / "none.npz"), "--figs-dir", str(tmp_path), "--no-parzen",
              "--per-label", "2"])
    assert exc.value.code == 2 and "generator weights not found" in capsys.readouterr().err


def test_shipped_cgan_generator_draws_the_digits_it_is_asked_for(clf):
    # the generator trained by the full 5000-iteration run (figs/README.md): 99.3% of its
    # manifold digits are read as their label, every label 96.9% or more
    import cgan

    g = cgan.load_generator("cgan")
    assert g.settings == cgan.Settings(seed=2017)
    digits = cgan.manifold_digits(g)
    assert digits.shape == (10, g.settings.grid_size ** 2, 28, 28)
    labels = np.repeat(np.arange(10), digits.shape[1])
    acc = metrics.conditional_accuracy(digits.reshape(-1, 28, 28, 1), labels, clf)
    assert acc["overall"] > 0.985
    assert min(acc["per_label"]) > 0.95
    g.close()
