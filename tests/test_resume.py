"""A run killed with SIGKILL at random points and resumed ends exactly as an uninterrupted one."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import cgan
from cgan.checkpoints import checkpoint_dirs

KILL_POINTS = int(os.environ.get("CGAN_KILL_POINTS", "3"))  # more for a longer soak
# with two averaged generators on, so their resumed averages are checked too
ARGS = ["--iterations", "24", "--batch-size", "16", "--seed", "3", "--no-progress", "--set", "grid_size=3",
        "--set", "ema_decay=(0.9, 0.5)",
        "--set", "batches_per_period=2", "--set", "save_periods=(0, 1, 3, 5, 8, 11)"]


def run_cli(run_dir: Path, figs_dir: Path, kill_after_checkpoints: int | None = None, delay: float = 0.0):
    cmd = [sys.executable, "-m", "cgan", "train", "--run-dir", str(run_dir), "--figs-dir", str(figs_dir), *ARGS]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if kill_after_checkpoints is None:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()[-2000:]
        return True
    start = newest_checkpoint(run_dir)
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        # checkpoints come every 2 iterations: wait for the k-th new one, then a little more
        if newest_checkpoint(run_dir) >= start + 2 * kill_after_checkpoints:
            time.sleep(delay)
            break
        time.sleep(0.005)
    killed = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return killed


def newest_checkpoint(run_dir: Path) -> int:
    """The iteration of the newest complete checkpoint, -1 if none."""
    names = [p.name for p in (run_dir / "checkpoints").glob("ckpt-*") if not p.name.endswith(".tmp")]
    return max((int(n.split("-")[1]) for n in names), default=-1)


def final_state(run_dir: Path, figs_dir: Path):
    with np.load(run_dir / "generator.npz") as npz:
        weights = {k: npz[k] for k in npz.files if k != "settings"}
    figures = {p.name: p.read_bytes() for p in sorted(figs_dir.iterdir())}
    return weights, figures


def test_killed_and_resumed_run_equals_an_uninterrupted_one(tmp_path):
    run_cli(tmp_path / "straight", tmp_path / "straight-figs")
    expected_weights, expected_figs = final_state(tmp_path / "straight", tmp_path / "straight-figs")
    assert len(expected_figs) == 20

    rng = np.random.default_rng(int(time.time()))
    run_dir, figs_dir = tmp_path / "killed", tmp_path / "killed-figs"
    kills = 0
    for _ in range(KILL_POINTS):
        kills += run_cli(run_dir, figs_dir, kill_after_checkpoints=int(rng.integers(1, 3)),
                         delay=float(rng.uniform(0, 0.3)))
    print(f"kill points tried: {KILL_POINTS}, processes killed mid-run: {kills}")
    assert kills >= 1
    # every file left behind is whole: each snapshot loads
    for snap in (run_dir / "snapshots").glob("*.npz"):
        with np.load(snap) as npz:
            assert npz["figures"].dtype == np.uint8
    run_cli(run_dir, figs_dir)
    weights, figs = final_state(run_dir, figs_dir)
    assert weights.keys() == expected_weights.keys()
    for k in weights:
        np.testing.assert_array_equal(weights[k], expected_weights[k])
    assert figs.keys() == expected_figs.keys()
    for name in figs:
        assert figs[name] == expected_figs[name], f"{name} differs from the uninterrupted run's"
    assert not list(run_dir.rglob("*.tmp*")) or all(p.is_dir() for p in run_dir.rglob("*.tmp*"))


def test_same_seed_same_run_other_seed_other_run(small_data, tmp_path):
    from conftest import TINY

    runs = [cgan.train(TINY.replace(seed=seed), tmp_path / name, progress=False, data=small_data)
            for seed, name in ((7, "a"), (7, "b"), (8, "c"))]
    values = [r.graph.variable_values() for r in runs]
    assert runs[0].history.l_dis == runs[1].history.l_dis
    assert all(np.array_equal(values[0][k], values[1][k]) for k in values[0])
    assert runs[0].history.l_dis != runs[2].history.l_dis
    assert not all(np.array_equal(values[0][k], values[2][k]) for k in values[0])
    for r in runs:
        r.close()


def test_corrupt_newest_checkpoint_falls_back_to_the_previous(small_data, tmp_path):
    from conftest import TINY

    t = cgan.train(TINY.replace(iterations=4), tmp_path, progress=False, data=small_data)
    t.close()
    newest = checkpoint_dirs(t.run_dir)[-1]
    (newest / "state.json").write_bytes(b"\x00garbage")
    with pytest.warns(UserWarning, match="unreadable"):
        again = cgan.prepare(TINY.replace(iterations=4), tmp_path, data=small_data)
    assert again.iteration == int(checkpoint_dirs(t.run_dir)[-2].name.split("-")[1])
    again.close()
