"""Files written whole or not at all, so an interrupted run never leaves a half-written one."""
from __future__ import annotations

import contextlib
import errno
import os
import shutil
from pathlib import Path
from typing import Callable, Iterator

_FULL = ("No space left on device", "Disk quota exceeded")  # how TensorFlow's file errors say it


class RunFolderFull(OSError):
    """The disk filled up while a run wrote into its folder. What was written before (the last
    complete checkpoint) is intact: free space, and the same command resumes."""


@contextlib.contextmanager
def disk_full_says_so(folder: str | os.PathLike, what: str, then: Callable[[], str]) -> Iterator[None]:
    """Turn a full disk while writing ``what`` into ``folder`` into one :class:`RunFolderFull`
    line that names the folder and what to do (``then()``: how the same command goes on)."""
    try:
        yield
    except Exception as exc:
        full = (isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)) or any(
            marker in str(exc) for marker in _FULL)
        if not full:
            raise
        raise RunFolderFull(errno.ENOSPC, f"{folder}: the disk is full (no space left while writing {what}); "
                                          f"free space, then {then()}") from None


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, keep_suffix: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` to write a file or a folder into; when the
    block ends without an error, rename it onto ``path`` (replacing what was there),
    otherwise remove it. ``keep_suffix`` names it ``name.tmp.ext`` rather than
    ``name.ext.tmp``, for writers that pick the format from the suffix."""
    path = Path(path)
    tmp = path.with_name(f"{path.stem}.tmp{path.suffix}" if keep_suffix else f"{path.name}.tmp")
    _remove(tmp)
    try:
        yield tmp
    except BaseException:
        _remove(tmp)
        raise
    if path.is_dir():
        shutil.rmtree(path)
    os.replace(tmp, path)
