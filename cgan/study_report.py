"""The seed study's report: the judged seeds collected (from run folders or earlier
reports), their numbers summarised over seeds (mean ± sd, min-max), and written into
``figs/study/`` as ``study.json``, ``study.md``, ``study_curves.png`` and each seed's
picture. Also what the README and the notebook quote of it (:func:`quote`): the
summary table, where the article's published figures fall within our seeds' spread,
and whether the averaged generator met the targets set for it.

Training and judging the seeds is :mod:`cgan.study`.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from . import checks
from .files import atomic_path
from .study import EVALUATION_FILE, FAITHFUL, picture_name, published_manifolds, reference_rows

# Targets set for the averaged generator (issue #14), as means over the study's seeds.
TARGET_ACCURACY = 0.995        # manifold accuracy
TARGET_LABEL_ACCURACY = 0.98   # no label's manifold accuracy under this
TARGET_FD_RATIO = 0.5          # Fréchet distance at most this share of the faithful rows'


def _mean_sd(values: list[float]) -> dict:
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], "float64")
    if not len(v):
        return {"mean": None, "sd": None, "min": None, "max": None, "n": 0}
    return {"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
            "min": float(v.min()), "max": float(v.max()), "n": int(len(v))}


def row_numbers(row: dict) -> dict:
    """The numbers a study reports for one evaluated row (see :func:`cgan.metrics.evaluate`)."""
    out = {"fd": row["fd"], "classes_over_5pct": int(sum(c >= 0.05 for c in row["coverage"])),
           "largest_class_share": max(row["coverage"])}
    if "accuracy_manifold" in row:
        per = row["accuracy_manifold"]["per_label"]
        fds = row["fd_per_label"]
        out.update(accuracy_manifold=row["accuracy_manifold"]["overall"],
                   accuracy_random_z=row["accuracy_random_z"]["overall"],
                   worst_label_accuracy=min(per), worst_accuracy_label=int(np.argmin(per)),
                   worst_label_fd=max(fds), worst_fd_label=int(np.argmax(fds)))
        if "fd_manifold" in row:
            out["fd_manifold"] = row["fd_manifold"]
    if row.get("parzen"):
        out["parzen"] = row["parzen"]["mean"]
    return out


SUMMARY_KEYS = ("accuracy_manifold", "accuracy_random_z", "fd", "fd_manifold", "worst_label_accuracy",
                "worst_label_fd", "classes_over_5pct", "largest_class_share", "parzen",
                "d_steps_per_iteration", "g_steps_per_iteration", "training_minutes")


def collect(folders: Sequence[Path]) -> list[dict]:
    """The evaluations in the given folders, by kind then seed: a seed folder's
    ``evaluation.json``, or every seed of an earlier report's ``study.json`` (its pictures
    beside it). Folders with neither are skipped; a seed found twice counts once, as found last."""
    found = {}
    for folder in folders:
        folder = Path(folder)
        if (folder / EVALUATION_FILE).is_file():
            evaluations = [json.loads((folder / EVALUATION_FILE).read_text())]
        elif (folder / "study.json").is_file():
            evaluations = json.loads((folder / "study.json").read_text()).get("evaluations", [])
        else:
            continue
        for evaluation in evaluations:
            found[(evaluation["kind"], evaluation["seed"])] = {**evaluation, "run_dir": str(folder)}
    return [found[k] for k in sorted(found)]


def seed_folders(dirs: Sequence[str | os.PathLike]) -> list[Path]:
    """Seed run folders in ``dirs``: each a seed folder itself or a folder of them."""
    out = []
    for d in dirs:
        d = checks.path("--collect", d)
        if not d.is_dir():
            raise FileNotFoundError(f"{d} is not a folder; --collect takes study run folders (runs/study) "
                                    "or seed folders (runs/study/cgan-seed-2017)")
        if (d / "settings.json").is_file() or (d / "study.json").is_file():
            out.append(d)
        else:
            out.extend(sorted(p for p in d.glob("*-seed-*") if p.is_dir()))
    return out


def build_report(evaluations: list[dict], reference: dict, article: dict | None, command: str) -> dict:
    """study.json's content: every seed's numbers, and per kind and variant mean ± sd, min-max."""
    seeds, summary = [], {}
    diverged = [{"kind": e["kind"], "seed": e["seed"], "iterations": e["iterations"], "message": e["diverged"]}
                for e in evaluations if e.get("diverged")]
    for e in evaluations:
        for variant, row in e["rows"].items():
            numbers = {**row_numbers(row), "d_steps_per_iteration": e["d_steps_per_iteration"],
                       "g_steps_per_iteration": e["g_steps_per_iteration"],
                       "training_minutes": e["training_seconds"] / 60}
            seeds.append({"kind": e["kind"], "seed": e["seed"], "variant": variant, "iterations": e["iterations"],
                          "threads": e["settings"].get("threads"), "machine": e["machine"], **numbers})
    for kind in sorted({s["kind"] for s in seeds}):
        for variant in dict.fromkeys(s["variant"] for s in seeds if s["kind"] == kind):
            group = [s for s in seeds if s["kind"] == kind and s["variant"] == variant]
            summary[f"{kind}: {variant}"] = {k: _mean_sd([g.get(k) for g in group]) for k in SUMMARY_KEYS
                                             if any(g.get(k) is not None for g in group)}
    return {"command": command, "seeds": seeds, "summary": summary, "diverged": diverged,
            "evaluations": [{k: v for k, v in e.items() if k != "run_dir"} for e in evaluations],
            "reference": {kind: {name: row_numbers(row) for name, row in rows.items()}
                          for kind, rows in reference.items()},
            "article_figures": article, "targets": targets(evaluations, summary)}


def targets(evaluations: list[dict], summary: dict) -> list[dict]:
    """Each averaged CGAN variant against the targets set for it, as means over seeds:
    manifold accuracy >= 99.5%, no label's (mean) manifold accuracy under 98%, and a
    Fréchet distance at most half the faithful rows'."""
    faithful = summary.get(f"cgan: {FAITHFUL}", {}).get("fd")
    out = []
    for name, stats in summary.items():
        if not name.startswith("cgan: ") or name == f"cgan: {FAITHFUL}":
            continue
        variant = name[len("cgan: "):]
        per_label = np.mean([e["rows"][variant]["accuracy_manifold"]["per_label"] for e in evaluations
                             if e["kind"] == "cgan" and variant in e.get("rows", {})], axis=0)
        fd_ratio = stats["fd"]["mean"] / faithful["mean"] if faithful and faithful["mean"] else None
        out.append({"variant": variant, "seeds": stats["accuracy_manifold"]["n"],
                    "accuracy_manifold": stats["accuracy_manifold"]["mean"],
                    "accuracy_met": stats["accuracy_manifold"]["mean"] >= TARGET_ACCURACY,
                    "lowest_label": int(np.argmin(per_label)), "lowest_label_accuracy": float(per_label.min()),
                    "labels_met": bool(per_label.min() >= TARGET_LABEL_ACCURACY),
                    "fd": stats["fd"]["mean"], "fd_faithful": faithful["mean"] if faithful else None,
                    "fd_ratio": fd_ratio, "fd_met": fd_ratio is not None and fd_ratio <= TARGET_FD_RATIO})
    return out


