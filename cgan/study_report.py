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
from .settings import FREE_SETTINGS, KIND_NAMES, PRESETS, Settings, settings_differ
from .study import (FAITHFUL, manifold_coverage, picture_manifolds, picture_name,
                    published_gan_manifold, published_manifolds, reference_rows)

# Targets set for the averaged generator, as means over the study's seeds.
TARGET_ACCURACY = 0.995        # manifold accuracy
TARGET_LABEL_ACCURACY = 0.98   # no label's manifold accuracy under this
TARGET_FD_RATIO = 0.5          # Fréchet distance at most this share of the faithful rows'
TOLERANCE = 1e-9               # floating-point slack when a mean sits on a target


def _mean_sd(values: list[float]) -> dict:
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], "float64")
    if not len(v):
        return {"mean": None, "sd": None, "min": None, "max": None, "n": 0}
    return {"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if len(v) > 1 else None,
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
    if "manifold_coverage" in row:  # the plain GAN's manifold, read from the seed's picture
        out.update(manifold_classes_over_5pct=row["manifold_coverage"]["classes_over_5pct"],
                   manifold_smallest_share=row["manifold_coverage"]["smallest_share"])
    if row.get("parzen"):
        out["parzen"] = row["parzen"]["mean"]
    return out


SUMMARY_KEYS = ("accuracy_manifold", "accuracy_random_z", "fd", "fd_manifold", "worst_label_accuracy",
                "worst_label_fd", "classes_over_5pct", "largest_class_share", "manifold_classes_over_5pct",
                "manifold_smallest_share", "parzen",
                "d_steps_per_iteration", "g_steps_per_iteration", "training_minutes")


def collect(folders: Sequence[Path]) -> list[dict]:
    """The evaluations in the given folders, by kind then seed: a seed folder's
    ``evaluation.json``, or every seed of an earlier report's ``study.json`` (its pictures
    beside it). Folders with neither are skipped; a seed found twice counts once, as found last."""
    from .runfolder import EVALUATION_FILE

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


def build_report(evaluations: list[dict], reference: dict, article: dict | None, command: str,
                 article_gan: dict | None = None) -> dict:
    """study.json's content: every seed's numbers, and per kind and variant mean ± sd, min-max;
    ``article`` / ``article_gan``: the article's CGAN / plain-GAN figures read back, if measured."""
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
            "article_figures": article, "article_gan_figure": article_gan, "settings": settings_line(evaluations),
            "targets": targets(evaluations)}


def settings_line(evaluations: list[dict]) -> str:
    """The study's settings in words: the preset they match (:data:`cgan.settings.PRESETS`), and
    how they differ from the defaults (the article's printed code) in what changes the math."""
    free = FREE_SETTINGS | {"seed", "ema_decay", "conditional"}
    found = set()
    for e in evaluations:
        settings = Settings.from_dict({k: v for k, v in e["settings"].items() if k in Settings.__dataclass_fields__})
        found.add(tuple((k, getattr(settings, k)) for k in settings_differ(Settings(), settings, free)))
    if not found:
        return ""
    if len(found) > 1:
        return "Settings: the seeds differ in their settings: " + "; ".join(
            ", ".join(f"{k}={v!r}" for k, v in diff) or "the defaults" for diff in sorted(found))
    diff = dict(found.pop())
    names = [name for name, changes in PRESETS.items() if changes == diff]
    words = ", ".join(f"{k}={v!r}" for k, v in diff.items())
    if not diff:
        return "Settings: the article's printed code (cgan's defaults, preset printed)."
    return (f"Settings: {words}" + (f" (preset {names[0]})" if names else " (no preset)")
            + "; the rest as the article prints them.")


