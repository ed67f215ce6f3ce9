"""The test run's guard against writes outside temporary folders: what the run added,
changed or removed in the root folder (top level), the home folder (top level) and the
checkout (every file but the caches the README names)."""
from __future__ import annotations

import os
from pathlib import Path

# Caches and tool folders a test run may create or change (README, "Set-up and tests").
HOME_CACHES = {".cache", ".config", ".local", ".ipython", ".jupyter", ".keras"}
CHECKOUT_CACHES = {".git", ".venv", "__pycache__", ".pytest_cache", "cgan.egg-info", ".ipynb_checkpoints"}


def listing(folder: Path) -> dict[str, tuple[int, int]]:
    """Top-level entries of ``folder``: name -> (mtime_ns of files, size); folders as (0, 0)."""
    out = {}
    for entry in os.scandir(folder):
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        out[entry.name] = (0, 0) if entry.is_dir(follow_symlinks=False) else (st.st_mtime_ns, st.st_size)
    return out


def tree(folder: Path, skip: set[str]) -> dict[str, tuple[int, int]]:
    """Every file under ``folder`` (folders named in ``skip`` left out): path -> (mtime_ns, size)."""
    out = {}
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d not in skip]
        for name in files:
            path = Path(root) / name
            try:
                st = path.stat()
            except OSError:
                continue
            out[str(path.relative_to(folder))] = (st.st_mtime_ns, st.st_size)
    return out


def state(root: Path, home: Path, checkout: Path) -> dict[str, dict]:
    return {"/": {k: v for k, v in listing(root).items() if k not in ("tmp", "proc", "sys", "dev", "run")},
            "~": {k: v for k, v in listing(home).items() if k not in HOME_CACHES},
            "checkout": tree(checkout, CHECKOUT_CACHES)}


def changes(before: dict[str, dict], after: dict[str, dict]) -> list[str]:
    """What differs between two :func:`state` results, one line a path."""
    out = []
    for where in before:
        a, b = before[where], after[where]
        out += [f"{where}: added {k}" for k in sorted(b.keys() - a.keys())]
        out += [f"{where}: removed {k}" for k in sorted(a.keys() - b.keys())]
        out += [f"{where}: changed {k}" for k in sorted(a.keys() & b.keys()) if a[k] != b[k]]
    return out