def target_lines(report: dict) -> list[str]:
    """The averaged generator's targets, met or not, one markdown bullet a variant."""
    def met(ok):
        return "met" if ok else "**not met**"

    return [f"- {t['variant']}: manifold accuracy {_pct(t['accuracy_manifold'])} "
            f"(target ≥ {_pct(TARGET_ACCURACY)}: {met(t['accuracy_met'])}); lowest label, mean over seeds: "
            f"{t['lowest_label']} at {_pct(t['lowest_label_accuracy'])} (target ≥ {_pct(TARGET_LABEL_ACCURACY)}: "
            f"{met(t['labels_met'])}); Fréchet distance {_num(t['fd'])}, {t['fd_ratio']:.2f}× the faithful "
            f"rows' {_num(t['fd_faithful'])} (target ≤ {TARGET_FD_RATIO:g}×: {met(t['fd_met'])})"
            for t in report.get("targets", [])]


def article_position(report: dict) -> list[str]:
    """Where the article's published figures (read back from its PNGs) fall within the
    spread of our faithful CGAN seeds: one markdown bullet a measure."""
    article = report.get("article_figures")
    stats = report["summary"].get(f"cgan: {FAITHFUL}")
    if not article or not stats:
        return []
    measures = [("manifold accuracy", article["accuracy_manifold"]["overall"], "accuracy_manifold", _pct, ""),
                ("worst label's manifold accuracy", min(article["accuracy_manifold"]["per_label"]),
                 "worst_label_accuracy", _pct, ""),
                ("Fréchet distance of the manifolds", article["fd_manifold"], "fd_manifold", _num,
                 " (lower is better; reading the published PNGs back blurs their digits, which raises it)")]
    out = []
    for name, value, key, fmt, note in measures:
        s = stats.get(key)
        if not s or s["mean"] is None:
            continue
        where = ("above every one of" if value > s["max"] else "below every one of" if value < s["min"]
                 else "within the range of")
        out.append(f"- {name}: the article's {fmt(value)} is {where} our {s['n']} faithful seeds "
                   f"({fmt(s['min'])}–{fmt(s['max'])}, mean {fmt(s['mean'])}){note}")
    return out


