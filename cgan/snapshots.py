"""A run's manifold snapshots and the article's figures drawn from them: one
``run_dir/snapshots/period-NNNNN.npz`` per saved period (every label's manifold, uint8), and from
them per label the last manifold as a PNG and all of them as a training GIF."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from . import checks
from .checkpoints import resume_hint
from .files import atomic_path, disk_full_says_so
from .manifold import batch_titles, plot_manifold, write_gif
from .settings import Settings

SNAPSHOTS = "snapshots"  # the folder of a run's snapshots


def snapshot_period(path: Path) -> int:
    return int(path.stem.split("-")[1])  # period-NNNNN.npz


def write_snapshot(run_dir: str | os.PathLike, period: int, figures: np.ndarray) -> Path:
    """Store one period's pictures, uint8 (n_labels, H, W), whole or not at all."""
    folder = Path(run_dir) / SNAPSHOTS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"period-{period:05d}.npz"
    with disk_full_says_so(run_dir, f"snapshot {path.name}", lambda: resume_hint(run_dir)), \
            atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, figures=figures, period=period)
    return path


def drop_snapshots_except(run_dir: str | os.PathLike, periods: list[int]) -> None:
    """Delete the snapshots of periods not in ``periods`` (those drawn after the checkpoint a
    run resumes from: it draws them again)."""
    for path in (Path(run_dir) / SNAPSHOTS).glob("period-*.npz"):
        if snapshot_period(path) not in periods:
            path.unlink()


def read_snapshots(run_dir: str | os.PathLike, periods: list[int] | None = None) -> tuple[list[int], np.ndarray]:
    """Snapshots stored in ``run_dir`` (those of ``periods``, default all), read-only:
    periods and uint8 pictures (n_snapshots, n_labels, H, W)."""
    folder = checks.path("run_dir", run_dir) / SNAPSHOTS
    if periods is None:
        periods = sorted(snapshot_period(p) for p in folder.glob("period-*.npz"))
    figures = []
    for period in periods:
        with np.load(folder / f"period-{period:05d}.npz") as npz:
            figures.append(npz["figures"])
    return list(periods), np.stack(figures) if figures else np.zeros((0, 0, 0, 0), "uint8")


def write_figures(settings: Settings, periods: list[int], figures: np.ndarray,
                  figs_dir: str | os.PathLike) -> list[Path]:
    """The article's figures from a run's snapshots (``periods``, ``figures`` as
    :func:`read_snapshots` gives them): per label a manifold PNG (the last snapshot) and a
    training GIF, a frame every ``settings.gif_every``-th snapshot and the last; for the plain
    GAN, GAN_manifold.*."""
    if not len(periods):
        raise ValueError(f"no snapshots to draw the figures from: the run saved none (its save_periods start "
                         f"{list(settings.save_periods[:5])})")
    if len(periods) != len(figures):
        raise ValueError(f"write_figures needs one picture a period, got {len(periods)} periods "
                         f"and {len(figures)} pictures")
    figs_dir = Path(figs_dir)
    figs_dir.mkdir(parents=True, exist_ok=True)
    s = settings
    labels = list(range(s.num_classes)) if s.conditional else [None]
    frames = sorted(set(range(0, len(periods), s.gif_every)) | {len(periods) - 1})  # always the last
    gif_periods = [periods[i] for i in frames]
    written = []
    with disk_full_says_so(figs_dir, "the figures", lambda: "write them again"):
        for k, label in enumerate(labels):
            stem = "GAN_manifold" if label is None else f"manifold_{label}"
            title = "GAN" if label is None else f"Label: {label}"
            plot_manifold(figures[-1, k], figs_dir / f"{stem}.png", title=title)
            written.append(figs_dir / f"{stem}.png")
            written.append(write_gif(figures[frames, k], batch_titles(label, gif_periods, s.batches_per_period),
                                     figs_dir / f"{stem}.gif", s.gif_frame_ms, s.gif_grey_levels))
    return written
