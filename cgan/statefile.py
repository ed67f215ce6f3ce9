"""A checkpoint's loop state as data only: ``state.json`` (the structure: numbers, strings,
lists, dicts) beside ``state.npz`` (its arrays, read with ``allow_pickle=False``), so that
reading a run folder, on shared storage too, runs no code. Python and numpy types come back as
they went in (tuples, dicts with number keys, numpy scalars with their dtype), so a run resumed
from it continues bit for bit.

Checkpoints written before 2026-12-05 hold ``state.pkl``; :func:`read_legacy` reads those with
an unpickler that builds only numpy arrays and scalars, and refuses anything else."""
from __future__ import annotations

import io
import json
import pickle
from pathlib import Path
from typing import Any

import numpy as np

JSON_FILE = "state.json"
ARRAYS_FILE = "state.npz"
LEGACY_FILE = "state.pkl"


def encode(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    """``value`` as JSON data, its arrays moved into ``arrays`` (named ``a0``, ``a1``, ...)."""
    if isinstance(value, np.generic):  # first: np.float64 is a float, np.str_ a str
        if value.dtype.kind not in "biuf":
            raise TypeError(f"a checkpoint's state holds numbers, strings and arrays; got a numpy {value.dtype}")
        return {"__numpy__": value.dtype.str, "value": value.item()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise TypeError("a checkpoint's state holds data only; got an array of Python objects")
        name = f"a{len(arrays)}"
        arrays[name] = value
        return {"__array__": name}
    if isinstance(value, tuple):
        return {"__tuple__": [encode(v, arrays) for v in value]}
    if isinstance(value, list):
        return [encode(v, arrays) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("__") for k in value):
            return {k: encode(v, arrays) for k, v in value.items()}
        return {"__items__": [[encode(k, arrays), encode(v, arrays)] for k, v in value.items()]}
    raise TypeError(f"a checkpoint's state holds data only; got {type(value).__name__}")


def decode(data: Any, arrays) -> Any:
    """:func:`encode`'s inverse."""
    if isinstance(data, list):
        return [decode(v, arrays) for v in data]
    if not isinstance(data, dict):
        return data
    if "__array__" in data:
        return np.array(arrays[data["__array__"]])
    if "__numpy__" in data:
        return np.dtype(data["__numpy__"]).type(data["value"])
    if "__tuple__" in data:
        return tuple(decode(v, arrays) for v in data["__tuple__"])
    if "__items__" in data:
        return {_key(decode(k, arrays)): decode(v, arrays) for k, v in data["__items__"]}
    return {k: decode(v, arrays) for k, v in data.items()}


def _key(key: Any) -> Any:
    return tuple(key) if isinstance(key, list) else key


def write(folder: Path, state: dict[str, Any]) -> None:
    """Write ``state`` into ``folder`` as ``state.json`` and ``state.npz``."""
    arrays: dict[str, np.ndarray] = {}
    data = encode(state, arrays)
    with open(folder / ARRAYS_FILE, "wb") as fh:
        np.savez(fh, **arrays)
    (folder / JSON_FILE).write_text(json.dumps(data))


def read(folder: Path) -> dict[str, Any]:
    """The state in ``folder``: ``state.json`` and ``state.npz``, or a legacy ``state.pkl``
    (:func:`read_legacy`); a folder with neither is a ``FileNotFoundError``."""
    if (folder / JSON_FILE).is_file():
        data = json.loads((folder / JSON_FILE).read_text())
        with np.load(folder / ARRAYS_FILE, allow_pickle=False) as npz:
            return decode(data, npz)
    if (folder / LEGACY_FILE).is_file():
        return read_legacy(folder / LEGACY_FILE)
    raise FileNotFoundError(f"{folder} holds no loop state ({JSON_FILE} and {ARRAYS_FILE}, or {LEGACY_FILE})")


# What a legacy state.pkl may build: numpy's arrays, dtypes and scalars (under either module
# name numpy has used); dicts, lists, tuples, numbers and strings need no class.
_ALLOWED = {(module, name) for module in ("numpy.core.multiarray", "numpy._core.multiarray")
            for name in ("_reconstruct", "scalar")} | {("numpy", "ndarray"), ("numpy", "dtype")} | {
            (module, "_frombuffer") for module in ("numpy.core.numeric", "numpy._core.numeric")}  # pickle protocol 5


class _DataOnly(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"a checkpoint's state.pkl may hold only data and numpy arrays; it asks "
                                         f"for {module}.{name}, which is not read")
        return super().find_class(module, name)


def read_legacy(path: Path) -> dict[str, Any]:
    """A ``state.pkl`` of an older checkpoint, built of data and numpy arrays only."""
    return _DataOnly(io.BytesIO(Path(path).read_bytes())).load()
