"""Notebook helpers: show a function's source, and show snapshots while training."""
from __future__ import annotations

import inspect
import io
from typing import Callable

import numpy as np


def show_source(*objects) -> None:
    """Display the source code of functions, methods or classes of ``cgan``,
    so the notebook shows the code that runs instead of a pasted copy."""
    from IPython.display import Code, display

    for obj in objects:
        display(Code(inspect.getsource(obj), language="python"))


def snapshot_viewer(labels_shown: int = 1, seed: int | None = None) -> Callable[[int, np.ndarray], None]:
    """An ``on_snapshot`` callback that redraws, in one place of the output, the newest
    manifold of a random label (as the article's ``on_n_period`` does)."""
    from IPython.display import Image, display
    from PIL import Image as PILImage

    from .manifold import frame_image

    rng = np.random.default_rng(seed)
    handle = display(None, display_id=True)

    def show(period: int, figures: np.ndarray) -> None:
        k = int(rng.integers(len(figures)))
        title = ([f"Label: {k}"] if len(figures) > 1 else []) + [f"Period: {period}"]
        buf = io.BytesIO()
        frame: PILImage.Image = frame_image(figures[k], title)
        frame.save(buf, format="PNG")
        handle.update(Image(buf.getvalue(), width=300))

    return show
