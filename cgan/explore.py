"""Ways to look at a trained conditional generator in a notebook: sliders for z and the
label, the same z drawn for every label (style apart from digit), and a walk through z.

Each takes a graph with ``settings`` and ``generate(z, labels)``, such as
``cgan.load_generator("cgan")`` or :class:`cgan.GANGraph`.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from . import checks
from .manifold import tile, write_gif


def _conditional(graph) -> None:
    if not getattr(graph.settings, "conditional", False):
        raise ValueError("these views need a conditional generator (labels); got an unconditional one")


def frontend_attached() -> bool:
    """Whether the kernel was started by a Jupyter server (JupyterLab, Notebook), which sets
    ``JPY_SESSION_NAME``: then widgets are live. Headless runs (papermill, nbconvert) start
    their kernels without a server."""
    return "JPY_SESSION_NAME" in os.environ


def static_grid(graph, z1_values=(-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0), z2: float = 0.0,
                labels=None) -> np.ndarray:
    """Digits for each label (rows) and each z1 in ``z1_values`` (columns), z2 fixed:
    float32 (28 * rows, 28 * columns)."""
    _conditional(graph)
    labels = list(range(graph.settings.num_classes)) if labels is None else [int(c) for c in labels]
    z1 = np.asarray(z1_values, "float32")
    z = np.zeros((len(labels) * len(z1), graph.settings.latent_dim), "float32")
    z[:, 0] = np.tile(z1, len(labels))
    z[:, 1] = z2
    return tile(graph.generate(z, np.repeat(labels, len(z1))), len(labels), len(z1))


def sliders(graph, live: bool | None = None):
    """Show sliders for z1, z2 and the label that redraw the digit (ipywidgets), when a Jupyter
    frontend is attached (``live=None`` decides by :func:`frontend_attached`); otherwise a
    static grid (:func:`static_grid`) drawn with matplotlib. Returns the widget (an
    ``ipywidgets.interactive``) or the figure, both already displayed."""
    import matplotlib.pyplot as plt

    _conditional(graph)
    if live is None:
        live = frontend_attached()
    if live:
        import ipywidgets as widgets

        def draw(z1: float, z2: float, label: int):
            z = np.zeros((1, graph.settings.latent_dim), "float32")
            z[0, :2] = (z1, z2)
            fig, ax = plt.subplots(figsize=(3, 3))
            ax.imshow(graph.generate(z, [label])[0, ..., 0], cmap="Greys", vmin=0, vmax=1)
            ax.set_title(f"label {label}, z = ({z1:.1f}, {z2:.1f})")
            ax.axis("off")
            _shown(fig)

        slider = dict(min=-3.0, max=3.0, step=0.1, value=0.0, continuous_update=True)
        return widgets.interact(draw, z1=widgets.FloatSlider(description="z1", **slider),
                                z2=widgets.FloatSlider(description="z2", **slider),
                                label=widgets.IntSlider(min=0, max=graph.settings.num_classes - 1, value=5,
                                                        description="label")).widget
    z1_values = (-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0)
    picture = static_grid(graph, z1_values)
    fig, ax = plt.subplots(figsize=(4, 5.5))
    ax.imshow(picture, cmap="Greys", vmin=0, vmax=1)
    ax.set_xticks(np.arange(len(z1_values)) * 28 + 14, [f"{v:g}" for v in z1_values])
    ax.set_yticks(np.arange(graph.settings.num_classes) * 28 + 14, range(graph.settings.num_classes))
    ax.set_xlabel("z1 (z2 = 0)")
    ax.set_ylabel("label")
    ax.set_title("static view (no live frontend)")
    return _shown(fig)


def _shown(fig):
    """Display a matplotlib figure once (in a notebook; elsewhere its text form) and close it."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    display(fig)
    plt.close(fig)
    return fig


def style_grid(graph, n_styles: int = 6, seed: int = 0):
    """Show the same ``n_styles`` random z (rows) drawn for every label (columns): the label
    sets the digit, z the style. Returns the matplotlib figure (already displayed)."""
    import matplotlib.pyplot as plt

    _conditional(graph)
    checks.integer("n_styles", n_styles, 1, 100)
    n = graph.settings.num_classes
    z = np.random.default_rng(seed).standard_normal((n_styles, graph.settings.latent_dim)).astype("float32")
    digits = graph.generate(np.repeat(z, n, axis=0), np.tile(np.arange(n), n_styles))
    fig, ax = plt.subplots(figsize=(n * 0.6, n_styles * 0.6))
    ax.imshow(tile(digits, n_styles, n), cmap="Greys", vmin=0, vmax=1)
    ax.set_xticks(np.arange(n) * 28 + 14, range(n))
    ax.set_yticks(np.arange(n_styles) * 28 + 14, [f"({a:.1f}, {b:.1f})" for a, b in z[:, :2]])
    ax.set_xlabel("label")
    ax.set_ylabel("z")
    return _shown(fig)


def latent_walk(graph, label: int, start=(-1.5, -1.5), end=(1.5, 1.5), steps: int = 30,
                path: str | os.PathLike | None = None, frame_ms: int = 100) -> np.ndarray:
    """Digits of ``label`` for z on the straight line from ``start`` to ``end`` (``steps``
    points) and back (other z components 0), a looping walk. Writes a GIF to ``path`` if
    given (each frame titled with its z, scaled 4x). Returns the digits, float32
    (2 * steps - 2, 28, 28)."""
    _conditional(graph)
    checks.integer("label", label, 0, graph.settings.num_classes - 1)
    checks.integer("steps", steps, 2, 1000)
    a, b = (checks.array(name, v, kinds="fiu").astype("float32").reshape(-1) for name, v in
            (("start", start), ("end", end)))
    if a.shape != (2,) or b.shape != (2,):
        raise ValueError(f"start and end must be two numbers (z1, z2), got {a.shape} and {b.shape}")
    t = np.concatenate([np.linspace(0, 1, steps), np.linspace(1, 0, steps)[1:-1]])  # a loop: no frame twice
    z = np.zeros((len(t), graph.settings.latent_dim), "float32")
    z[:, :2] = a[None] + t[:, None] * (b - a)[None]
    digits = graph.generate(z, label)[..., 0]
    if path is not None:
        big = [np.kron(d, np.ones((4, 4), "float32")) for d in digits]
        write_gif(big, [[f"Label: {label}", f"z = ({p[0]:.2f}, {p[1]:.2f})"] for p in z[:, :2]], Path(path),
                  frame_ms)
    return digits