def judgement(report: dict) -> list[str]:
    """Markdown lines: where the article's published figures fall, and the averaged
    generator's targets, met or not."""
    out, position, aims = [], article_position(report), target_lines(report)
    if position:
        out += ["Where the article's published figures fall:", "", *position, ""]
    if aims:
        out += ["The averaged generator (ours) against its targets (means over seeds):", "", *aims, ""]
    return out


def _article_cells(article: dict) -> dict:
    """The article's published figures in the summary tables' columns."""
    return {"accuracy_manifold": _pct(article["accuracy_manifold"]["overall"]),
            "fd_manifold": _num(article["fd_manifold"]),
            "worst_label_accuracy": _pct(min(article["accuracy_manifold"]["per_label"]))}


def quote(report: dict) -> str:
    """What the README and the notebook quote of a study: per kind, mean ± sd (min-max)
    over seeds of the main numbers, then where the article's published figures fall and the
    averaged generator's targets."""
    out = []
    for kind in sorted({s["kind"] for s in report["seeds"]}):
        names = [n for n in report["summary"] if n.startswith(f"{kind}: ")]
        n = max(report["summary"][name]["fd"]["n"] for name in names)
        if kind == "cgan":
            keys = ["accuracy_manifold", "accuracy_random_z", "fd", "worst_label_accuracy"]
            heads = ["accuracy, manifold", "accuracy, random z", "Fréchet distance", "worst label's accuracy"]
        else:
            keys, heads = ["fd", "classes_over_5pct", "largest_class_share"], \
                ["Fréchet distance", "classes ≥ 5%", "largest class share"]
        fmts = {k: (_pct if "accuracy" in k else _num) for k in keys}
        out += [f"| {'CGAN' if kind == 'cgan' else 'plain GAN'}, mean ± sd over {n} seeds (min–max) | "
                + " | ".join(heads) + " |", "|---" * (len(keys) + 1) + "|"]
        for name in names:
            stats = report["summary"][name]
            out.append(f"| {name[len(kind) + 2:]} | " + " | ".join(_ms(stats.get(k), fmts[k]) for k in keys) + " |")
        article = report.get("article_figures")
        if kind == "cgan" and article:
            cells = {k: v for k, v in _article_cells(article).items() if k in keys}
            out.append("| the article's published figures (read back from its PNGs) | "
                       + " | ".join(cells.get(k, "") for k in keys) + " |")
        out.append("")
        if kind == "cgan":
            out += judgement(report)
    return "\n".join(out)


