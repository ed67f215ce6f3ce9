"""The seed study's report: the judged seeds collected (from run folders or earlier
reports), their numbers summarised over seeds (mean ± sd, min-max), the averaged
generator's targets, and all of it written into ``figs/study/`` as ``study.json``,
``study.md``, ``study_curves.png`` and each seed's picture.

Training and judging the seeds is :mod:`cgan.study`; the report in words (``study.md``, and
:func:`quote`, what the README and the notebook quote of it) is :mod:`cgan.study_tables`.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from . import checks
from .files import atomic_path
from .settings import FREE_SETTINGS, PRESETS, Settings, settings_differ
from .readback import manifold_coverage, picture_manifolds, published_gan_manifold, published_manifolds
from .study import TARGET_ACCURACY, TARGET_FD_RATIO, TARGET_LABEL_ACCURACY, TOLERANCE, reference_rows
from .study_seed import FINAL, picture_name
from .study_tables import current_rows, markdown, quote  # noqa: F401 (quote: the READMEs' and the notebook's)


def _mean_sd(values: list[float]) -> dict:
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], "float64")
    if not len(v):
        return {"mean": None, "sd": None, "min": None, "max": None, "n": 0}
    return {"mean": float(v.mean()), "sd": float(v.std(ddof=1)) if len(v) > 1 else None,
            "min": float(v.min()), "max": float(v.max()), "n": int(len(v))}


def row_numbers(row: dict) -> dict:
    """The numbers a study reports for one evaluated row (see :func:`cgan.evaluation.evaluate`)."""
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
    def restarted(e: dict) -> dict:  # a seed restarted after it diverged (study --restarts): the seed it ended with
        return {k: e[k] for k in ("trained_seed", "restarts") if k in e}

    evaluations = [current_rows(e) for e in evaluations]  # today's variant names, whoever judged the seed
    seeds, summary = [], {}
    diverged = [{"kind": e["kind"], "seed": e["seed"], **restarted(e), "iterations": e["iterations"],
                 "message": e["diverged"]} for e in evaluations if e.get("diverged")]
    for e in evaluations:
        for variant, row in e["rows"].items():
            numbers = {**row_numbers(row), "d_steps_per_iteration": e["d_steps_per_iteration"],
                       "g_steps_per_iteration": e["g_steps_per_iteration"],
                       "training_minutes": e["training_seconds"] / 60}
            seeds.append({"kind": e["kind"], "seed": e["seed"], **restarted(e), "variant": variant,
                          "iterations": e["iterations"], "threads": e["settings"].get("threads"),
                          "machine": e["machine"], **numbers})
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
            ", ".join(f"{k}={v!r}" for k, v in diff) or "the defaults" for diff in sorted(found, key=repr))
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
    and a Fréchet distance (random z) at most half the final G rows' (the trained weights) on the
    same seeds, ``fd_final``."""
    evaluations = [current_rows(e) for e in evaluations]
    judged = [e for e in evaluations if e["kind"] == "cgan" and FINAL in e.get("rows", {})]
    variants = dict.fromkeys(v for e in judged for v in e["rows"] if v != FINAL)
    out = []
    for variant in variants:
        rows = [(e["rows"][FINAL], e["rows"][variant]) for e in judged if variant in e["rows"]]
        accuracy = float(np.mean([r["accuracy_manifold"]["overall"] for _, r in rows]))
        per_label = np.mean([r["accuracy_manifold"]["per_label"] for _, r in rows], axis=0)
        fd, fd_final = (float(np.mean([pair[k]["fd"] for pair in rows])) for k in (1, 0))
        ratio = fd / fd_final if np.isfinite(fd) and np.isfinite(fd_final) and fd_final > 0 else None
        out.append({"variant": variant, "seeds": len(rows),
                    "accuracy_manifold": accuracy, "accuracy_met": accuracy >= TARGET_ACCURACY - TOLERANCE,
                    "lowest_label": int(np.argmin(per_label)), "lowest_label_accuracy": float(per_label.min()),
                    "labels_met": bool(per_label.min() >= TARGET_LABEL_ACCURACY - TOLERANCE),
                    "fd": fd if np.isfinite(fd) else None, "fd_final": fd_final if np.isfinite(fd_final)
                    else None, "fd_ratio": ratio, "fd_met": ratio is not None and ratio <= TARGET_FD_RATIO + TOLERANCE})
    return out


def plot_seed_curves(evaluations: list[dict], path: Path) -> None:
    """Manifold accuracy and the manifolds' Fréchet distance over training, one line a CGAN seed."""
    from .evaluation_report import plot_curves

    plot_curves({f"seed {e['seed']}": e["curves"] for e in evaluations if e.get("curves")}, path)


def gan_manifold_coverage(evaluations: list[dict], figs_dir: Path) -> None:
    """Give each plain-GAN row its manifold's class shares (:func:`cgan.readback.manifold_coverage`),
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


def rewrite_markdown(folder: str | os.PathLike) -> str:
    """Write ``folder/study.md`` again from ``folder/study.json`` as it stands, and return it:
    nothing is trained, judged or measured again, and study.json and the pictures are left as
    they are. A report written by older code comes out in today's words (:func:`cgan.study_tables.current_names`)."""
    folder = checks.path("folder", folder)
    report = json.loads((folder / "study.json").read_text())
    text = markdown(report)
    with atomic_path(folder / "study.md") as tmp:
        tmp.write_text(text)
    return text
