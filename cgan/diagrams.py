"""The article's explanatory pictures, drawn by us with matplotlib: the GAN scheme, the
gradient flow in the discriminator's and the generator's steps, the learning picture of
Goodfellow et al. (2014, Figure 1) and the conditional GAN scheme.

Each function returns a matplotlib figure (the notebook shows it inline).
"""
from __future__ import annotations

import numpy as np

_UPDATED = "#f4c542"   # a network whose weights this step changes
_FROZEN = "#d9d9d9"    # a network the gradient passes through unchanged
_PLAIN = "#cfe2f3"     # networks in a scheme without a step
_DATA = "#d9ead3"
_GRAD = "#c0392b"


def _figure(width: float = 9.0, height: float = 3.6):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width, height))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 4)
    ax.axis("off")
    return fig, ax


def _box(ax, x: float, y: float, text: str, color: str, w: float = 1.8, h: float = 0.8, fontsize: int = 11):
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.05", fc=color, ec="black", lw=1))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


def _arrow(ax, start, end, color: str = "black", style: str = "-|>", dashed: bool = False, rad: float = 0.0,
           lw: float = 1.4):
    from matplotlib.patches import FancyArrowPatch

    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=14, color=color, lw=lw,
                                 linestyle="--" if dashed else "-", connectionstyle=f"arc3,rad={rad}",
                                 shrinkA=2, shrinkB=2))


def _gan_layout(ax, g_color: str, d_color: str, conditional: bool = False):
    """Boxes and forward arrows shared by the schemes: Z -> G -> X_p -> D <- X_s, D -> output."""
    _box(ax, 0.9, 1.2, "$Z \\sim P(Z)$", "white", w=1.5)
    _box(ax, 3.1, 1.2, "generator\n$G(Z%s)$" % (", Y" if conditional else ""), g_color)
    _box(ax, 5.2, 1.2, "$X_p = G(Z%s)$" % (", Y" if conditional else ""), "white", w=1.6)
    _box(ax, 5.2, 3.0, "$X_s$ from the data set", _DATA, w=2.2)
    _box(ax, 7.4, 2.1, "discriminator\n$D(X%s)$" % (", Y" if conditional else ""), d_color)
    _box(ax, 9.3, 2.1, "$P(\\mathrm{real})$", "white", w=1.2)
    _arrow(ax, (1.65, 1.2), (2.2, 1.2))
    _arrow(ax, (4.0, 1.2), (4.4, 1.2))
    _arrow(ax, (6.0, 1.35), (6.5, 1.9))
    _arrow(ax, (6.3, 2.85), (6.5, 2.3))
    _arrow(ax, (8.3, 2.1), (8.7, 2.1))
    if conditional:
        _box(ax, 5.2, 0.25, "label $Y$ (one-hot)", "#fce5cd", w=2.0, h=0.45)
        _arrow(ax, (4.2, 0.25), (3.1, 0.8), rad=-0.2)
        _arrow(ax, (6.2, 0.25), (7.4, 1.7), rad=0.2)


def gan_scheme():
    """The GAN: G turns noise Z into objects X_p; D tells them from real objects X_s."""
    fig, ax = _figure()
    _gan_layout(ax, _PLAIN, _PLAIN)
    ax.set_title("GAN: the generator makes objects, the discriminator judges real vs. generated", fontsize=12)
    return fig


def cgan_scheme():
    """The conditional GAN: the label Y goes into both networks."""
    fig, ax = _figure()
    _gan_layout(ax, _PLAIN, _PLAIN, conditional=True)
    ax.set_title("Conditional GAN: both networks also receive the label $Y$", fontsize=12)
    return fig