def _pct(x):
    return "" if x is None else f"{100 * x:.1f}%"


def _num(x, digits=2):
    return "" if x is None else f"{x:.{digits}f}"


def _ms(stat, fmt):
    if not stat or stat["mean"] is None:
        return ""
    return f"{fmt(stat['mean'])} ± {fmt(stat['sd'])} ({fmt(stat['min'])}–{fmt(stat['max'])})"


def markdown(report: dict) -> str:
    """study.md: the per-seed rows, then mean ± sd (min–max) over seeds, with the ceiling,
    the floor and, where measured, the article's published figures."""
    pct = lambda x: f"{100 * x:.1f}%"  # noqa: E731
    out = [f"Made by `{report['command']}`.", ""]
    for kind in sorted({s["kind"] for s in report["seeds"]}):
        rows = [s for s in report["seeds"] if s["kind"] == kind]
        cond = kind == "cgan"
        out += [f"## {'CGAN' if cond else 'plain GAN'}: {len({r['seed'] for r in rows})} seeds, "
                f"{rows[0]['iterations']} iterations each", ""]
        if cond:
            out += ["| seed | variant | accuracy, manifold | accuracy, random z | Fréchet distance | FD of the manifolds "
                    "| worst label: accuracy | worst label: FD | D / G steps per iteration | training minutes |",
                    "|---" * 10 + "|"]
            for r in rows:
                out.append(f"| {r['seed']} | {r['variant']} | {_pct(r['accuracy_manifold'])} | "
                           f"{_pct(r['accuracy_random_z'])} | {_num(r['fd'])} | {_num(r.get('fd_manifold'))} | "
                           f"{r['worst_accuracy_label']}: {_pct(r['worst_label_accuracy'])} | "
                           f"{r['worst_fd_label']}: {_num(r['worst_label_fd'], 1)} | "
                           f"{r['d_steps_per_iteration']:.2f} / {r['g_steps_per_iteration']:.2f} | "
                           f"{r['training_minutes']:.1f} |")
        else:
            out += ["| seed | variant | Fréchet distance | classes ≥ 5% | largest class share | "
                    "D / G steps per iteration | training minutes |", "|---" * 7 + "|"]
            for r in rows:
                out.append(f"| {r['seed']} | {r['variant']} | {_num(r['fd'])} | {r['classes_over_5pct']} | "
                           f"{r['largest_class_share']:.2f} | {r['d_steps_per_iteration']:.2f} / "
                           f"{r['g_steps_per_iteration']:.2f} | {r['training_minutes']:.1f} |")
        if any(r.get("parzen") is not None for r in rows):
            out += ["", "Parzen log-likelihood: " + ", ".join(f"seed {r['seed']} {r['variant']}: {r['parzen']:.0f}"
                                                              for r in rows if r.get("parzen") is not None)]
        out += ["", "Over seeds: mean ± sd (min–max).", ""]
        keys = (["accuracy_manifold", "accuracy_random_z", "fd", "fd_manifold", "worst_label_accuracy",
                 "worst_label_fd"] if cond else ["fd", "classes_over_5pct", "largest_class_share"])
        keys += ["parzen"] if any(r.get("parzen") is not None for r in rows) else []
        heads = {"accuracy_manifold": "accuracy, manifold", "accuracy_random_z": "accuracy, random z",
                 "fd": "Fréchet distance", "fd_manifold": "FD of the manifolds",
                 "worst_label_accuracy": "worst label's accuracy", "worst_label_fd": "worst label's FD",
                 "classes_over_5pct": "classes ≥ 5%", "largest_class_share": "largest class share",
                 "parzen": "Parzen log-likelihood"}
        fmts = {k: (pct if "accuracy" in k else (lambda x: f"{x:.2f}")) for k in keys}
        out += ["| | " + " | ".join(heads[k] for k in keys) + " |", "|---" * (len(keys) + 1) + "|"]
        for name, stats in report["summary"].items():
            if name.startswith(f"{kind}: "):
                out.append(f"| {name[len(kind) + 2:]} | " + " | ".join(_ms(stats.get(k), fmts[k]) for k in keys) + " |")
        for name, numbers in report["reference"].get(kind, {}).items():
            out.append(f"| {name} | " + " | ".join(fmts[k](numbers[k]) if numbers.get(k) is not None else ""
                                                   for k in keys) + " |")
        article = report.get("article_figures")
        if cond and article:
            cells = _article_cells(article)
            out.append("| the article's published figures (read back from its PNGs) | "
                       + " | ".join(cells.get(k, "") for k in keys) + " |")
        out.append("")
        if cond:
            out += judgement(report)
    for d in report.get("diverged", []):
        out += [f"{d['kind'].upper()} seed {d['seed']} diverged after {d['iterations']} iterations and was not "
                f"judged: {d['message']}", ""]
    machines = sorted({s["machine"] for s in report["seeds"]})
    threads = sorted({str(s["threads"]) for s in report["seeds"]})
    out += [f"Machine{'s' if len(machines) > 1 else ''}: " + "; ".join(machines)
            + f". TensorFlow threads per training: {', '.join(threads)} (0: TensorFlow's choice).", ""]
    return "\n".join(out)


