"""One writer per run folder (cgan.runlock): a second process is refused at once, a killed
owner's lock is gone, a notebook cell run again takes its own lock over, and a filesystem that
cannot lock says so (not "in use")."""
import errno
import fcntl

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import cgan
from conftest import TINY, TINY_ARGS

ROOT = Path(__file__).resolve().parent.parent


def test_a_second_writer_is_refused_and_a_killed_owners_folder_resumes(tmp_path):
    run_dir = tmp_path / "run"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time, cgan
        from cgan.runfolder import open_run
        run = open_run(cgan.{TINY!r}, r"{run_dir}")
        print("holding", flush=True)
        time.sleep(600)
    """)], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert holder.stdout.readline().strip() == "holding"
        start = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "cgan", "train", "--run-dir", str(run_dir), *TINY_ARGS],
                              capture_output=True, text=True, timeout=300, cwd=ROOT)
        assert proc.returncode == 4
        assert str(run_dir) in proc.stderr and f"process {holder.pid}:" in proc.stderr, proc.stderr
        assert time.monotonic() - start < 120  # at once, not after training
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # the OS dropped the killed owner's lock: the folder can be trained in
    proc = subprocess.run([sys.executable, "-m", "cgan", "train", "--run-dir", str(run_dir), *TINY_ARGS],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_reopening_a_folder_in_the_same_process_takes_the_lock_over(tmp_path, small_data):
    from cgan.runfolder import open_run
    s = cgan.Settings(seed=0, batch_size=16)
    first = open_run(s, tmp_path / "run", data=small_data)
    second = open_run(s, tmp_path / "run", data=small_data)  # a notebook cell run again
    assert first.lock.fh.closed and not second.lock.fh.closed
    second.close()


def test_a_filesystem_without_locks_is_not_called_in_use(tmp_path, monkeypatch):
    from cgan.runlock import RunFolderInUse, RunFolderUnlockable, RunLock

    def no_locks(fd, op):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    with pytest.raises(RunFolderUnlockable) as caught:  # not RunFolderInUse
        RunLock(tmp_path)
    assert str(caught.value).startswith(f"{tmp_path}: its filesystem cannot lock .lock (No locks available)")
    assert "flock" in str(caught.value) and not issubclass(RunFolderUnlockable, RunFolderInUse)

    def held(fd, op):
        raise BlockingIOError(errno.EWOULDBLOCK, "Resource temporarily unavailable")

    monkeypatch.setattr(fcntl, "flock", held)
    (tmp_path / ".lock").write_text("123: python -m cgan train\n")
    with pytest.raises(RunFolderInUse, match=r"in use by another training run \(process 123: python -m cgan train\)"):
        RunLock(tmp_path)
