"""Weights files: a list of arrays and a JSON header in one ``.npz``, written atomically."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from . import checks
from .averaging import key as average_key
from .files import atomic_path
from .settings import Settings

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"  # the weights that ship with the package


def shipped_generator_path(kind: str, averaged: bool | float = False) -> Path:
    """The shipped generator file of ``kind`` ("cgan" or "gan"): ``<kind>_generator.npz``, or
    ``<kind>_generator_averaged.npz`` (the seed study's run with its averages) if ``averaged``."""
    return WEIGHTS_DIR / f"{kind}_generator{'' if averaged is False else '_averaged'}.npz"


def average_group(path: str | os.PathLike, averaged: bool | float) -> str | None:
    """The group of weights in a generator file that ``averaged`` asks for: None for the trained
    weights (``False``), the file's first average (``True``), or the average of that decay."""
    if averaged is False:
        return None
    if averaged is True:
        values, _ = read_weights(path, "settings", "generator", "GANGraph.save_generator")
        decays = Settings.from_dict(values).ema_decay
        if not decays:
            raise ValueError(f"{path} holds no averaged generator (its run had ema_decay=None); "
                             "pass averaged=False")
        return average_key(decays[0])
    if isinstance(averaged, (int, float)) and not isinstance(averaged, bool) and 0 < averaged < 1:
        return average_key(averaged)
    raise ValueError(f"averaged={averaged!r} is invalid; accepted: False, True or a decay in (0, 1)")


def write_weights(path: str | os.PathLike, weights: list[np.ndarray], header_key: str, header: dict,
                  groups: dict[str, list[np.ndarray]] | None = None) -> Path:
    """Write ``weights`` as ``w0, w1, ...``, each further list of ``groups`` as
    ``<group>.w0, ...``, and ``header`` as JSON under ``header_key``, to a temporary file
    renamed onto ``path``."""
    path = checks.output_file("path", path)
    arrays = {f"w{i}": w for i, w in enumerate(weights)}
    for group, values in (groups or {}).items():
        arrays.update({f"{group}.w{i}": w for i, w in enumerate(values)})
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **{header_key: json.dumps(header)}, **arrays)
    return path


def read_weights(path: str | os.PathLike, header_key: str, noun: str, writer: str,
                 hint: str = "", group: str | None = None) -> tuple[dict[str, Any], list[np.ndarray]]:
    """The header and weights written by :func:`write_weights` (those of ``group``, if
    given). A missing file is a ``FileNotFoundError`` ("<noun> weights not found", then
    ``hint``), an unreadable one a ``ValueError`` naming ``writer``, and a missing group a
    ``ValueError`` naming the groups the file holds."""
    path = checks.path("path", path)
    if not path.is_file():
        raise FileNotFoundError(f"{noun} weights not found: {path}{hint}")
    try:
        with np.load(path, allow_pickle=False) as npz:
            header = json.loads(str(npz[header_key]))
            prefix = "" if group is None else f"{group}."
            names = [f"{prefix}w{i}" for i in range(len(npz.files)) if f"{prefix}w{i}" in npz.files]
            weights = [npz[name] for name in names]
            held = sorted({name.rsplit(".", 1)[0] for name in npz.files if ".w" in name})
    except Exception as exc:  # zip, key or JSON errors all mean the same thing here
        raise ValueError(f"{path} is not a {noun} file written by {writer} ({exc})") from exc
    if group is not None and not weights:
        raise ValueError(f"{path} holds no {group!r} weights; it holds: {held or 'only the trained weights'}")
    return header, weights


def assign_values(sess, variables: list, values: list[np.ndarray]) -> None:
    """Set graph ``variables`` to ``values`` in ``sess`` by re-running their initializers
    with the initial values fed: one session run, no new ops (the graph may be finalized)
    and none of the deprecated ``Variable.load``."""
    if len(variables) != len(values):
        raise ValueError(f"{len(values)} values for {len(variables)} variables")
    inits = [v.initializer for v in variables]  # AssignVariableOp(handle, initial value)
    sess.run(inits, {op.inputs[1]: value for op, value in zip(inits, values)})