def plot_curves(evaluations: list[dict], path: Path) -> None:
    """Manifold accuracy and Fréchet distance over training, one line a CGAN seed."""
    from . import metrics

    with atomic_path(path, keep_suffix=True) as tmp:
        metrics.plot_curves({f"seed {e['seed']}": e["curves"] for e in evaluations if e.get("curves")}, tmp)


def write_report(evaluations: list[dict], figs_dir: Path, cache_dir: Path, command: str,
                 article_figs: str | os.PathLike | None = None) -> dict:
    """Write study.json, study.md, study_curves.png and every seed's picture into ``figs_dir``."""
    import shutil

    if not evaluations:
        raise ValueError("no judged seeds to report: train some first (python -m cgan study --seeds ...)")
    figs_dir.mkdir(parents=True, exist_ok=True)
    for e in evaluations:  # each seed's pictures, drawn when it was judged
        for row in e["rows"].values():
            name = picture_name(e["kind"], e["seed"], row["decay"])
            source, target = Path(e["run_dir"]) / name, figs_dir / name
            if not source.is_file():
                raise FileNotFoundError(f"{source} is missing: judge the seed again (delete {EVALUATION_FILE} "
                                        "beside it and run the study command)")
            if source.resolve() != target.resolve():
                with atomic_path(target, keep_suffix=True) as tmp:
                    shutil.copyfile(source, tmp)
    kinds = sorted({e["kind"] for e in evaluations})
    options = {(e["per_label"], e["parzen"]) for e in evaluations}
    if len(options) > 1:
        raise ValueError("the seeds were judged with different --per-label / --parzen: "
                         + ", ".join(f"{e['kind']} seed {e['seed']}: {e['per_label']}, parzen {e['parzen']}"
                                     for e in evaluations) + "; judge them again with the same options")
    per_label, parzen = options.pop()
    reference = {kind: reference_rows(kind, per_label, parzen, cache_dir) for kind in kinds}
    article = published_manifolds(article_figs) if article_figs is not None and "cgan" in kinds else None
    report = build_report(evaluations, reference, article, command)
    for name, text in (("study.json", json.dumps(report, indent=1)), ("study.md", markdown(report))):
        with atomic_path(figs_dir / name) as tmp:
            tmp.write_text(text)
    if "cgan" in kinds:
        plot_curves(evaluations, figs_dir / "study_curves.png")
    return report