def targets(evaluations: list[dict]) -> list[dict]:
    """Each averaged CGAN variant against the targets set for it, as means over the seeds
    that judged it: manifold accuracy >= 99.5%, no label's mean manifold accuracy under 98%,
    and a Fréchet distance at most half the faithful rows' on the same seeds."""
    judged = [e for e in evaluations if e["kind"] == "cgan" and FAITHFUL in e.get("rows", {})]
    variants = dict.fromkeys(v for e in judged for v in e["rows"] if v != FAITHFUL)
    out = []
    for variant in variants:
        rows = [(e["rows"][FAITHFUL], e["rows"][variant]) for e in judged if variant in e["rows"]]
        accuracy = float(np.mean([r["accuracy_manifold"]["overall"] for _, r in rows]))
        per_label = np.mean([r["accuracy_manifold"]["per_label"] for _, r in rows], axis=0)
        fd, fd_faithful = (float(np.mean([pair[k]["fd"] for pair in rows])) for k in (1, 0))
        ratio = fd / fd_faithful if np.isfinite(fd) and np.isfinite(fd_faithful) and fd_faithful > 0 else None
        out.append({"variant": variant, "seeds": len(rows),
                    "accuracy_manifold": accuracy, "accuracy_met": accuracy >= TARGET_ACCURACY - TOLERANCE,
                    "lowest_label": int(np.argmin(per_label)), "lowest_label_accuracy": float(per_label.min()),
                    "labels_met": bool(per_label.min() >= TARGET_LABEL_ACCURACY - TOLERANCE),
                    "fd": fd if np.isfinite(fd) else None, "fd_faithful": fd_faithful if np.isfinite(fd_faithful)
                    else None, "fd_ratio": ratio, "fd_met": ratio is not None and ratio <= TARGET_FD_RATIO + TOLERANCE})
    return out


def target_lines(report: dict) -> list[str]:
    """The averaged generator's targets, met or not, one markdown bullet a variant (from
    the report's ``targets``)."""
    def met(ok):
        return "met" if ok else "**not met**"

    def pct(x):  # two decimals: a target is judged on the unrounded number
        return f"{100 * x:.2f}%"

    lines = []
    for t in report["targets"]:
        fd = ("Fréchet distance not measured" if t["fd_ratio"] is None else
              f"Fréchet distance {_num(t['fd'])}, {t['fd_ratio']:.3f}× the faithful rows' {_num(t['fd_faithful'])} "
              f"on the same seeds (target ≤ {TARGET_FD_RATIO:g}×: {met(t['fd_met'])})")
        lines.append(f"- {t['variant']}, {_seeds(t['seeds'])}: manifold accuracy {pct(t['accuracy_manifold'])} "
                     f"(target ≥ {_pct(TARGET_ACCURACY)}: {met(t['accuracy_met'])}); the label with the lowest "
                     f"mean accuracy over seeds: {t['lowest_label']}, {pct(t['lowest_label_accuracy'])} (target ≥ "
                     f"{_pct(TARGET_LABEL_ACCURACY)}: {met(t['labels_met'])}); {fd}")
    return lines


def article_position(report: dict, kind: str = "cgan") -> list[str]:
    """Where the article's published figures (read back from its PNGs) fall within the
    spread of our faithful seeds of ``kind``: one markdown bullet a measure."""
    stats = report["summary"].get(f"{kind}: {FAITHFUL}")
    if kind == "cgan":
        article = report.get("article_figures")
        measures = [] if not article else [
            ("manifold accuracy", article["accuracy_manifold"]["overall"], "accuracy_manifold", _pct,
             ("higher than", "lower than"), ""),
            ("worst label's manifold accuracy", min(article["accuracy_manifold"]["per_label"]),
             "worst_label_accuracy", _pct, ("higher than", "lower than"), ""),
            ("Fréchet distance of the manifolds", article["fd_manifold"], "fd_manifold", _num,
             ("higher (worse) than", "lower (better) than"),
             "; reading the published PNGs back blurs their digits, which raises it")]
    else:
        article = report.get("article_gan_figure")
        measures = [] if not article else [
            ("classes at ≥ 5% of the manifold's 225 digits", article["classes_over_5pct"],
             "manifold_classes_over_5pct", _count, ("more than", "fewer than"), ""),
            ("the manifold's rarest class", article["smallest_share"], "manifold_smallest_share", _pct,
             ("more than", "less than"), "; ours read from their 8-bit pictures, the article's from its PNG")]
    if not article or not stats:
        return []
    out = []
    for name, value, key, fmt, (above, below), note in measures:
        s = stats.get(key)
        if not s or s["mean"] is None:
            continue
        if s["n"] == 1:
            where = f"{above if value > s['max'] else below if value < s['min'] else 'equal to'} our one faithful seed's"
            ours = fmt(s["mean"])
        else:
            where = (f"{above} every one of" if value > s["max"] else f"{below} every one of" if value < s["min"]
                     else "within the range of")
            where += f" our {s['n']} faithful seeds"
            ours = f"{fmt(s['min'])}–{fmt(s['max'])}, mean {fmt(s['mean'])}"
        out.append(f"- {name}: the article's {fmt(value)} is {where} ({ours}{note})")
    return out


