"""A sweep over settings (study --grid, cgan.sweep) and its divergence report (--no-judge,
cgan.sweep_report): the grid as typed, a folder a cell, the divergence rate with its Wilson
interval and the iteration the discriminator had won from, resumed by the same command."""
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from cgan import Settings, sweep, sweep_report

ROOT = Path(__file__).resolve().parent.parent
TINY = ["--iterations", "6", "--batch-size", "16", "--set", "batches_per_period=2", "--set", "save_periods=(0,)",
        "--set", "grid_size=3", "--ema", "--no-progress"]


def cgan_study(*args):
    return subprocess.run([sys.executable, "-m", "cgan", "study", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=900)


def test_the_grid_as_typed():
    grid = sweep.parse_grid(["lr_dis=1e-4, 1e-3", "k_step=5,10"])
    assert grid == {"lr_dis": (1e-4, 1e-3), "k_step": (5, 10)}
    assert sweep.cells(grid) == [{"lr_dis": 1e-4, "k_step": 5}, {"lr_dis": 1e-4, "k_step": 10},
                                 {"lr_dis": 1e-3, "k_step": 5}, {"lr_dis": 1e-3, "k_step": 10}]
    assert [sweep.cell_name(c) for c in sweep.cells(grid)][-1] == "lr_dis=0.001,k_step=10"
    assert sweep.cells({}) == [{}] and sweep.cell_name({}) == ""
    tasks = sweep.tasks(Settings(), grid, [7, 8], "runs/x")
    assert len(tasks) == 8 and tasks[-1][0] == Settings(lr_dis=1e-3, k_step=10, seed=8)
    assert tasks[-1][1] == Path("runs/x/lr_dis=0.001,k_step=10/cgan-seed-8")


@pytest.mark.parametrize("text, message", [
    ("lr_dis", "--grid takes NAME=V1,V2"),
    ("lr_dsi=1e-4", "'lr_dsi' is not a setting a grid can vary; accepted: batch_size, "),
    ("seed=1,2", "'seed' is not a setting a grid can vary"),
    ("k_step=5,ten", "'ten' is not a value"),
    ("k_step=5,0", r"Settings.k_step=0 is invalid; accepted: "),
    ("k_step=5,5", "give distinct values"),
    ("lr_dis=1,1.0", r"give distinct values, separated by commas \(as folder names: 1, 1\)"),
])
def test_a_bad_grid_says_what_is_wrong(text, message):
    with pytest.raises(ValueError, match=message):
        sweep.parse_grid([text])


def test_the_same_setting_twice_is_refused():
    with pytest.raises(ValueError, match="names 'k_step' twice"):
        sweep.parse_grid(["k_step=5", "k_step=10"])


def test_wilson_intervals():
    assert sweep_report.wilson(0, 0) == (0.0, 1.0)
    low, high = sweep_report.wilson(0, 8)
    assert low == 0.0 and math.isclose(high, 0.3244, abs_tol=1e-4)
    low, high = sweep_report.wilson(2, 5)  # a textbook value
    assert math.isclose(low, 0.1176, abs_tol=1e-4) and math.isclose(high, 0.7693, abs_tol=1e-4)
    low, high = sweep_report.wilson(8, 8)
    assert math.isclose(low, 1 - 0.3244, abs_tol=1e-4) and high == 1.0


def test_the_presets_a_cell_is():
    assert sweep_report.presets_at(Settings(iterations=300), ["lr_dis", "k_step"]) == ["printed"]
    assert sweep_report.presets_at(Settings(lr_dis=1e-3, k_step=10), ["lr_dis"]) == ["figure-time"]
    assert sweep_report.presets_at(Settings(lr_dis=1e-3), ["lr_dis"]) == []


def test_a_no_judge_sweep_records_divergence_and_resumes(tmp_path):
    # gen_exit_above=100 keeps G at all k_step steps, and stall_loss=100 counts every such iteration
    # as won by D: that cell's seeds diverge at the first check; the article's 0.4 never does here
    runs, figs = tmp_path / "runs", tmp_path / "figs"
    args = ["--grid", "gen_exit_above=0.4,100", "--seeds", 1, 2, "--set", "stall_loss=100", "--set",
            "stall_periods=1", "--no-judge", *TINY, "--runs-dir", runs, "--figs-dir", figs]
    proc = cgan_study(*args)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads((figs / "stability.json").read_text())
    calm, won = report["cells"]
    assert calm["cell"] == {"gen_exit_above": 0.4} and won["cell"] == {"gen_exit_above": 100}
    assert (calm["seeds"], calm["diverged"], calm["rate"], calm["stalled_from"]) == (2, 0, 0.0, [])
    assert (won["seeds"], won["diverged"], won["rate"], won["diverged_seeds"]) == (2, 2, 1.0, [1, 2])
    assert won["stalled_from"] == [0, 0] and won["wilson95"] == list(sweep_report.wilson(2, 2))
    record = json.loads((runs / "gen_exit_above=100" / "cgan-seed-1" / "evaluation.json").read_text())
    assert record["diverged_at"] == 2 and record["stalled_from"] == 0 and "has won for 1 periods" in record["diverged"]
    assert json.loads((runs / "gen_exit_above=0.4" / "cgan-seed-2" / "evaluation.json").read_text())["not_judged"]
    md = (figs / "stability.md").read_text()
    assert "| 100 | 2 | 2 | 100% (34%–100%) | 0 (0–0) |  |" in md
    assert (figs / "stability.png").read_bytes()[:4] == b"\x89PNG"
    # the same command again trains nothing: every seed has its record
    before = {p: p.stat().st_mtime_ns for p in runs.rglob("evaluation.json")}
    again = cgan_study(*args)
    assert again.returncode == 0, again.stderr[-3000:]
    assert {p: p.stat().st_mtime_ns for p in runs.rglob("evaluation.json")} == before


def test_a_judged_sweep_reports_each_cell(tmp_path):
    runs, figs = tmp_path / "runs", tmp_path / "figs"
    proc = cgan_study("--grid", "lr_gen=3e-4,1e-3", "--seeds", 1, "--per-label", 20, *TINY,
                      "--runs-dir", runs, "--figs-dir", figs)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for cell in ("lr_gen=0.0003", "lr_gen=0.001"):
        report = json.loads((figs / cell / "study.json").read_text())
        assert [e["seed"] for e in report["evaluations"]] == [1]
        assert report["evaluations"][0]["settings"]["lr_gen"] == float(cell.split("=")[1])
        assert (figs / cell / "cgan-seed-1.png").is_file()
    assert "## lr_gen=0.001" in proc.stdout


def test_the_report_finds_each_cells_seeds_by_folder(tmp_path):
    """Settings may store a value otherwise than typed (ema_decay=0.99 is (0.99,)): the report
    finds a cell's seeds by their folder."""
    grid = sweep.parse_grid(["ema_decay=0.99,0.999"])
    tasks = sweep.tasks(Settings(iterations=6), grid, [1], tmp_path)
    for settings, folder in tasks:
        folder.mkdir(parents=True)
        (folder / "evaluation.json").write_text(json.dumps({"seed": 1, "not_judged": True, "machine": "m"}))
    report = sweep_report.build_report(Settings(iterations=6), grid, tasks, tmp_path, "test")
    assert [(c["name"], c["seeds"], c["diverged"]) for c in report["cells"]] == [("ema_decay=0.99", 1, 0),
                                                                                ("ema_decay=0.999", 1, 0)]


def test_the_committed_stability_map_is_the_report_of_its_records():
    """figs/stability/: one real sweep (README: its command and time); stability.md is the
    report of stability.json, its README quotes the table word for word, and every cell has
    at least 8 seeds of 300 iterations."""
    folder = ROOT / "figs" / "stability"
    report = json.loads((folder / "stability.json").read_text())
    assert report["iterations"] == 300 and report["kind"] == "cgan"
    assert report["grid"] == {"lr_dis": [1e-4, 3e-4, 1e-3], "k_step": [5, 10]}
    assert all(c["seeds"] == c["seeds_asked"] >= 8 for c in report["cells"])
    md = (folder / "stability.md").read_text()
    assert md == sweep_report.markdown(report)
    table = [line for line in md.splitlines() if line.startswith("|")]
    readme = (folder / "README.md").read_text()
    assert "\n".join(table) in readme and report["command"] in readme
    assert {c["name"]: c["presets"] for c in report["cells"] if c["presets"]} == {
        "lr_dis=0.0001,k_step=5": ["printed"], "lr_dis=0.001,k_step=10": ["figure-time"]}
    assert (folder / "stability.png").read_bytes()[:4] == b"\x89PNG"
