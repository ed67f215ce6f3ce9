"""Did it reproduce the article? One small markdown table: the article's published figures, read
back from its PNGs, beside the final generators of two seed studies (the report dicts that
:mod:`cgan.study_report` writes as ``study.json``), one trained at the printed settings and one at
the figure-time settings. The README and the notebook show it for the committed studies."""
from __future__ import annotations

from typing import Callable


def _cgan_figures(study: dict) -> dict | None:
    return study.get("article_figures")


def _gan_figure(study: dict) -> dict | None:
    return study.get("article_gan_figure")


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _num(x: float) -> str:
    return f"{x:.2f}"


def _count(x: float) -> str:
    return f"{x:g}" if float(x).is_integer() else f"{x:.1f}"


# (row, kind, the summary's measure, the article's value from a study, format)
ROWS: list[tuple[str, str, str, Callable[[dict], float | None], Callable[[float], str]]] = [
    ("CGAN: manifold accuracy", "cgan", "accuracy_manifold",
     lambda s: _cgan_figures(s) and _cgan_figures(s)["accuracy_manifold"]["overall"], _pct),
    ("CGAN: worst label's manifold accuracy", "cgan", "worst_label_accuracy",
     lambda s: _cgan_figures(s) and min(_cgan_figures(s)["accuracy_manifold"]["per_label"]), _pct),
    ("CGAN: Fréchet distance, manifold (lower is better)", "cgan", "fd_manifold",
     lambda s: _cgan_figures(s) and _cgan_figures(s)["fd_manifold"], _num),
    ("plain GAN: manifold classes at ≥ 5%", "gan", "manifold_classes_over_5pct",
     lambda s: _gan_figure(s) and _gan_figure(s)["classes_over_5pct"], _count),
    ("plain GAN: the manifold's rarest class", "gan", "manifold_smallest_share",
     lambda s: _gan_figure(s) and _gan_figure(s)["smallest_share"], _pct),
]


def final_stats(study: dict, kind: str) -> dict | None:
    """The summary over seeds of ``kind``'s final generators (the trained weights, not an average)."""
    from .study_tables import final_summary

    return final_summary(study, kind)


def _spread(stats: dict | None, fmt: Callable[[float], str]) -> str:
    if not stats or stats.get("mean") is None:
        return ""
    if stats["min"] == stats["max"]:
        return f"{fmt(stats['mean'])} in each"
    return f"{fmt(stats['mean'])} ({fmt(stats['min'])}–{fmt(stats['max'])})"


def _seeds(study: dict, kind: str) -> str:
    stats = final_stats(study, kind) or {}
    judged = next(iter(stats.values()), {}).get("n", 0) if stats else 0
    diverged = sum(1 for d in study.get("diverged", []) if d["kind"] == kind)
    return f"{judged} of {judged + diverged}" if diverged else f"{judged}"


def table(printed: dict, figure_time: dict) -> str:
    """The markdown table: a row a measure, the article's value, then each study's mean (min–max)
    over its seeds' final generators; its last rows count the seeds judged and those that diverged."""
    for name, study in (("printed", printed), ("figure_time", figure_time)):
        if not isinstance(study, dict) or "summary" not in study:
            raise ValueError(f"{name} must be a seed study's report (a study.json as a dict), got {type(study).__name__}")
    article = next((s for s in (printed, figure_time) if _cgan_figures(s) or _gan_figure(s)), printed)
    out = ["| measure | the article's figures | ours, printed settings | ours, figure-time settings |",
           "|---|---|---|---|"]
    for row, kind, key, article_value, fmt in ROWS:
        value = article_value(article)
        cells = [_spread((final_stats(study, kind) or {}).get(key), fmt) for study in (printed, figure_time)]
        out.append(f"| {row} | {'' if value is None else fmt(value)} | {cells[0]} | {cells[1]} |")
    for kind, name in (("cgan", "CGAN"), ("gan", "plain GAN")):
        out.append(f"| {name}: seeds judged (of those trained) |  | {_seeds(printed, kind)} | "
                   f"{_seeds(figure_time, kind)} |")
    out.append("")
    out.append("Ours: mean (min–max) over the seeds' final generators, judged by the same classifier as the "
               "article's figures.")
    return "\n".join(out) + "\n"


# (row, the summary's measure, format) for the CGAN's final generators of two studies side by side
IDIOM_ROWS: list[tuple[str, str, Callable[[float], str]]] = [
    ("manifold accuracy", "accuracy_manifold", _pct),
    ("worst label's manifold accuracy", "worst_label_accuracy", _pct),
    ("accuracy, random z", "accuracy_random_z", _pct),
    ("Fréchet distance, random z (lower is better)", "fd", _num),
    ("Fréchet distance, manifold (lower is better)", "fd_manifold", _num),
    ("G steps per iteration", "g_steps_per_iteration", _num),
]


def _mean_sd_range(stats: dict | None, fmt: Callable[[float], str]) -> str:
    if not stats or stats.get("mean") is None:
        return ""
    sd = "" if stats.get("sd") is None else f" ± {fmt(stats['sd'])}"
    return f"{fmt(stats['mean'])}{sd} ({fmt(stats['min'])}–{fmt(stats['max'])})"


def idiom_table(tf1: dict, keras3: dict) -> str:
    """The CGAN's final generators of two seed studies (their ``study.json`` dicts), one trained by
    the article's TF1 graph and one by :mod:`cgan.keras3`, side by side: a row a measure, each
    study's mean ± sd (min–max) over its seeds; the last row counts the seeds judged."""
    for name, study in (("tf1", tf1), ("keras3", keras3)):
        if not isinstance(study, dict) or "summary" not in study:
            raise ValueError(f"{name} must be a seed study's report (a study.json as a dict), got {type(study).__name__}")
    out = ["| CGAN, final G | TF1 graph (the article's code) | Keras 3 (`cgan.keras3`) |", "|---|---|---|"]
    for row, key, fmt in IDIOM_ROWS:
        cells = [_mean_sd_range((final_stats(study, "cgan") or {}).get(key), fmt) for study in (tf1, keras3)]
        out.append(f"| {row} | {cells[0]} | {cells[1]} |")
    out.append(f"| seeds judged (of those trained) | {_seeds(tf1, 'cgan')} | {_seeds(keras3, 'cgan')} |")
    out.append("")
    out.append("Mean ± sd (min–max) over each study's seeds, judged by the same classifier.")
    return "\n".join(out) + "\n"
