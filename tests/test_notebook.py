"""The notebook runs end to end on a real Jupyter kernel, and the figures command works."""
from pathlib import Path

import papermill as pm
import pytest
from PIL import Image

from cgan.cli import main

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "cgan_gan_tensorflow.ipynb"
TINY_PARAMS = dict(iterations=3, batch_size=16, seed=0, eval_per_label=5, eval_parzen=False,
                   extra_settings={"batches_per_period": 1, "save_periods": [0, 2], "grid_size": 3})


def test_notebook_runs_headless_and_writes_its_figures(tmp_path):
    out = tmp_path / "out.ipynb"
    pm.execute_notebook(str(NOTEBOOK), str(out), cwd=str(NOTEBOOK.parent), kernel_name="python3",
                        parameters=dict(TINY_PARAMS, run_dir=str(tmp_path / "run"), figs_dir=str(tmp_path / "figs")),
                        progress_bar=False)
    figs = tmp_path / "figs"
    for c in range(10):
        assert (figs / f"manifold_{c}.png").is_file()
        with Image.open(figs / f"manifold_{c}.gif") as im:
            assert im.n_frames == 2
    assert (tmp_path / "run" / "generator.npz").is_file()
    text = out.read_text()
    assert "def build_losses" in text  # the lesson's code is shown from cgan itself
    assert "3 iterations" in text
    assert "real test digits (ceiling)" in text and "untrained generator (floor)" in text  # the metrics table
    assert (figs / "metrics_over_training.png").is_file()


def test_notebook_rejects_an_unknown_parameter(tmp_path):
    with pytest.raises(pm.PapermillExecutionError, match="unknown notebook parameter.*iteratons"):
        pm.execute_notebook(str(NOTEBOOK), str(tmp_path / "out.ipynb"), cwd=str(NOTEBOOK.parent),
                            kernel_name="python3", parameters=dict(iteratons=3), progress_bar=False)


def test_committed_notebook_is_lean():
    import nbformat

    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    assert any("parameters" in c.metadata.get("tags", []) for c in nb.cells)


def test_figures_command_writes_every_article_figure(tmp_path, capsys):
    assert main(["figures", "--figs-dir", str(tmp_path / "figs"), "--runs-dir", str(tmp_path / "runs"),
                 "--iterations", "2", "--batch-size", "16", "--seed", "0", "--no-progress",
                 "--set", "grid_size=3", "--set", "batches_per_period=1", "--set", "save_periods=(0, 1)"]) == 0
    names = {p.name for p in (tmp_path / "figs").iterdir()}
    expected = {f"manifold_{c}.{ext}" for c in range(10) for ext in ("png", "gif")}
    assert names == expected | {"GAN_manifold.png", "GAN_manifold.gif"}
    assert {p.name for p in (tmp_path / "runs").iterdir()} == {"cgan", "gan"}
    assert "CGAN: 2 iterations" in capsys.readouterr().out
