"""Numbers that judge generated digits (the article reports none): arrays in, numbers out.

- conditional accuracy: the share of digits that an independent classifier
  (:mod:`cgan.classifier`) reads as the label they were drawn for;
- Fréchet distance between the classifier's penultimate features of two sets;
- class coverage: the histogram of classes a set is read as;
- Parzen-window log-likelihood with the protocol of Goodfellow et al. 2014
  (Table 1): a Gaussian window whose sigma is chosen from logspace(-1, 0, 10) on
  a validation split, then the mean test log-likelihood and its standard error.

Running generators and reading run folders to measure them is :mod:`cgan.evaluation`;
the tables and plots of the results, :mod:`cgan.evaluation_report`.
"""
from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from scipy import linalg

from . import checks
from .classifier import Classifier, load_classifier

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
