"""Argument checks shared by the public functions: each failure is a ``ValueError``
(or ``FileNotFoundError``) naming the argument, what it got and what is accepted."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np


def describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype} and shape {value.shape}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def array(name: str, value: Any, *, ndim: int | tuple[int, ...] | None = None, kinds: str = "fiub",
          finite: bool = True) -> np.ndarray:
    """``value`` as a numeric ndarray of ``ndim`` dimensions, all finite."""
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise ValueError(f"{name} must be a numeric array, got {describe(value)} ({exc})") from None
    ndims = (ndim,) if isinstance(ndim, int) else ndim
    if arr.dtype.kind not in kinds or (ndims is not None and arr.ndim not in ndims):
        dims = "" if ndims is None else f" with {' or '.join(map(str, ndims))} dimensions"
        raise ValueError(f"{name} must be a numeric array{dims}, got {describe(value)}")
    if finite and arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must hold finite numbers, got NaN or infinity")
    return arr


def is_int(value: Any) -> bool:
    """An integer, numpy's included, but not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def integer(name: str, value: Any, low: int, high: int | None = None) -> int:
    """``value`` as an int in ``low..high`` (no upper bound if ``high`` is None)."""
    if not is_int(value) or value < low or (high is not None and value > high):
        accepted = f"an integer >= {low}" if high is None else f"an integer in {low}..{high}"
        raise ValueError(f"{name} must be {accepted}, got {describe(value)}")
    return int(value)


def path(name: str, value: Any) -> Path:
    if not isinstance(value, (str, os.PathLike)) or str(value) == "" or "\x00" in str(value):
        raise ValueError(f"{name} must be a non-empty path (str or os.PathLike), got {describe(value)}")
    return Path(value).expanduser()


def output_file(name: str, value: Any) -> Path:
    """A file path whose folder exists and is writable."""
    p = path(name, value)
    folder = p.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"{name}={str(p)!r}: its folder {str(folder)!r} does not exist")
    if not os.access(folder, os.W_OK):
        raise ValueError(f"{name}={str(p)!r}: its folder {str(folder)!r} is not writable")
    if p.is_dir():
        raise ValueError(f"{name}={str(p)!r} is a folder; a file path is accepted")
    return p


def output_dir(name: str, value: Any) -> Path:
    """A folder that exists or can be made, and is writable."""
    p = path(name, value)
    if p.exists() and not p.is_dir():
        raise ValueError(f"{name}={str(p)!r} exists and is not a folder")
    existing = p
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK):
        raise ValueError(f"{name}={str(p)!r} cannot be written ({str(existing)!r} is not a writable folder)")
    return p


def latent(name: str, z: Any, latent_dim: int) -> np.ndarray:
    """``z`` as float32 (N, latent_dim), or a ``ValueError`` saying what shape it must have."""
    arr = array(name, z, kinds="fiu")
    if arr.ndim != 2 or arr.shape[1] != latent_dim:
        raise ValueError(f"{name} must have shape (N, {latent_dim}) (latent_dim={latent_dim}), got shape {arr.shape}")
    if arr.dtype.kind == "f" and np.any(np.abs(arr) > 1e30):
        raise ValueError(f"{name} must hold finite numbers of float32 range")
    return arr.astype("float32")