def judgement(report: dict, kind: str = "cgan") -> list[str]:
    """Markdown lines: where the article's published figures fall, and (CGAN) the averaged
    generator's targets, met or not."""
    out, position = [], article_position(report, kind)
    aims = target_lines(report) if kind == "cgan" else []
    if position:
        out += ["Where the article's published figures fall:", "", *position, ""]
    if aims:
        out += ["The averaged generator (ours) against its targets (means over seeds):", "", *aims, ""]
    return out


HEADS = {"accuracy_manifold": "accuracy, manifold", "accuracy_random_z": "accuracy, random z",
         "fd": "Fréchet distance", "fd_manifold": "FD of the manifolds",
         "worst_label_accuracy": "worst label's accuracy", "worst_label_fd": "worst label's FD",
         "classes_over_5pct": "classes ≥ 5%", "largest_class_share": "largest class share",
         "manifold_classes_over_5pct": "manifold: classes ≥ 5%", "manifold_smallest_share": "manifold: rarest class",
         "parzen": "Parzen log-likelihood"}
GAN_KEYS = ["fd", "classes_over_5pct", "largest_class_share"]
GAN_MANIFOLD_KEYS = ["manifold_classes_over_5pct", "manifold_smallest_share"]


def _fmt(key: str):
    return _pct if "accuracy" in key or key == "manifold_smallest_share" else _num


def _gan_keys(report: dict) -> list[str]:
    """The plain GAN's columns: the manifold's too where the report measured them."""
    measured = any(s.get("manifold_classes_over_5pct") is not None for s in report["seeds"] if s["kind"] == "gan")
    return GAN_KEYS + (GAN_MANIFOLD_KEYS if measured else [])


