"""The run folder's lock: one training process per run folder at a time."""
from __future__ import annotations

import os
import sys
from pathlib import Path


class RunFolderInUse(RuntimeError):
    """Another process is training in this run folder."""


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
        except OSError:
            self.fh.seek(0)
            holder = self.fh.read().strip() or "unknown"
            self.fh.close()
            raise RunFolderInUse(f"{run_dir} is in use by another training run (process {holder}); wait for it "
                                 "to end or stop it, or train in another folder") from None
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
