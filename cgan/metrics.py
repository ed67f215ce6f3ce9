"""Numbers that judge generated digits (the article reports none).

- conditional accuracy: the share of digits that an independent classifier
  (:mod:`cgan.classifier`) reads as the label they were drawn for;
- Fréchet distance between the classifier's penultimate features of two sets;
- class coverage: the histogram of classes a set is read as;
- Parzen-window log-likelihood with the protocol of Goodfellow et al. 2014
  (Table 1): a Gaussian window whose sigma is chosen from logspace(-1, 0, 10) on
  a validation split, then the mean test log-likelihood and its standard error.

``evaluate`` computes all of them for one generator; ``evaluate_rows`` adds real
test digits (the ceiling) and an untrained generator (the floor).
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from scipy import linalg

from . import checks
from .files import atomic_path
from .classifier import Classifier, load_classifier
from .manifold import manifold_digits

PAPER_PARZEN = {"GAN (Goodfellow et al. 2014)": (225.0, 2.0),
                "Conditional GAN (Mirza & Osindero 2014)": (132.0, 1.8)}
SIGMAS = np.logspace(-1, 0, 10)


def _images(name: str, images: Any) -> np.ndarray:
    arr = checks.array(name, images, ndim=(3, 4), kinds="fiu")
    return arr.reshape(len(arr), 28, 28, 1).astype("float32") if arr.size else arr.reshape(0, 28, 28, 1)


def conditional_accuracy(images: Any, labels: Any, classifier: Classifier | None = None) -> dict:
    """Share of ``images`` (N, 28, 28[, 1]) that the classifier reads as ``labels`` (N,):
    ``{"overall": float, "per_label": [10 floats]}`` (NaN for a label with no image)."""
    images = _images("images", images)
    labels = checks.array("labels", labels, ndim=1, kinds="iu")
    if len(labels) != len(images):
        raise ValueError(f"got {len(images)} images but {len(labels)} labels")
    pred = (classifier or load_classifier()).predict(images).argmax(1)
    hit = pred == labels
    per = [float(hit[labels == c].mean()) if np.any(labels == c) else math.nan for c in range(10)]
    return {"overall": float(hit.mean()) if len(hit) else math.nan, "per_label": per}


def frechet_distance(a: Any, b: Any) -> float:
    """Fréchet distance between Gaussians fitted to feature sets ``a`` (N, d) and ``b`` (M, d)."""
    a = checks.array("a", a, ndim=2)
    b = checks.array("b", b, ndim=2)
    if a.shape[1] != b.shape[1] or len(a) < 2 or len(b) < 2:
        raise ValueError(f"a and b must be (N, d) and (M, d) with N, M >= 2, got {a.shape} and {b.shape}")
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    with warnings.catch_warnings():  # dead ReLU features make the product singular: handled below
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        covmean = linalg.sqrtm(cov_a @ cov_b)
    if not np.all(np.isfinite(covmean)):  # near-singular product: regularise, as the FID reference code does
        eps = np.eye(len(cov_a)) * 1e-6
        covmean = linalg.sqrtm((cov_a + eps) @ (cov_b + eps))
    covmean = covmean.real
    return float(max(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b) - 2 * np.trace(covmean), 0.0))


def feature_distance(images_a: Any, images_b: Any, classifier: Classifier | None = None) -> float:
    """Fréchet distance between two image sets on the classifier's penultimate features."""
    clf = classifier or load_classifier()
    return frechet_distance(clf.features(_images("images_a", images_a)), clf.features(_images("images_b", images_b)))


def class_coverage(images: Any, classifier: Classifier | None = None) -> list[float]:
    """Share of ``images`` read as each class 0..9."""
    pred = (classifier or load_classifier()).predict(_images("images", images)).argmax(1)
    return (np.bincount(pred, minlength=10) / max(len(pred), 1)).tolist()


def parzen_log_likelihoods(samples: Any, points: Any, sigmas: Any = SIGMAS, chunk: int = 256) -> np.ndarray:
    """log p(x) of each point under a Gaussian Parzen window on ``samples``, for each sigma.

    ``samples`` (N, ...) and ``points`` (M, ...) are flattened to vectors.
    Returns (len(sigmas), M) float64.
    """
    s = checks.array("samples", samples).reshape(len(samples), -1).astype("float64")
    x = checks.array("points", points).reshape(len(points), -1).astype("float64")
    sig = checks.array("sigmas", sigmas, ndim=1).astype("float64")
    if s.shape[1] != x.shape[1] or not len(s) or np.any(sig <= 0):
        raise ValueError(f"samples and points must have the same width and sigmas be > 0; got {s.shape}, "
                         f"{x.shape}, sigmas {sig}")
    n, d = s.shape
    s_sq = (s ** 2).sum(1)
    out = np.empty((len(sig), len(x)))
    for start in range(0, len(x), chunk):
        xb = x[start:start + chunk]
        d2 = np.maximum((xb ** 2).sum(1)[:, None] + s_sq[None, :] - 2 * xb @ s.T, 0.0)  # (chunk, N)
        for k, sigma in enumerate(sig):
            a = -d2 / (2 * sigma ** 2)
            m = a.max(1, keepdims=True)
            lse = (m[:, 0] + np.log(np.exp(a - m).sum(1)))
            out[k, start:start + chunk] = lse - math.log(n) - d / 2 * math.log(2 * math.pi * sigma ** 2)
    return out


