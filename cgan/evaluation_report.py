"""An evaluation in Markdown and pictures: :func:`report` (the table of
:func:`cgan.evaluation.evaluate_rows`' rows with the papers' Parzen figures, and one row per
label) and :func:`plot_curves` (:func:`cgan.evaluation.snapshot_curves` over training)."""
from __future__ import annotations

from . import checks
from .files import atomic_path

PAPER_PARZEN = {"GAN (Goodfellow et al. 2014)": (225.0, 2.0),
                "Conditional GAN (Mirza & Osindero 2014)": (132.0, 1.8)}


def report(rows: dict[str, dict], per_label_of: str) -> str:
    """The evaluation in Markdown: :func:`table` of ``rows``, then the per-label table of the
    conditional row named ``per_label_of``."""
    return f"{table(rows)}\n\n{per_label_of}, per label:\n\n{per_label_table(rows[per_label_of])}\n"


def table(rows: dict[str, dict]) -> str:
    """A Markdown table of evaluated rows (name -> :func:`cgan.evaluation.evaluate` result), with the
    papers' Parzen figures."""
    def pct(row, key):
        return f"{100 * row[key]['overall']:.1f}%" if key in row else "n/a"

    def parzen_cell(row):
        p = row.get("parzen")
        return f"{p['mean']:.0f} ± {p['se']:.1f} (σ={p['sigma']:.3f})" if p else "not run"

    lines = ["| model | accuracy, manifold | accuracy, random z | Fréchet distance, random z | classes ≥ 5% | "
             "largest class share | Parzen log-likelihood |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for name, row in rows.items():
        cov = row["coverage"]
        lines.append(f"| {name} | {pct(row, 'accuracy_manifold')} | {pct(row, 'accuracy_random_z')} | "
                     f"{row['fd']:.2f} | {sum(c >= 0.05 for c in cov)} | {max(cov):.2f} | {parzen_cell(row)} |")
    for name, (mean, se) in PAPER_PARZEN.items():
        lines.append(f"| {name}, paper | | | | | | {mean:.0f} ± {se} |")
    return "\n".join(lines)


def per_label_table(row: dict) -> str:
    """Per-label accuracy and Fréchet distance (random z) of one conditional row."""
    lines = ["| label | " + " | ".join(str(c) for c in range(10)) + " |", "|---" * 11 + "|"]
    for key, title in (("accuracy_manifold", "accuracy, manifold"), ("accuracy_random_z", "accuracy, random z")):
        lines.append(f"| {title} | " + " | ".join(f"{100 * v:.0f}%" for v in row[key]["per_label"]) + " |")
    lines.append("| Fréchet distance, random z | " + " | ".join(f"{v:.1f}" for v in row["fd_per_label"]) + " |")
    return "\n".join(lines)


def plot_curves(curves: dict, path) -> None:
    """Manifold accuracy and the manifolds' Fréchet distance over training, one PNG: ``curves`` as
    :func:`cgan.evaluation.snapshot_curves` returns them, or several by name (a line and a legend entry each)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    path = checks.output_file("path", path)
    several = "batch" not in curves
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.5))
    for name, c in (curves.items() if several else [(None, curves)]):
        ax1.plot(c["batch"], [100 * a for a in c["accuracy_manifold"]], label=name, lw=1 if several else None)
        ax2.plot(c["batch"], c["fd"], label=name, lw=1 if several else None)
    if several:
        ax1.legend(fontsize=8)
    ax1.set(xlabel="iteration", ylabel="conditional accuracy on the manifolds, %", ylim=(0, 100))
    ax2.set(xlabel="iteration", ylabel="Fréchet distance, manifold (to the test set)", yscale="log")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_path(path, keep_suffix=True) as tmp:
        fig.savefig(tmp, dpi=80)
    plt.close(fig)
