"""A sweep over settings: the seed study run at every cell of a grid, e.g.
``python -m cgan study --grid lr_dis=1e-4,3e-4,1e-3 --grid k_step=5,10 --iterations 300 --no-judge``.

Each cell is the study's settings with the grid's values for that cell; its seeds train in
``runs_dir/<cell>/<kind>-seed-<seed>`` (:func:`cell_name`: ``lr_dis=0.001,k_step=10``), all
through the same engine (:func:`cgan.study.run_seeds`), so the command run again resumes.
With ``--no-judge`` the seeds are only trained, and the report is :mod:`cgan.sweep_report`'s
divergence rates; without it each cell gets a study report of its own in ``figs_dir/<cell>``.
"""
from __future__ import annotations

import ast
import itertools
import os
from pathlib import Path
from typing import Any, Sequence

from .settings import Settings
from .study import distinct_seeds, seed_dir

# Settings a grid may not vary: the seeds are the study's own axis, and a cell's folders are
# named by the grid's values, not by these.
NOT_ON_A_GRID = ("seed", "threads", "tensorboard", "conditional")


def parse_axis(text: str) -> tuple[str, tuple[Any, ...]]:
    """``"lr_dis=1e-4,3e-4"`` -> ``("lr_dis", (0.0001, 0.0003))``: a setting of
    :class:`cgan.Settings` and its values (Python literals), each checked by ``Settings``."""
    if "=" not in text:
        raise ValueError(f"--grid takes NAME=V1,V2,... (a setting of cgan.Settings and its values), got {text!r}")
    name, values = (part.strip() for part in text.split("=", 1))
    fields = Settings.__dataclass_fields__
    if name not in fields or name in NOT_ON_A_GRID:
        accepted = ", ".join(f for f in fields if f not in NOT_ON_A_GRID)
        raise ValueError(f"--grid {text!r}: {name!r} is not a setting a grid can vary; accepted: {accepted}")
    parsed = []
    for value in (v.strip() for v in values.split(",")):
        try:
            parsed.append(ast.literal_eval(value))
        except (ValueError, SyntaxError):
            raise ValueError(f"--grid {text!r}: {value!r} is not a value (a number, True/False, a quoted "
                             "string)") from None
        Settings(**{name: parsed[-1]})  # a ValueError names what the setting accepts
    names = [value_text(v) for v in parsed]
    if not parsed or len(set(names)) != len(names):
        raise ValueError(f"--grid {text!r}: give distinct values, separated by commas (as folder names: "
                         f"{', '.join(names)})")
    return name, tuple(parsed)


def value_text(value: Any) -> str:
    """A grid value as a cell's folder and the report write it: ``0.001``, ``10``, ``True``."""
    return f"{value:g}" if isinstance(value, float) else str(value)


def parse_grid(texts: Sequence[str]) -> dict[str, tuple[Any, ...]]:
    """The ``--grid`` options as ``{setting: values}``, in the order given; a setting twice is
    a ``ValueError``."""
    grid: dict[str, tuple[Any, ...]] = {}
    for text in texts:
        name, values = parse_axis(text)
        if name in grid:
            raise ValueError(f"--grid names {name!r} twice; give all its values in one --grid {name}=V1,V2,...")
        grid[name] = values
    return grid


def cells(grid: dict[str, tuple[Any, ...]]) -> list[dict[str, Any]]:
    """Every cell of the grid, as ``{setting: value}``, the last axis varying fastest."""
    names = list(grid)
    return [dict(zip(names, values)) for values in itertools.product(*(grid[n] for n in names))]


def cell_name(cell: dict[str, Any]) -> str:
    """A cell's folder name: ``lr_dis=0.001,k_step=10``."""
    return ",".join(f"{name}={value_text(value)}" for name, value in cell.items())


def cell_dir(runs_dir: str | os.PathLike, cell: dict[str, Any]) -> Path:
    """A cell's folder of seed folders: ``runs_dir/lr_dis=0.001,k_step=10`` (``runs_dir`` for the
    one cell of an empty grid)."""
    return Path(runs_dir) / cell_name(cell)


def tasks(base: Settings, grid: dict[str, tuple[Any, ...]], seeds: Sequence[int],
          runs_dir: str | os.PathLike) -> list[tuple[Settings, Path]]:
    """Every (settings, run folder) of the sweep: each cell's settings at each seed."""
    distinct_seeds(seeds)
    return [(base.replace(**cell, seed=seed), seed_dir(cell_dir(runs_dir, cell), base.kind, seed))
            for cell in cells(grid) for seed in seeds]


def cell_tasks(tasks: Sequence[tuple[Settings, Path]], runs_dir: str | os.PathLike,
               cell: dict[str, Any]) -> list[tuple[Settings, Path]]:
    """The tasks of one cell: those whose folder is in the cell's folder."""
    folder = cell_dir(runs_dir, cell)
    return [(s, f) for s, f in tasks if Path(f).parent == folder]