def _summary_table(report: dict, kind: str, keys: list[str], title: str, with_reference: bool) -> list[str]:
    """Mean ± sd (min-max) over seeds of ``keys``, a row per variant; then, if asked, the
    ceiling and the floor; and the article's published figures (CGAN), where measured."""
    out = [f"| {title} | " + " | ".join(HEADS[k] for k in keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for name, stats in report["summary"].items():
        if name.startswith(f"{kind}: "):
            out.append(f"| {name[len(kind) + 2:]} | " + " | ".join(_ms(stats.get(k), _fmt(k)) for k in keys) + " |")
    if with_reference:
        for name, numbers in report["reference"].get(kind, {}).items():
            out.append(f"| {name} | " + " | ".join(_fmt(k)(numbers.get(k)) for k in keys) + " |")
    article = report.get("article_figures")
    if kind == "cgan" and article:
        cells = {"accuracy_manifold": _pct(article["accuracy_manifold"]["overall"]),
                 "fd_manifold": _num(article["fd_manifold"]),
                 "worst_label_accuracy": _pct(min(article["accuracy_manifold"]["per_label"]))}
        out.append("| the article's published figures (read back from its PNGs) | "
                   + " | ".join(cells.get(k, "") for k in keys) + " |")
    article = report.get("article_gan_figure")
    if kind == "gan" and article and any(k in keys for k in GAN_MANIFOLD_KEYS):
        cells = {"manifold_classes_over_5pct": f"{article['classes_over_5pct']}",
                 "manifold_smallest_share": _pct(article["smallest_share"])}
        out.append("| the article's published figure (read back from its PNG) | "
                   + " | ".join(cells.get(k, "") for k in keys) + " |")
    return out


def _diverged_lines(report: dict, kind: str) -> list[str]:
    return [f"{kind.upper()} seed {d['seed']} diverged after {d['iterations']} iterations and is in none of these "
            f"numbers: {d['message']}" for d in report.get("diverged", []) if d["kind"] == kind]


def _seeds(n: int) -> str:
    return "one seed" if n == 1 else f"{n} seeds"


def _kinds(report: dict) -> list[str]:
    return sorted({s["kind"] for s in report["seeds"]} | {d["kind"] for d in report.get("diverged", [])})


def quote(report: dict, kinds: Sequence[str] | None = None) -> str:
    """What the README and the notebook quote of a study: per kind, mean ± sd (min-max)
    over seeds of the main numbers, the seeds that diverged, then where the article's
    published figures fall and the averaged generator's targets. ``kinds`` (a list of
    "cgan" / "gan") keeps only those kinds; None keeps every kind the study holds."""
    held = _kinds(report)
    if kinds is not None:
        if not isinstance(kinds, (list, tuple)) or not kinds:
            raise ValueError(f"quote: kinds={kinds!r} is not a non-empty list; accepted: a list of the kinds "
                             f"this study holds, {held}, or None for all")
        missing = [k for k in kinds if k not in held]
        if missing:
            raise ValueError(f"quote: kinds={list(kinds)!r} asks for {missing}, which this study does not hold; "
                             f"accepted: a list of {held}, or None for all")
    out = []
    for kind in held:
        if kinds is not None and kind not in kinds:
            continue
        judged = sorted({s["seed"] for s in report["seeds"] if s["kind"] == kind})
        keys = (["accuracy_manifold", "accuracy_random_z", "fd", "worst_label_accuracy"] if kind == "cgan"
                else _gan_keys(report))
        title = f"{KIND_NAMES[kind]}, mean ± sd over {_seeds(len(judged))} (min–max)"
        out += [*(_summary_table(report, kind, keys, title, with_reference=False) if judged else []), ""]
        diverged = _diverged_lines(report, kind)
        out += [*diverged, ""] if diverged else []
        out += judgement(report, kind)
    return "\n".join(out)


def _pct(x):
    return "" if x is None else f"{100 * x:.1f}%"


def _count(x):
    """A count as a whole number, a mean of counts with two decimals."""
    return "" if x is None else f"{x:.0f}" if float(x).is_integer() else f"{x:.2f}"


def _num(x, digits=2):
    return "" if x is None else f"{x:.{digits}f}"


def _ms(stat, fmt):
    if not stat or stat["mean"] is None:
        return ""
    if stat["n"] == 1:
        return f"{fmt(stat['mean'])} (one seed)"
    return f"{fmt(stat['mean'])} ± {fmt(stat['sd'])} ({fmt(stat['min'])}–{fmt(stat['max'])})"


def markdown(report: dict) -> str:
    """study.md: the per-seed rows, then mean ± sd (min-max) over seeds, with the ceiling,
    the floor and, where measured, the article's published figures; the seeds that
    diverged; where the article's figures fall; the averaged generator's targets."""
    out = [f"Made by `{report['command']}`.", ""]
    for kind in _kinds(report):
        rows = [s for s in report["seeds"] if s["kind"] == kind]
        cond = kind == "cgan"
        iterations = sorted({r["iterations"] for r in rows})
        out += [f"## {KIND_NAMES[kind]}: {_seeds(len({r['seed'] for r in rows}))} judged"
                + (f", {', '.join(map(str, iterations))} iterations each" if rows else ""), ""]
        if cond and rows:
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
        elif rows:
            extra = [k for k in _gan_keys(report) if k not in GAN_KEYS]
            out += ["| seed | variant | Fréchet distance | classes ≥ 5% | largest class share | "
                    + "".join(f"{HEADS[k]} | " for k in extra)
                    + "D / G steps per iteration | training minutes |", "|---" * (7 + len(extra)) + "|"]
            for r in rows:
                out.append(f"| {r['seed']} | {r['variant']} | {_num(r['fd'])} | {r['classes_over_5pct']} | "
                           f"{r['largest_class_share']:.2f} | "
                           + "".join(f"{_fmt(k)(r.get(k))} | " if k != "manifold_classes_over_5pct"
                                     else f"{r.get(k, '')} | " for k in extra)
                           + f"{r['d_steps_per_iteration']:.2f} / {r['g_steps_per_iteration']:.2f} | "
                           f"{r['training_minutes']:.1f} |")
        if any(r.get("parzen") is not None for r in rows):
            out += ["", "Parzen log-likelihood: " + ", ".join(f"seed {r['seed']} {r['variant']}: {r['parzen']:.0f}"
                                                              for r in rows if r.get("parzen") is not None)]
        if rows:
            keys = (["accuracy_manifold", "accuracy_random_z", "fd", "fd_manifold", "worst_label_accuracy",
                     "worst_label_fd"] if cond else _gan_keys(report))
            keys += ["parzen"] if any(r.get("parzen") is not None for r in rows) else []
            out += ["", "Over seeds: mean ± sd (min–max).", "",
                    *_summary_table(report, kind, keys, "", with_reference=True), ""]
        diverged = _diverged_lines(report, kind)
        out += [*diverged, ""] if diverged else []
        out += judgement(report, kind)
    if report.get("settings"):
        out += [report["settings"], ""]
    machines = sorted({s["machine"] for s in report["seeds"]})
    threads = sorted({str(s["threads"]) for s in report["seeds"]})
    out += [f"Machine{'s' if len(machines) > 1 else ''}: " + "; ".join(machines)
            + f". TensorFlow threads per training: {', '.join(threads)} (0: TensorFlow's choice).", ""]
    return "\n".join(out)


def plot_seed_curves(evaluations: list[dict], path: Path) -> None:
    """Manifold accuracy and Fréchet distance over training, one line a CGAN seed."""
    from . import metrics

    metrics.plot_curves({f"seed {e['seed']}": e["curves"] for e in evaluations if e.get("curves")}, path)


def gan_manifold_coverage(evaluations: list[dict], figs_dir: Path) -> None:
    """Give each plain-GAN row its manifold's class shares (:func:`cgan.study.manifold_coverage`),
    read from the seed's picture in ``figs_dir`` (8-bit), where the row has none yet."""
    from PIL import Image

    from .classifier import load_classifier

    classifier = None
    for e in evaluations:
        if e["kind"] != "gan":
            continue
        for row in e["rows"].values():
            if "manifold_coverage" in row:
                continue
            classifier = classifier or load_classifier()
            picture = np.asarray(Image.open(figs_dir / picture_name("gan", e["seed"], row["decay"])).convert("L"))
            grid_size = Settings.from_dict({k: v for k, v in e["settings"].items()
                                            if k in Settings.__dataclass_fields__}).grid_size
            row["manifold_coverage"] = manifold_coverage(picture_manifolds(picture, grid_size)[0], classifier)


def write_report(evaluations: list[dict], figs_dir: Path, cache_dir: Path, command: str,
                 article_figs: str | os.PathLike | None = None) -> dict:
    """Write study.json, study.md, study_curves.png and every seed's picture into ``figs_dir``."""
    import shutil

    from .runfolder import EVALUATION_FILE

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
    gan_manifold_coverage(evaluations, figs_dir)
    reference = {kind: reference_rows(kind, per_label, parzen, cache_dir) for kind in kinds}
    article = published_manifolds(article_figs) if article_figs is not None and "cgan" in kinds else None
    article_gan = published_gan_manifold(article_figs) if article_figs is not None and "gan" in kinds else None
    report = build_report(evaluations, reference, article, command, article_gan)
    for name, text in (("study.json", json.dumps(report, indent=1)), ("study.md", markdown(report))):
        with atomic_path(figs_dir / name) as tmp:
            tmp.write_text(text)
    if "cgan" in kinds:
        plot_seed_curves(evaluations, figs_dir / "study_curves.png")
    return report


