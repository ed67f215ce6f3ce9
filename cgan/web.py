"""The shipped generators for the static page ``web/index.html``: each one's weights written
as a script the page loads with a ``<script>`` tag, so it opens from file:// (where a page may
not fetch files), from any static host, or from ``python -m http.server``.

``python -m cgan web`` (or :func:`export`) writes ``web/weights/<model>.js`` for every model
of :data:`MODELS` from the ``.npz`` files in ``cgan/weights/``. Needs numpy and scipy, not
TensorFlow. The files are deterministic: the same ``.npz`` files give the same bytes, so a
test can compare a fresh export with the committed one.

Each file sets ``window.CGAN_WEIGHTS[model]`` to an object with the model's ``title``, its
``source`` file and decay, ``conditional``, ``latent_dim``, ``num_classes``, the manifold's
z ``grid`` (:func:`cgan.manifold.grid`: the normal quantiles of ``linspace(grid_low, grid_high,
grid_size)``) and the generator's arrays in Keras order
(dense kernel and bias, then the three convolutions' kernels (kh, kw, in, out) and biases):
their ``shapes`` and their values as little-endian float32, base64 in ``data``.
"""
from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import numpy as np

from . import checks
from .files import atomic_path
from .manifold import grid
from .settings import Settings
from .weightfile import average_group, read_weights, shipped_generator_path

# model name -> (shipped kind, averaged: False or a decay, title)
MODELS: dict[str, tuple[str, bool | float, str]] = {
    "cgan": ("cgan", False, "CGAN (the article's, trained)"),
    "cgan-averaged": ("cgan", 0.999, "CGAN, averaged generator (decay 0.999, ours)"),
    "gan": ("gan", False, "plain GAN (the article's, trained)"),
}
WEIGHTS_FOLDER = "weights"


def model_arrays(model: str) -> tuple[Settings, list[np.ndarray]]:
    """A model's settings and its generator's arrays, read from the shipped ``.npz`` file."""
    if model not in MODELS:
        raise ValueError(f"model={model!r} is unknown; accepted: {', '.join(MODELS)}")
    kind, averaged, _ = MODELS[model]
    path = shipped_generator_path(kind, averaged)
    values, weights = read_weights(path, "settings", "generator", "GANGraph.save_generator",
                                   group=average_group(path, averaged))
    return Settings.from_dict(values), [np.asarray(w, "<f4") for w in weights]


def model_script(model: str) -> str:
    """The text of ``weights/<model>.js``."""
    settings, weights = model_arrays(model)
    kind, averaged, title = MODELS[model]
    header = {
        "title": title,
        "source": f"cgan/weights/{shipped_generator_path(kind, averaged).name}",
        "decay": None if averaged is False else averaged,
        "conditional": settings.conditional,
        "latent_dim": settings.latent_dim,
        "num_classes": settings.num_classes,
        "grid_low": settings.grid_low,
        "grid_high": settings.grid_high,
        "grid": [float(g) for g in grid(settings)],
        "shapes": [list(w.shape) for w in weights],
    }
    data = base64.b64encode(b"".join(w.tobytes() for w in weights)).decode("ascii")
    body = json.dumps(header, indent=1)[:-2] + f',\n "data": "{data}"\n}}'
    return (f"// {model}: written by `python -m cgan web` from {header['source']}; do not edit.\n"
            f"(window.CGAN_WEIGHTS = window.CGAN_WEIGHTS || {{}})[{json.dumps(model)}] = {body};\n")


def export(folder: str | os.PathLike = "web") -> list[Path]:
    """Write ``folder/weights/<model>.js`` for every model (each file atomically); returns
    their paths."""
    folder = checks.output_dir("folder", folder)
    out = folder / WEIGHTS_FOLDER
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for model in MODELS:
        path = out / f"{model}.js"
        with atomic_path(path, keep_suffix=True) as tmp:
            tmp.write_text(model_script(model), encoding="ascii", newline="\n")
        paths.append(path)
    return paths