def gradient_flow(step: str):
    """Where the gradient flows in one step: ``step`` "d" (the loss L_dis back into D only;
    only D's weights change) or "g" (the loss L_gen back through D, unchanged, into G; only
    G's weights change)."""
    if step not in ("d", "g"):
        raise ValueError(f"step={step!r} is invalid; accepted: 'd' or 'g'")
    fig, ax = _figure(height=3.9)
    if step == "d":
        _gan_layout(ax, _FROZEN, _UPDATED)
        ax.text(9.3, 3.3, "$L_{dis}$", ha="center", fontsize=13, color=_GRAD)
        _arrow(ax, (9.3, 3.15), (8.0, 2.6), color=_GRAD, dashed=True, rad=0.2, lw=2)
        ax.set_title("Discriminator step: $\\nabla_{\\theta_d} L_{dis}$ flows into D; "
                     "only D's weights (yellow) change", fontsize=12)
    else:
        _gan_layout(ax, _UPDATED, _FROZEN)
        ax.text(9.3, 3.3, "$L_{gen}$", ha="center", fontsize=13, color=_GRAD)
        _arrow(ax, (9.3, 3.15), (8.0, 2.6), color=_GRAD, dashed=True, rad=0.2, lw=2)
        _arrow(ax, (7.0, 1.65), (5.9, 0.75), color=_GRAD, dashed=True, rad=-0.2, lw=2)
        _arrow(ax, (4.5, 0.75), (3.6, 0.75), color=_GRAD, dashed=True, lw=2)
        ax.set_title("Generator step: $\\nabla_{\\theta_g} L_{gen}$ flows through D (grey, unchanged) "
                     "into G; only G's weights change", fontsize=12)
    ax.text(5.0, 0.15, "dashed red: the gradient's path; yellow: updated in this step; grey: held fixed",
            ha="center", fontsize=9, color="#555555")
    return fig


def _normal(x, mu, sigma):
    return np.exp(-0.5 * ((x - mu) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))


def learning_picture():
    """The idea of Goodfellow et al.'s Figure 1 on one axis: the data's density (black
    dots), the generator's (green) and D's answer (blue, dashed) over training: (a) at the
    start, (b) after D has learned, D = p_data / (p_data + p_g), (c) after G has moved towards
    where D says "real", (d) at the optimum, p_g = p_data and D = 1/2 everywhere. Below each,
    the lines show how G maps a uniform grid of z onto x."""
    import matplotlib.pyplot as plt

    x = np.linspace(-4, 4, 400)
    p_data = _normal(x, 1.0, 0.6)
    stages = [("(a) start", (-1.2, 0.9), None), ("(b) D trained", (-1.2, 0.9), "optimal"),
              ("(c) G trained", (0.2, 0.75), "optimal_prev"), ("(d) optimum", (1.0, 0.6), "optimal")]
    fig, axes = plt.subplots(1, 4, figsize=(13, 3.4), sharey=True)
    prev_pg = None
    for ax, (title, (mu, sigma), d_kind) in zip(axes, stages):
        p_g = _normal(x, mu, sigma)
        if d_kind is None:   # a partly trained D: a rough ramp
            d = 0.5 + 0.35 * np.tanh(0.9 * (x - 0.0)) * np.exp(-0.05 * x ** 2)
        elif title.startswith("(d)"):
            d = np.full_like(x, 0.5)
        elif d_kind == "optimal_prev":
            d = p_data / (p_data + prev_pg + 1e-12)
        else:
            d = p_data / (p_data + p_g + 1e-12)
        top = 1.0
        scale = top / p_data.max() * 0.9
        ax.plot(x[::8], p_data[::8] * scale + 0.25, "k.", ms=3, label="$p_{data}$")
        ax.plot(x, p_g * scale + 0.25, color="green", lw=2, label="$p_g$")
        ax.plot(x, d * 0.9 + 0.25, "b--", lw=1.6, label="$D(x)$")
        # the mapping x = G(z): a uniform grid of z (bottom line) to quantiles of p_g (upper line)
        ax.axhline(0.2, color="black", lw=0.8)
        ax.axhline(-0.25, color="black", lw=0.8)
        z = np.linspace(-3.5, 3.5, 11)
        q = mu + sigma * np.sqrt(2) * _erfinv(np.linspace(-0.9, 0.9, 11))
        for zi, xi in zip(z, q):
            ax.annotate("", xy=(xi, 0.2), xytext=(zi, -0.25), arrowprops=dict(arrowstyle="->", lw=0.6, color="#555"))
        ax.text(-4.0, -0.2, "z", fontsize=10)
        ax.text(-4.0, 0.25, "x", fontsize=10)
        ax.set_title(title, fontsize=11)
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        prev_pg = p_g
    axes[0].legend(loc="upper left", fontsize=9, frameon=False)
    fig.suptitle("Learning, as in Goodfellow et al. 2014, Figure 1 (our drawing)", fontsize=12)
    fig.tight_layout()
    return fig


def _erfinv(y):
    from scipy.special import erfinv

    return erfinv(y)
