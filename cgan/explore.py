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


class LiveView:
    """One display that carries a widget and a static picture of it: ``_repr_mimebundle_``
    gives the widget's view (``application/vnd.jupyter.widget-view+json``) and a PNG
    (``image/png``) in the same output. A frontend with widgets (JupyterLab, the Notebook,
    VS Code, Colab) renders the widget, live; one without (nbconvert's HTML, a static
    viewer) finds no widget state and shows the PNG. How the kernel was started does
    not matter."""

    def __init__(self, widget, png: bytes):
        self.widget, self.png = widget, png

    def _repr_mimebundle_(self, include=None, exclude=None):
        import base64

        bundle = dict(self.widget._repr_mimebundle_(include=include, exclude=exclude) or {})
        bundle["image/png"] = base64.b64encode(self.png).decode("ascii")
        bundle["text/plain"] = "sliders for z1, z2 and the label (live where widgets are; a static grid elsewhere)"
        return bundle


def digit_png(digit: np.ndarray, scale: int = 8) -> bytes:
    """A digit (28, 28) in [0, 1] as a PNG, dark on white, ``scale`` times larger."""
    import io

    from PIL import Image

    pixels = np.kron(255 - np.round(np.clip(digit, 0, 1) * 255).astype("uint8"), np.ones((scale, scale), "uint8"))
    buf = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(buf, format="PNG")
    return buf.getvalue()


def sliders(graph, display_it: bool = True) -> LiveView:
    """Sliders for z1, z2 and the label that redraw the digit and its title (ipywidgets),
    shown as one :class:`LiveView` whose static fallback is :func:`static_grid` drawn with
    matplotlib. Returns the view (``.widget``: the ipywidgets box; ``.png``: the fallback)."""
    import io

    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    _conditional(graph)
    slider = dict(min=-3.0, max=3.0, step=0.1, value=0.0, continuous_update=True)
    z1 = widgets.FloatSlider(description="z1", **slider)
    z2 = widgets.FloatSlider(description="z2", **slider)
    label = widgets.IntSlider(min=0, max=graph.settings.num_classes - 1, value=5, description="label")
    title = widgets.HTML()
    image = widgets.Image(format="png", width=224, height=224)

    def draw(_change=None) -> None:
        z = np.zeros((1, graph.settings.latent_dim), "float32")
        z[0, :2] = (z1.value, z2.value)
        image.value = digit_png(graph.generate(z, [label.value])[0, ..., 0])
        title.value = f"<b>label {label.value}, z = ({z1.value:.1f}, {z2.value:.1f})</b>"

    for w in (z1, z2, label):
        w.observe(draw, names="value")
    draw()
    box = widgets.HBox([widgets.VBox([z1, z2, label]), widgets.VBox([title, image])])

    z1_values = (-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0)
    fig, ax = plt.subplots(figsize=(4, 5.5))
    ax.imshow(static_grid(graph, z1_values), cmap="Greys", vmin=0, vmax=1)
    ax.set_xticks(np.arange(len(z1_values)) * 28 + 14, [f"{v:g}" for v in z1_values])
    ax.set_yticks(np.arange(graph.settings.num_classes) * 28 + 14, range(graph.settings.num_classes))
    ax.set_xlabel("z1 (z2 = 0)")
    ax.set_ylabel("label")
    ax.set_title("static view: run the cell in Jupyter for sliders")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=60)
    plt.close(fig)
    view = LiveView(box, buf.getvalue())
    if display_it:
        from IPython.display import display

        display(view)
    return view


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
