"""The committed figures: figs/figure-time/ (the preset figure-time, the settings that drew the
article's figures; the folder was figs/published until 2026-12-05) holds every label's manifold
PNG and training GIF, within its size budget."""
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


def test_the_figure_time_figures_hold_every_label_and_stay_under_4_mb():
    folder = ROOT / "figs" / "figure-time"
    assert not (ROOT / "figs" / "published").exists()  # renamed, not copied
    names = {p.name for p in folder.iterdir()}
    labels = {f"manifold_{c}.{ext}" for c in range(10) for ext in ("png", "gif")}
    assert labels <= names <= labels | {"GAN_manifold.png", "GAN_manifold.gif"}
    assert sum(p.stat().st_size for p in folder.iterdir()) < 4_000_000
    for c in range(10):
        with Image.open(folder / f"manifold_{c}.gif") as gif:
            # 115 snapshots, a frame every 8th (0, 8, ..., 112) and the last: 16 frames
            assert gif.n_frames == 16 and gif.info["duration"] == 100
