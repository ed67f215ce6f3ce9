"""The seed study's report in words: ``study.md`` (:func:`markdown`) and what the README and
the notebook quote of it (:func:`quote`): the summary tables, where the article's published
figures fall within our seeds' spread, and whether the averaged generator met its targets.
The report itself (``study.json``) is :mod:`cgan.study_report`'s.

Reports written by older code keep the names they recorded (the variant "article (faithful)",
the target's ``fd_faithful``, the preset ``published``); everything here reads them through
:func:`current_names` and prints today's ("final G", ``fd_final``, ``figure-time``)."""
from __future__ import annotations

from typing import Sequence

from .history import ADVICE
from .settings import KIND_NAMES, PRESET_ALIASES
from .study import TARGET_ACCURACY, TARGET_FD_RATIO, TARGET_LABEL_ACCURACY
from .study_seed import FINAL, FORMER_VARIANTS


def current_rows(evaluation: dict) -> dict:
    """A seed's evaluation (its ``evaluation.json``) with today's variant names as its rows' keys."""
    return {**evaluation, "rows": {FORMER_VARIANTS.get(k, k): v for k, v in evaluation.get("rows", {}).items()}}


def current_names(report: dict) -> dict:
    """A copy of ``report`` (a study.json's content) in today's names where older code recorded
    others: the variant "article (faithful)" is "final G" (:data:`cgan.study_seed.FORMER_VARIANTS`) in
    the seeds, the summary and the evaluations, a target's ``fd_faithful`` is ``fd_final``, and the
    settings line names a preset by its name, not a former one (:data:`cgan.settings.PRESET_ALIASES`).
    The numbers are untouched, and so is ``report``."""
    def variant(name: str) -> str:
        return FORMER_VARIANTS.get(name, name)

    def summary_key(key: str) -> str:
        kind, _, name = key.partition(": ")
        return f"{kind}: {variant(name)}"

    out = dict(report)
    if "seeds" in report:
        out["seeds"] = [{**s, "variant": variant(s["variant"])} for s in report["seeds"]]
    if "summary" in report:
        out["summary"] = {summary_key(k): v for k, v in report["summary"].items()}
    if "evaluations" in report:
        out["evaluations"] = [current_rows(e) for e in report["evaluations"]]
    if "targets" in report:
        out["targets"] = [{("fd_final" if k == "fd_faithful" else k): (variant(v) if k == "variant" else v)
                           for k, v in t.items()} for t in report["targets"]]
    if report.get("settings"):
        line = report["settings"]
        for alias, name in PRESET_ALIASES.items():
            line = line.replace(f"(preset {alias})", f"(preset {name})")
        out["settings"] = line
    return out


def final_summary(report: dict, kind: str) -> dict | None:
    """The summary over seeds (mean, sd, min, max, n a measure) of ``kind``'s final generators,
    the trained weights (the variant "final G"; "article (faithful)" in older reports); None if
    the report has none."""
    return current_names({"summary": report.get("summary", {})})["summary"].get(f"{kind}: {FINAL}")


def target_lines(report: dict) -> list[str]:
    """The averaged generator's targets, met or not, one markdown bullet a variant (from
    the report's ``targets``)."""
    def met(ok):
        return "met" if ok else "**not met**"

    def pct(x):  # two decimals: a target is judged on the unrounded number
        return f"{100 * x:.2f}%"

    lines = []
    for t in current_names({"targets": report["targets"]})["targets"]:
        fd = ("Fréchet distance, random z: not measured" if t["fd_ratio"] is None else
              f"Fréchet distance, random z: {_num(t['fd'])}, {t['fd_ratio']:.3f}× the final G rows' "
              f"{_num(t['fd_final'])} on the same seeds (target ≤ {TARGET_FD_RATIO:g}×: {met(t['fd_met'])})")
        lines.append(f"- {t['variant']}, {_seeds(t['seeds'])}: manifold accuracy {pct(t['accuracy_manifold'])} "
                     f"(target ≥ {_pct(TARGET_ACCURACY)}: {met(t['accuracy_met'])}); the label with the lowest "
                     f"mean accuracy over seeds: {t['lowest_label']}, {pct(t['lowest_label_accuracy'])} (target ≥ "
                     f"{_pct(TARGET_LABEL_ACCURACY)}: {met(t['labels_met'])}); {fd}")
    return lines


