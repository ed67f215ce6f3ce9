"""Faults a long run meets, on real filesystems: a disk that fills up while the run writes (a small
tmpfs, mounted as root: CI runs as root; elsewhere these tests need it and are skipped), and a
newest checkpoint cut short. Each says one line that names the folder and what to do, and the
same command then ends exactly as a run that met no fault."""
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import cgan
from conftest import TINY

ARGS = ["--iterations", "5", "--batch-size", "16", "--seed", "0", "--set", "batches_per_period=1",
        "--set", "save_periods=(0, 1, 2, 3, 4)", "--set", "grid_size=3", "--no-progress"]


def train(run_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cgan", "train", "--run-dir", str(run_dir), *ARGS],
                          capture_output=True, text=True, timeout=600)


def arrays(run_dir: Path) -> dict:
    with np.load(run_dir / "generator.npz") as npz:
        return {k: npz[k] for k in npz.files if k != "settings"}


@pytest.fixture
def small_disk(tmp_path):
    """A 6 MB tmpfs under the test's folder (a checkpoint of the article's model is about 4 MB)."""
    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("CI runs as root and mounts a tmpfs for this test")
        pytest.skip("mounting a tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(disk)], check=True)
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_a_full_disk_says_one_line_and_the_same_command_resumes(small_disk, tmp_path):
    run = small_disk / "run"
    full = train(run)
    assert full.returncode == 5, full.stderr[-3000:]
    assert full.stderr.strip().splitlines() == [
        f"python -m cgan: error: {run}: the disk is full (no space left while writing checkpoint ckpt-00000002); "
        "free space, then the same command resumes from ckpt-00000001"]
    assert [p.name for p in (run / "checkpoints").iterdir()] == ["ckpt-00000001"]  # nothing half-written
    subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)  # space freed
    resumed = train(run)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    straight = train(tmp_path / "straight")
    assert straight.returncode == 0, straight.stderr[-3000:]
    want, got = arrays(tmp_path / "straight"), arrays(run)
    assert want.keys() == got.keys() and all(np.array_equal(want[k], got[k]) for k in want)


def test_a_cut_checkpoint_warns_one_line_and_the_run_ends_as_a_straight_one(tmp_path, small_data):
    cgan.train(TINY, tmp_path / "run", progress=False, data=small_data).close()
    newest = sorted((tmp_path / "run" / "checkpoints").iterdir())[-1]
    (data,) = newest.glob("model.data*")
    with open(data, "r+b") as fh:
        fh.truncate(1000)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        resumed = cgan.train(TINY.replace(iterations=4), tmp_path / "run", progress=False, data=small_data)
    messages = [str(w.message) for w in caught if "unreadable" in str(w.message)]
    assert messages == [f"checkpoint {newest} is unreadable (OutOfRangeError: Read less bytes than requested); "
                        "falling back to an older one"]
    straight = cgan.train(TINY.replace(iterations=4), tmp_path / "straight", progress=False, data=small_data)
    try:
        for a, b in zip(resumed.sess.run(resumed.generator_weights), straight.sess.run(straight.generator_weights)):
            np.testing.assert_array_equal(a, b)
    finally:
        resumed.close()
        straight.close()


def test_a_run_whose_checkpoints_are_all_unreadable_is_not_started_afresh_over_them(tmp_path, small_data):
    settings = TINY.replace(iterations=2, save_periods=(0,))
    cgan.train(settings, tmp_path / "run", progress=False, data=small_data).close()
    for ckpt in (tmp_path / "run" / "checkpoints").iterdir():
        (ckpt / "state.json").write_bytes(b"cut")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match=r"none of its checkpoints could be read \(ckpt-00000001, ckpt-00000002;"):
            cgan.prepare(settings, tmp_path / "run", data=small_data)
    # the folder was let go: overwrite=True starts over there
    cgan.prepare(settings, tmp_path / "run", overwrite=True, data=small_data).close()