def parzen(samples: Any, validation: Any, test: Any, sigmas: Any = SIGMAS) -> dict:
    """Goodfellow et al.'s protocol: the sigma with the best mean validation
    log-likelihood, then the test set's mean log-likelihood and its standard error."""
    val = parzen_log_likelihoods(samples, validation, sigmas).mean(1)
    best = int(np.argmax(val))
    ll = parzen_log_likelihoods(samples, test, [np.asarray(sigmas)[best]])[0]
    return {"sigma": float(np.asarray(sigmas)[best]), "mean": float(ll.mean()),
            "se": float(ll.std(ddof=1) / math.sqrt(len(ll))), "validation_means": val.tolist()}


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


CEILING = "real test digits (ceiling)"


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


def report(rows: dict[str, dict], per_label_of: str) -> str:
    """The evaluation in Markdown: :func:`table` of ``rows``, then the per-label table of the
    conditional row named ``per_label_of``."""
    return f"{table(rows)}\n\n{per_label_of}, per label:\n\n{per_label_table(rows[per_label_of])}\n"


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


def table(rows: dict[str, dict]) -> str:
    """A Markdown table of evaluated rows (name -> :func:`evaluate` result), with the papers' Parzen figures."""
    def pct(row, key):
        return f"{100 * row[key]['overall']:.1f}%" if key in row else "n/a"

    def parzen_cell(row):
        p = row.get("parzen")
        return f"{p['mean']:.0f} ± {p['se']:.1f} (σ={p['sigma']:.3f})" if p else "not run"

    lines = ["| model | accuracy, manifold | accuracy, random z | Fréchet distance | classes ≥ 5% | "
             "largest class share | Parzen log-likelihood |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for name, row in rows.items():
        cov = row["coverage"]
        lines.append(f"| {name} | {pct(row, 'accuracy_manifold')} | {pct(row, 'accuracy_random_z')} | "
                     f"{row['fd']:.2f} | {sum(c >= 0.05 for c in cov)} | {max(cov):.2f} | {parzen_cell(row)} |")
    for name, (mean, se) in PAPER_PARZEN.items():
        lines.append(f"| {name}, paper | | | | | | {mean:.0f} ± {se} |")
    return "\n".join(lines)


def per_label_table(row: dict) -> str:
    """Per-label accuracy and Fréchet distance of one conditional row."""
    lines = ["| label | " + " | ".join(str(c) for c in range(10)) + " |", "|---" * 11 + "|"]
    for key, title in (("accuracy_manifold", "accuracy, manifold"), ("accuracy_random_z", "accuracy, random z")):
        lines.append(f"| {title} | " + " | ".join(f"{100 * v:.0f}%" for v in row[key]["per_label"]) + " |")
    lines.append("| Fréchet distance | " + " | ".join(f"{v:.1f}" for v in row["fd_per_label"]) + " |")
    return "\n".join(lines)


def plot_curves(curves: dict, path) -> None:
    """Manifold accuracy and Fréchet distance over training, one PNG: ``curves`` as
    :func:`snapshot_curves` returns them, or several by name (a line and a legend entry each)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    path = checks.output_file("path", path)
    several = "batch" not in curves
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.5))
    for name, c in (curves.items() if several else [(None, curves)]):
        ax1.plot(c["batch"], [100 * a for a in c["accuracy_manifold"]], label=name, lw=1 if several else None)
        ax2.plot(c["batch"], c["fd"], label=name, lw=1 if several else None)
    if several:
        ax1.legend(fontsize=8)
    ax1.set(xlabel="iteration", ylabel="conditional accuracy on the manifolds, %", ylim=(0, 100))
    ax2.set(xlabel="iteration", ylabel="Fréchet distance to the test set", yscale="log")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_path(path, keep_suffix=True) as tmp:
        fig.savefig(tmp, dpi=80)
    plt.close(fig)
