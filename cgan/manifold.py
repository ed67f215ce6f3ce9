"""The article's manifold pictures: a grid of digits over the first two axes of z.

Since z ~ N(0, I), the grid's nodes are the normal quantiles
``norm.ppf(linspace(0.05, 0.95, 15))`` on both axes. Row ``i`` of the picture
takes ``z[1] = grid[i]`` and column ``j`` takes ``z[0] = grid[j]``, as the
article's ``draw_manifold`` does; further z axes stay 0.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
from scipy.stats import norm

from . import checks
from .files import atomic_path
from .settings import Settings


def grid(settings: Settings = Settings()) -> np.ndarray:
    """The grid's nodes on one z axis, shape (grid_size,)."""
    return norm.ppf(np.linspace(settings.grid_low, settings.grid_high, settings.grid_size))


def manifold_z(settings: Settings = Settings()) -> np.ndarray:
    """z for every cell of the grid, row-major, shape (grid_size**2, latent_dim) float32."""
    g = grid(settings)
    n = settings.grid_size
    z = np.zeros((n * n, settings.latent_dim), dtype="float32")
    rows, cols = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    z[:, 0] = g[cols.ravel()]
    z[:, 1] = g[rows.ravel()]
    return z


def tile(digits: np.ndarray, n: int, cols: int | None = None) -> np.ndarray:
    """Lay ``n*cols`` digits (n*cols, 28, 28[, 1]), row-major, out as one picture of ``n`` rows
    and ``cols`` columns (28n, 28cols); ``cols`` defaults to ``n`` (a square grid)."""
    n = checks.integer("n", n, 1)
    cols = n if cols is None else checks.integer("cols", cols, 1)
    digits = checks.array("digits", digits, ndim=(3, 4))
    if digits.ndim == 4:
        digits = digits[..., 0]
    if digits.shape[0] != n * cols or digits.ndim != 3:
        raise ValueError(f"expected {n * cols} digits of shape (28, 28), got an array of shape {digits.shape}")
    h, w = digits.shape[1:]
    return digits.reshape(n, cols, h, w).transpose(0, 2, 1, 3).reshape(n * h, cols * w)


def untile(picture: np.ndarray, n: int, cols: int | None = None, size: int = 28) -> np.ndarray:
    """The inverse of :func:`tile`: a picture (n*size, cols*size), or a stack of them (k, n*size,
    cols*size), cut into its ``n`` rows and ``cols`` columns of ``size`` x ``size`` cells,
    row-major: (n*cols, size, size), or (k, n*cols, size, size) for a stack."""
    n = checks.integer("n", n, 1)
    cols = n if cols is None else checks.integer("cols", cols, 1)
    size = checks.integer("size", size, 1)
    picture = checks.array("picture", picture, ndim=(2, 3))
    if picture.shape[-2:] != (n * size, cols * size):
        raise ValueError(f"expected pictures of {n * size} x {cols * size} px ({n} x {cols} cells of {size} px), "
                         f"got an array of shape {picture.shape}")
    lead = picture.shape[:-2]
    cells = picture.reshape(*lead, n, size, cols, size)
    cells = np.moveaxis(cells, -3, -2)  # (..., n, cols, size, size)
    return cells.reshape(*lead, n * cols, size, size)


def manifold_digits(graph, labels: Iterable[int] | None = None) -> np.ndarray:
    """Every grid cell's digit for each label, all in a single generator run.

    ``graph``: a :class:`cgan.graph.GANGraph`. ``labels``: the digits to draw
    (default all; ignored, and must be None, for the unconditional GAN).
    Returns float32 (len(labels), grid_size**2, 28, 28) in [0, 1], cells row-major as
    :func:`manifold_z` orders them, or (1, grid_size**2, 28, 28) unconditional.
    """
    s = graph.settings
    z = manifold_z(s)
    if not s.conditional:
        if labels is not None:
            raise ValueError("the unconditional GAN draws one manifold; pass labels=None")
        return graph.generate(z).reshape(1, len(z), 28, 28)
    if labels is None:
        labels = list(range(s.num_classes))
    else:
        arr = checks.array("labels", labels, ndim=(0, 1), kinds="iu")
        labels = [int(c) for c in arr.reshape(-1)]
    bad = [c for c in labels if not 0 <= c < s.num_classes]
    if bad:
        raise ValueError(f"labels must lie in 0..{s.num_classes - 1}, got {bad}")
    digits = graph.generate(np.tile(z, (len(labels), 1)), np.repeat(labels, len(z)))
    return digits.reshape(len(labels), len(z), 28, 28)


def draw_manifolds(graph, labels: Iterable[int] | None = None) -> np.ndarray:
    """One manifold picture per label (:func:`manifold_digits` laid out by :func:`tile`).

    Returns float32 (len(labels), 28n, 28n) in [0, 1], or (1, 28n, 28n) unconditional.
    """
    n = graph.settings.grid_size
    digits = manifold_digits(graph, labels)
    if not len(digits):
        return np.zeros((0, 28 * n, 28 * n), "float32")
    return np.stack([tile(d, n) for d in digits])


