"""The run folder's lock: one training process per run folder at a time."""
from __future__ import annotations

import os
import sys
from pathlib import Path


class RunFolderInUse(RuntimeError):
    """Another process is training in this run folder."""


class RunFolderUnlockable(RuntimeError):
    """The run folder's filesystem refused the lock itself (not another process): some
    network filesystems do not support ``flock``."""


class RunLock:
    """An exclusive OS lock (``flock``) on ``run_dir/.lock``, held while a run trains there.
    The OS drops it when the process ends, however it ends, so a killed run leaves no
    stale lock. The file names the holder (process id and command) for the error message.
    Opening the same folder again in the same process (a notebook cell run twice) takes
    the lock over from the earlier run object."""

    _held: dict[str, "RunLock"] = {}  # by folder, in this process

    def __init__(self, run_dir: Path):
        import fcntl

        self.path = Path(run_dir) / ".lock"
        key = str(self.path.resolve())
        earlier = RunLock._held.get(key)
        if earlier is not None:
            earlier.release()
        self.fh = open(self.path, "a+")
        try:
            fcntl.flock(self.fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # EWOULDBLOCK/EAGAIN: another process holds it
            self.fh.seek(0)
            holder = self.fh.read().strip() or "unknown"
            self.fh.close()
            raise RunFolderInUse(f"{run_dir} is in use by another training run (process {holder}); wait for it "
                                 "to end or stop it, or train in another folder") from None
        except OSError as exc:  # ENOLCK, EOPNOTSUPP, EINVAL, ...: the filesystem, not contention
            self.fh.close()
            raise RunFolderUnlockable(
                f"{run_dir}: its filesystem cannot lock {self.path.name} ({exc.strerror or exc}); a run folder must "
                "be on a filesystem with flock locks (a local disk; NFS and SMB only if mounted with locking): "
                "train in such a folder") from None
        self.fh.seek(0)
        self.fh.truncate()
        command = " ".join(sys.argv) or sys.executable
        self.fh.write(f"{os.getpid()}: {command}\n")
        self.fh.flush()
        RunLock._held[key] = self
        self.key = key

    def release(self) -> None:
        if self.fh.closed:
            return
        self.fh.close()  # closing the file drops the flock
        if RunLock._held.get(self.key) is self:
            del RunLock._held[self.key]


def wait_until_free(run_dir: str | os.PathLike, timeout: float = 120.0) -> bool:
    """Wait up to ``timeout`` seconds for no process to hold ``run_dir``'s lock (a seed's
    process that is being stopped lets go of it when it ends); True once it is free. A folder
    without a lock file is free."""
    import fcntl
    import time

    path = Path(run_dir) / ".lock"
    deadline = time.monotonic() + timeout
    while path.is_file():
        with open(path, "a") as fh:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True  # closing the file lets go again
            except BlockingIOError:
                pass
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True
