"""The report of a sweep whose seeds were only trained (``study --grid ... --no-judge``): per
cell of the grid, how many seeds diverged, the rate with its 95% Wilson score interval, and
from which iteration the discriminator had won; written as ``stability.json``,
``stability.md`` and (for one or two varied settings) ``stability.png``, a map of the rates."""
from __future__ import annotations

import json
import math
import statistics
from pathlib import Path
from typing import Any

from .files import atomic_path
from .settings import PRESETS, Settings
from .sweep import cell_name, cell_tasks, cells, value_text

Z95 = 1.959963984540054  # the standard normal's 97.5% quantile: a two-sided 95% interval


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion ``successes / n`` (95% by default);
    ``(0, 1)`` for ``n = 0``."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def presets_at(settings: Settings, names: list[str]) -> list[str]:
    """The presets (:data:`cgan.settings.PRESETS`) whose values of ``names`` and of the
    settings any preset changes are ``settings``'"""
    keys = set(names).union(*PRESETS.values())
    return [p for p in PRESETS if all(getattr(Settings.preset(p), k) == getattr(settings, k) for k in keys)]


def build_report(base: Settings, grid: dict[str, tuple[Any, ...]], tasks: list[tuple[Settings, Path]],
                 runs_dir: str | Path, command: str) -> dict:
    """``stability.json``'s content from the seeds' records (``evaluation.json``): a row a cell."""
    from .runfolder import EVALUATION_FILE

    rows, machines = [], set()
    for cell in cells(grid):
        name = cell_name(cell)
        mine = cell_tasks(tasks, runs_dir, cell)
        records = [json.loads((f / EVALUATION_FILE).read_text()) for _, f in mine if (f / EVALUATION_FILE).is_file()]
        diverged = [r for r in records if r.get("diverged")]
        stalled = [r["stalled_from"] for r in diverged if r.get("stalled_from") is not None]
        low, high = wilson(len(diverged), len(records))
        machines.update(r["machine"] for r in records if "machine" in r)
        rows.append({
            "cell": cell, "name": name, "presets": presets_at(base.replace(**cell), list(grid)),
            "seeds": len(records), "seeds_asked": len(mine), "diverged": len(diverged),
            "rate": len(diverged) / len(records) if records else None, "wilson95": [low, high],
            "diverged_seeds": sorted(r["seed"] for r in diverged), "stalled_from": stalled,
            "training_seconds": sum(r.get("training_seconds", 0.0) for r in records),
        })
    return {"command": command, "grid": {k: list(v) for k, v in grid.items()}, "iterations": base.iterations,
            "kind": base.kind, "settings": base.to_dict(), "seeds": sorted({s.seed for s, _ in tasks}),
            "machines": sorted(machines), "cells": rows}


def markdown(report: dict) -> str:
    """The report as a Markdown table, a row a cell, and a line on how to read it."""
    names, s = list(report["grid"]), report["settings"]
    lines = [f"Made by `{report['command']}`.", "",
             f"{'CGAN' if report['kind'] == 'cgan' else 'plain GAN'}, {report['iterations']} iterations a seed. "
             "A seed diverged if the run stopped itself: a loss became NaN, or the discriminator won "
             f"(every iteration of {s['stall_periods']} periods of {s['batches_per_period']} spent all k_step "
             f"generator steps and still ended with L_dis < {s['stall_loss']:g}). "
             "'D won from': the first iteration of that win.", "",
             "| " + " | ".join([*names, "seeds", "diverged", "rate (95% Wilson interval)", "D won from (median, "
                                "range)", "preset"]) + " |",
             "|" + "---|" * (len(names) + 5)]
    for row in report["cells"]:
        low, high = row["wilson95"]
        rate = "—" if row["rate"] is None else f"{row['rate']:.0%} ({low:.0%}–{high:.0%})"
        stalled = row["stalled_from"]
        won = (f"{statistics.median(stalled):g} ({min(stalled)}–{max(stalled)})" if stalled else "—")
        seeds = f"{row['seeds']}" + (f" of {row['seeds_asked']}" if row["seeds"] != row["seeds_asked"] else "")
        lines.append("| " + " | ".join([*(value_text(row["cell"][n]) for n in names), seeds, str(row["diverged"]), rate,
                                        won, ", ".join(row["presets"])]) + " |")
    lines += ["", f"Seeds: {', '.join(map(str, report['seeds']))}. Machine: {'; '.join(report['machines'])}."]
    return "\n".join(lines) + "\n"


def plot(report: dict, path: Path) -> bool:
    """The map of divergence rates over one or two varied settings (rows: the second), each
    cell labelled with diverged/seeds and its Wilson interval; presets marked. False (nothing
    drawn) for other grids."""
    names = list(report["grid"])
    if not 1 <= len(names) <= 2:
        return False
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import numpy as np

    xs = report["grid"][names[0]]
    ys = report["grid"][names[1]] if len(names) == 2 else [None]
    rates = np.full((len(ys), len(xs)), np.nan)
    fig, ax = plt.subplots(figsize=(1.9 * len(xs) + 2, 1.3 * len(ys) + 1.6))
    for row in report["cells"]:
        i = ys.index(row["cell"][names[1]]) if len(names) == 2 else 0
        j = xs.index(row["cell"][names[0]])
        if row["rate"] is not None:
            rates[i, j] = row["rate"]
        low, high = row["wilson95"]
        text = f"{row['diverged']}/{row['seeds']}\n{low:.0%}–{high:.0%}" + (
            "\n" + ", ".join(row["presets"]) if row["presets"] else "")
        ax.text(j, i, text, ha="center", va="center", fontsize=9,
                color="white" if row["rate"] is not None and row["rate"] > 0.6 else "black")
    image = ax.imshow(rates, cmap="Reds", vmin=0, vmax=1, origin="lower", aspect="auto")
    ax.set_xticks(range(len(xs)), [value_text(x) for x in xs])
    ax.set_xlabel(names[0])
    ax.set_yticks(range(len(ys)), [value_text(y) for y in ys] if len(names) == 2 else [""])
    if len(names) == 2:
        ax.set_ylabel(names[1])
    fig.colorbar(image, ax=ax, label="share of seeds diverged")
    ax.set_title(f"{'CGAN' if report['kind'] == 'cgan' else 'plain GAN'}: diverged within "
                 f"{report['iterations']} iterations (95% Wilson)", fontsize=10)
    fig.tight_layout()
    with atomic_path(path, keep_suffix=True) as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)
    return True


def write_report(report: dict, figs_dir: Path) -> dict:
    """Write ``stability.json``, ``stability.md`` and ``stability.png`` (:func:`plot`) into ``figs_dir``."""
    figs_dir = Path(figs_dir)
    figs_dir.mkdir(parents=True, exist_ok=True)
    for name, text in (("stability.json", json.dumps(report, indent=1)), ("stability.md", markdown(report))):
        with atomic_path(figs_dir / name) as tmp:
            tmp.write_text(text)
    plot(report, figs_dir / "stability.png")
    return report