def article_position(report: dict, kind: str = "cgan") -> list[str]:
    """Where the article's published figures (read back from its PNGs) fall within the
    spread of our seeds' final generators (the final G rows) of ``kind``: one markdown bullet a measure."""
    stats = final_summary(report, kind)
    if kind == "cgan":
        article = report.get("article_figures")
        measures = [] if not article else [
            ("manifold accuracy", article["accuracy_manifold"]["overall"], "accuracy_manifold", _pct,
             ("higher than", "lower than"), ""),
            ("worst label's manifold accuracy", min(article["accuracy_manifold"]["per_label"]),
             "worst_label_accuracy", _pct, ("higher than", "lower than"), ""),
            ("Fréchet distance, manifold", article["fd_manifold"], "fd_manifold", _num,
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
            where = (f"{above if value > s['max'] else below if value < s['min'] else 'equal to'} our one seed's "
                     "final G")
            ours = fmt(s["mean"])
        else:
            where = (f"{above} every one of" if value > s["max"] else f"{below} every one of" if value < s["min"]
                     else "within the range of")
            where += f" our {s['n']} seeds' final G"
            ours = (f"{fmt(s['min'])} in each" if fmt(s["min"]) == fmt(s["max"])
                    else f"{fmt(s['min'])}–{fmt(s['max'])}, mean {fmt(s['mean'])}")
        out.append(f"- {name}: the article's {fmt(value)} is {where} ({ours}{note})")
    return out


def judgement(report: dict, kind: str = "cgan") -> list[str]:
    """Markdown lines: where the article's published figures fall, and (CGAN) the averaged
    generator's targets, met or not."""
    report = current_names(report)
    out, position = [], article_position(report, kind)
    aims = target_lines(report) if kind == "cgan" else []
    if position:
        out += ["Where the article's published figures fall:", "", *position, ""]
    if aims:
        out += ["The averaged generator (ours) against its targets (means over seeds):", "", *aims, ""]
    return out


HEADS = {"accuracy_manifold": "accuracy, manifold", "accuracy_random_z": "accuracy, random z",
         "fd": "Fréchet distance, random z", "fd_manifold": "Fréchet distance, manifold",
         "worst_label_accuracy": "worst label's accuracy",
         "worst_label_fd": "worst label's Fréchet distance, random z",
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
    """The divergence rate over the kind's seeds, then each diverged seed, then each seed that
    diverged and was restarted with a new seed (``study --restarts``) and judged (none: no line)."""
    diverged = [d for d in report.get("diverged", []) if d["kind"] == kind]
    restarted = {s["seed"]: s for s in report["seeds"] if s["kind"] == kind and s.get("restarts")}
    out = [f"- {kind.upper()} seed {seed} diverged and was restarted as seed {s['trained_seed']}"
           + (f" (after {s['restarts']} restarts)" if s["restarts"] > 1 else "") + "; its numbers are that run's."
           for seed, s in restarted.items()]
    if not diverged:
        return out
    total = len({s["seed"] for s in report["seeds"] if s["kind"] == kind}) + len(diverged)
    return [f"Diverged: {len(diverged)} of {total} {kind.upper()} seeds ({100 * len(diverged) / total:.0f}%).", ""] + [
        f"- {kind.upper()} seed {d['seed']} diverged"
        + (f", was restarted {d['restarts']} time(s) (last as seed {d['trained_seed']}) and diverged again,"
           if d.get("restarts") else "")
        + f" and is in none of these numbers (its newest checkpoint: iteration {d['iterations']}): "
        f"{_diagnosis(d['message'])}" for d in diverged] + out + ["", ADVICE]


def _diagnosis(message: str) -> str:
    """A diverged seed's recorded message up to the advice that training appends to it: the advice
    is said once, as it stands today (:data:`cgan.history.ADVICE`), after the list."""
    return message.split("As the article advises", 1)[0].rstrip()


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
    report = current_names(report)
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
    report = current_names(report)
    out = [f"Made by `{report['command']}`.", ""]
    for kind in _kinds(report):
        rows = [s for s in report["seeds"] if s["kind"] == kind]
        cond = kind == "cgan"
        iterations = sorted({r["iterations"] for r in rows})
        out += [f"## {KIND_NAMES[kind]}: {_seeds(len({r['seed'] for r in rows}))} judged"
                + (f", {', '.join(map(str, iterations))} iterations each" if rows else ""), ""]
        if cond and rows:
            out += ["| seed | variant | accuracy, manifold | accuracy, random z | Fréchet distance, random z "
                    "| Fréchet distance, manifold | worst label: accuracy | worst label: Fréchet distance, random z "
                    "| D / G steps per iteration | training minutes |",
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
            out += ["| seed | variant | Fréchet distance, random z | classes ≥ 5% | largest class share | "
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