def plot_manifold(figure: np.ndarray, path: str | os.PathLike | None = None, show: bool = False,
                  title: str | None = None):
    """Draw a manifold picture as the article does (10x10 inches, Greys, no axes).

    Saves a PNG at ``path`` if given; shows it inline if ``show``. Returns the
    matplotlib figure (closed unless shown).
    """
    import matplotlib.pyplot as plt

    figure = checks.array("figure", figure, ndim=2)
    if path is not None:
        path = checks.output_file("path", path)
    if figure.dtype == np.uint8:
        figure = figure.astype("float32") / 255.0
    fig = plt.figure(figsize=(10, 10))
    plt.imshow(figure, cmap="Greys", vmin=0, vmax=1)
    plt.grid(False)
    ax = plt.gca()
    ax.get_xaxis().set_visible(False)
    ax.get_yaxis().set_visible(False)
    if title:
        ax.set_title(title)
    if path is not None:
        _save_grey_png(fig, path)
    if show:
        plt.show()
    else:
        plt.close(fig)
    return fig


def _save_grey_png(fig, path: Path) -> None:
    """Save a matplotlib figure drawn only in greys as an 8-bit greyscale PNG (the same pixels
    as matplotlib's RGBA file, in about a third of the bytes), atomically."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=60, bbox_inches="tight")
    rgba = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGBA"))
    grey = (rgba[..., 0] == rgba[..., 1]).all() and (rgba[..., 1] == rgba[..., 2]).all() and (rgba[..., 3] == 255).all()
    with atomic_path(path, keep_suffix=True) as tmp:
        if grey:
            Image.fromarray(rgba[..., 0], mode="L").save(tmp, format="PNG", optimize=True)
        else:
            tmp.write_bytes(buf.getvalue())


def to_uint8(figures: np.ndarray) -> np.ndarray:
    """Pictures in [0, 1] as uint8 0..255 (how snapshots are stored)."""
    return np.clip(np.rint(np.asarray(figures) * 255.0), 0, 255).astype("uint8")


def frame_image(figure: np.ndarray, title: Sequence[str], scale: int = 1, levels: int = 256):
    """A GIF frame: the manifold in the Greys colormap on [0, 1] under a title,
    with ``levels`` grey levels."""
    from matplotlib import colormaps
    from PIL import Image, ImageDraw, ImageFont

    values = figure.astype("float32") / 255.0 if figure.dtype == np.uint8 else np.asarray(figure, "float32")
    lut = (colormaps["Greys"](np.linspace(0, 1, 256))[:, 0] * 255).round().astype("uint8")
    if levels < 256:  # quantise the colormap's output to `levels` evenly spaced greys
        step = 255 / (levels - 1)
        lut = (np.rint(lut / step) * step).round().astype("uint8")
    grey = lut[np.clip(np.rint(values * 255), 0, 255).astype(int)]
    body = Image.fromarray(grey, mode="L")
    if scale != 1:
        body = body.resize((body.width * scale, body.height * scale), Image.NEAREST)
    font = ImageFont.load_default(size=max(12, body.width // 28))
    line_h = font.size + 4
    pad = 6
    frame = Image.new("L", (body.width, body.height + pad * 2 + line_h * len(title)), 255)
    draw = ImageDraw.Draw(frame)
    for k, line in enumerate(title):
        w = draw.textlength(line, font=font)
        draw.text(((body.width - w) / 2, pad + k * line_h), line, fill=0, font=font)
    frame.paste(body, (0, pad * 2 + line_h * len(title)))
    return frame


def write_gif(figures: Sequence[np.ndarray], titles: Sequence[Sequence[str]], path: str | os.PathLike,
              frame_ms: int = 100, grey_levels: int = 256) -> Path:
    """Write one GIF frame per picture (each with its title lines), ``frame_ms`` a frame,
    in ``grey_levels`` grey levels.

    Written to a temporary file and renamed, so an existing GIF is never left half-written.
    """
    path = checks.output_file("path", path)
    checks.integer("frame_ms", frame_ms, 1)
    checks.integer("grey_levels", grey_levels, 2, 256)
    figures = [checks.array(f"figures[{k}]", f, ndim=2) for k, f in enumerate(figures)]
    if len(figures) != len(titles):
        raise ValueError(f"got {len(figures)} pictures but {len(titles)} titles")
    if not len(figures):
        raise ValueError("a GIF needs at least one picture")
    if len({f.shape for f in figures}) > 1 or min(figures[0].shape) < 1:
        raise ValueError(f"all pictures must have one non-empty shape, got {sorted({f.shape for f in figures})}")
    if any(not isinstance(t, (list, tuple)) or not all(isinstance(line, str) for line in t) for t in titles):
        raise ValueError("each title must be a list of strings (its lines)")
    frames = [frame_image(f, t, levels=grey_levels) for f, t in zip(figures, titles)]
    with atomic_path(path, keep_suffix=True) as tmp:
        frames[0].save(tmp, format="GIF", save_all=True, append_images=frames[1:], duration=frame_ms, loop=0,
                       optimize=False)
    return path


def batch_titles(label: int | None, periods: Sequence[int], batches_per_period: int) -> list[list[str]]:
    """The article's frame titles: "Label: c" / "Batch: b" (no label line for the plain GAN)."""
    head = [] if label is None else [f"Label: {label}"]
    return [head + [f"Batch: {p * batches_per_period}"] for p in periods]
