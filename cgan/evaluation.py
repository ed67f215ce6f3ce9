"""Generators measured: :func:`evaluate` runs one generator and computes every metric of
:mod:`cgan.metrics` on its digits; :func:`evaluate_rows` adds real test digits (the ceiling)
and an untrained generator (the floor); :func:`snapshot_curves` measures a run folder's
manifold snapshots over training. The tables and plots are :mod:`cgan.evaluation_report`."""
from __future__ import annotations

from typing import Any

import numpy as np

from .classifier import Classifier, load_classifier
from .manifold import manifold_digits
from .metrics import class_coverage, conditional_accuracy, frechet_distance, parzen

CEILING = "real test digits (ceiling)"


def generate_set(graph, per_label: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
    """``per_label`` digits of each class from random z ~ N(0, I) (CGAN), or
    ``10 * per_label`` digits (plain GAN, labels None)."""
    s = graph.settings
    n = per_label * s.num_classes
    z = rng.standard_normal((n, s.latent_dim)).astype("float32")
    if not s.conditional:
        return graph.generate(z), None
    labels = np.repeat(np.arange(s.num_classes), per_label)
    return graph.generate(z, labels), labels


def _fd_per_label(feats: np.ndarray, labels: np.ndarray, test_feats: np.ndarray, test_labels: np.ndarray) -> list:
    """Fréchet distance of each class's features to that class's test features."""
    return [frechet_distance(feats[labels == c], test_feats[test_labels == c]) for c in range(10)]


def evaluate(graph, data, per_label: int = 1000, seed: int = 0, classifier: Classifier | None = None,
             with_parzen: bool = True) -> dict:
    """Every metric for one generator (a :class:`cgan.GANGraph`) against MNIST ``data``
    (:func:`cgan.load_data`). The Parzen validation split is the last 10,000 training images."""
    clf = classifier or load_classifier()
    rng = np.random.default_rng(seed)
    images, labels = generate_set(graph, per_label, rng)
    test_feats = clf.features(data.x_test)
    feats = clf.features(images)
    row: dict[str, Any] = {"samples": len(images), "fd": frechet_distance(feats, test_feats),
                           "coverage": class_coverage(images, clf)}
    if labels is not None:
        row["accuracy_random_z"] = conditional_accuracy(images, labels, clf)
        grid_digits = manifold_digits(graph)  # (num_classes, cells, 28, 28)
        grid_labels = np.repeat(np.arange(len(grid_digits)), grid_digits.shape[1])
        row["accuracy_manifold"] = conditional_accuracy(grid_digits.reshape(-1, 28, 28, 1), grid_labels, clf)
        row["fd_per_label"] = _fd_per_label(feats, labels, test_feats, data.y_test)
    if with_parzen:
        row["parzen"] = parzen(images, data.x_train[-10000:], data.x_test)
    return row


def evaluate_real(data, n: int = 10000, classifier: Classifier | None = None, with_parzen: bool = True) -> dict:
    """The ceiling: the same metrics for real digits. The 'generated' set is the
    first ``n`` training images (outside the Parzen validation split), judged
    against the test set; accuracy is the classifier's on the test set itself."""
    clf = classifier or load_classifier()
    real, real_labels = data.x_train[:n], data.y_train[:n].astype("int64")
    test_feats, feats = clf.features(data.x_test), clf.features(real)
    acc = conditional_accuracy(data.x_test, data.y_test.astype("int64"), clf)
    row = {"samples": n, "fd": frechet_distance(feats, test_feats), "coverage": class_coverage(real, clf),
           "accuracy_random_z": acc, "accuracy_manifold": acc,
           "fd_per_label": _fd_per_label(feats, real_labels, test_feats, data.y_test)}
    if with_parzen:
        row["parzen"] = parzen(real, data.x_train[-10000:], data.x_test)
    return row


def floor_name(conditional: bool) -> str:
    return f"untrained {'CGAN' if conditional else 'GAN'} (floor)"


def evaluate_rows(generators: dict, data, per_label: int = 1000, with_parzen: bool = True,
                  floors: tuple[bool, ...] = (True,), classifier: Classifier | None = None) -> dict[str, dict]:
    """The evaluation table's rows: the ceiling (real test digits), the floor of an untrained
    generator for each of ``floors`` (True: the CGAN, False: the plain GAN), then each of
    ``generators`` (name -> graph). Used by the notebook and ``python -m cgan evaluate``."""
    from .graph import GANGraph
    from .settings import Settings

    clf = classifier or load_classifier()
    rows = {CEILING: evaluate_real(data, 10 * per_label, clf, with_parzen)}
    for conditional in floors:
        untrained = GANGraph(Settings(seed=0, conditional=conditional))
        try:
            rows[floor_name(conditional)] = evaluate(untrained, data, per_label, classifier=clf,
                                                     with_parzen=with_parzen)
        finally:
            untrained.close()
    for name, graph in generators.items():
        rows[name] = evaluate(graph, data, per_label, classifier=clf, with_parzen=with_parzen)
    return rows


def snapshot_curves(run_dir, classifier: Classifier | None = None, data=None) -> dict:
    """Manifold conditional accuracy and Fréchet distance (to the test set) at each
    stored snapshot of a CGAN run folder, for curves over training. Reads only."""
    from .data import load_data
    from .manifold import untile
    from .runfolder import saved_settings
    from .snapshots import read_snapshots

    settings = saved_settings(run_dir)
    if not settings.conditional:
        raise ValueError(f"{run_dir} holds a plain GAN run; curves need a CGAN's labelled manifolds")
    clf = classifier or load_classifier()
    data = data if data is not None else load_data()
    test_feats = clf.features(data.x_test)
    periods, figures = read_snapshots(run_dir)
    n = settings.grid_size
    acc, fd = [], []
    for pictures in figures:  # (n_labels, 28n, 28n) uint8
        digits = untile(pictures, n).reshape(-1, 28, 28)
        digits = digits.astype("float32") / 255.0
        labels = np.repeat(np.arange(len(pictures)), n * n)
        acc.append(conditional_accuracy(digits, labels, clf)["overall"])
        fd.append(frechet_distance(clf.features(digits), test_feats))
    return {"batch": [p * settings.batches_per_period for p in periods], "accuracy_manifold": acc, "fd": fd}
