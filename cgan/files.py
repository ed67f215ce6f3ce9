"""Files written whole or not at all, so an interrupted run never leaves a half-written one."""
from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path
from typing import Iterator


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
