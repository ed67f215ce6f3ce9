"""Pictures read back into digits, and what the classifier makes of them: the article's
published figures (drawn with matplotlib, read from their PNGs), a study seed's picture of its
final manifolds (:func:`seed_picture`, read back by :func:`picture_manifolds`), the plain
GAN's class coverage over its manifold, and the Fréchet distance of a CGAN's manifolds."""
from __future__ import annotations

import math
import os

import numpy as np

from . import checks

GUTTER = 2  # px of white between and around the manifolds of a seed's picture


def read_back_figure(file: str | os.PathLike, grid_size: int = 15) -> np.ndarray:
    """A manifold figure drawn the article's way (matplotlib, "Greys" scaled to the picture's
    range, no axes), read back into its digits: (grid_size**2, 28, 28) ink in [0, 1], row-major.
    The plotted area (the non-white bounding box, inside the axes' frame) is resampled to
    ``28 * grid_size`` px and cut into cells; ink is 1 - grey, stretched to [0, 1]. An
    estimate: resampling blurs."""
    from PIL import Image

    from .manifold import untile

    grid_size = checks.integer("grid_size", grid_size, 1)
    grey = np.asarray(Image.open(file).convert("L"), dtype="float32")
    size = 28 * grid_size
    rows, cols = np.where(grey < 250)
    if len(rows) < 3 or rows.max() - rows.min() < 3 or cols.max() - cols.min() < 3:
        raise ValueError(f"{file} shows no framed manifold to read back (it is blank or nearly so)")
    box = grey[rows.min() + 1:rows.max(), cols.min() + 1:cols.max()]  # inside the axes' frame
    picture = np.asarray(Image.fromarray(box.astype("uint8")).resize((size, size), Image.BILINEAR), "float32")
    ink = 1.0 - picture / 255.0
    ink = (ink - ink.min()) / max(ink.max() - ink.min(), 1e-6)
    return untile(ink, grid_size)


def published_manifolds(folder: str | os.PathLike, grid_size: int = 15) -> dict:
    """The article's published manifold figures (``manifold_0.png`` ... ``manifold_9.png``,
    as in msurtsukov/ae_vae_gan ``figs5/``) read back into digits (:func:`read_back_figure`)
    and judged like ours: manifold accuracy per label and the Fréchet distance of all their
    digits to the test set."""
    from . import metrics
    from .classifier import load_classifier
    from .data import load_data

    folder = checks.path("folder", folder)
    files = [folder / f"manifold_{c}.png" for c in range(10)]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise FileNotFoundError(f"the article's manifold figures are missing: {missing}")
    digits = np.stack([read_back_figure(file, grid_size) for file in files])  # (10, cells, 28, 28)
    clf = load_classifier()
    labels = np.repeat(np.arange(10), digits.shape[1])
    flat = digits.reshape(-1, 28, 28, 1)
    acc = metrics.conditional_accuracy(flat, labels, clf)
    return {"accuracy_manifold": acc,
            "fd_manifold": metrics.frechet_distance(clf.features(flat), clf.features(load_data().x_test))}


def manifold_coverage(digits: np.ndarray, classifier=None) -> dict:
    """How a plain GAN's manifold digits (cells, 28, 28) spread over the classes, as the
    classifier reads them: each class's share, the classes at >= 5% and the smallest share."""
    from . import metrics

    shares = metrics.class_coverage(np.asarray(digits, "float32").reshape(-1, 28, 28, 1), classifier)
    return {"shares": shares, "classes_over_5pct": int(sum(s >= 0.05 for s in shares)),
            "smallest_share": float(min(shares))}


def published_gan_manifold(folder: str | os.PathLike, grid_size: int = 15, classifier=None) -> dict:
    """The article's plain-GAN figure (``GAN_manifold.png`` in ``folder``) read back into
    digits (:func:`read_back_figure`) and its :func:`manifold_coverage`."""
    folder = checks.path("folder", folder)
    file = folder / "GAN_manifold.png"
    if not file.is_file():
        raise FileNotFoundError(f"the article's plain-GAN figure is missing: {file}")
    return manifold_coverage(read_back_figure(file, grid_size), classifier)


def picture_manifolds(picture: np.ndarray, grid_size: int = 15) -> np.ndarray:
    """A seed's picture (:func:`seed_picture`) cut back into its manifolds' digits:
    (manifolds, grid_size**2, 28, 28) ink in [0, 1] (8-bit, as the picture holds them)."""
    from .manifold import untile

    picture = checks.array("picture", picture, ndim=2)
    grid_size = checks.integer("grid_size", grid_size, 1)
    size = 28 * grid_size
    shape = {(1, 1): (1, 1), (2, 5): (2, 5)}
    for rows, cols in shape.values():
        if picture.shape == (rows * size + (rows + 1) * GUTTER, cols * size + (cols + 1) * GUTTER):
            break
    else:
        raise ValueError(f"a seed picture of {grid_size} x {grid_size} manifolds is 1 or 2 x 5 manifolds of {size} px "
                         f"with {GUTTER} px gutters; got one of shape {picture.shape}")
    out = []
    for k in range(rows * cols):
        r, c = divmod(k, cols)
        top, left = GUTTER + r * (size + GUTTER), GUTTER + c * (size + GUTTER)
        ink = (255 - picture[top:top + size, left:left + size].astype("float32")) / 255.0
        out.append(untile(ink, grid_size))
    return np.stack(out)


def manifold_fd(graph, classifier=None, data=None) -> float:
    """Fréchet distance of a CGAN's manifold digits (all labels) to the test set: the
    measure :func:`published_manifolds` can also take of the article's figures."""
    from . import metrics
    from .classifier import load_classifier
    from .data import load_data
    from .manifold import manifold_digits

    clf = classifier or load_classifier()
    data = data if data is not None else load_data()
    digits = manifold_digits(graph).reshape(-1, 28, 28, 1)
    return metrics.frechet_distance(clf.features(digits), clf.features(data.x_test))


def seed_picture(graph) -> np.ndarray:
    """A seed's final manifolds as one uint8 picture: labels 0-4 above 5-9 (the plain GAN:
    its one manifold), each ``28 * grid_size`` px square, 2 px white gutters, dark on white."""
    from .manifold import draw_manifolds, to_uint8

    figures = 255 - to_uint8(draw_manifolds(graph))  # dark digits on white
    n, size = len(figures), figures.shape[1]
    rows, cols = (2, math.ceil(n / 2)) if n > 1 else (1, 1)
    picture = np.full((rows * size + (rows + 1) * GUTTER, cols * size + (cols + 1) * GUTTER), 255, "uint8")
    for k, figure in enumerate(figures):
        r, c = divmod(k, cols)
        top, left = GUTTER + r * (size + GUTTER), GUTTER + c * (size + GUTTER)
        picture[top:top + size, left:left + size] = figure
    return picture
