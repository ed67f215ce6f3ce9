"""All hyper-parameters of the article in one frozen settings object.

Every default is the article's value as printed; derive variants with
:meth:`Settings.replace` or :meth:`Settings.from_dict`, or start from a named preset
(:data:`PRESETS`, :meth:`Settings.preset`): ``Settings.figure_time()`` (preset ``figure-time``,
once called ``published``, a name that still works) holds the numbers that drew the article's
published figures.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping

# The periods (of ``batches_per_period`` iterations) at which the article draws
# a manifold snapshot: every period for the first 100, then every 10th up to 1000.
ARTICLE_SAVE_PERIODS: tuple[int, ...] = tuple(range(100)) + tuple(range(100, 1000, 10))

# Named presets: the settings each changes from the defaults (the article's printed code).
# The article's repository (msurtsukov/ae_vae_gan) committed its figures (figs5/: manifold_0.png
# ... manifold_9.png, their GIFs, GAN_manifold.png) once, in be4bd16 ("push all", 2017-06-17
# 19:18 +0300), from a notebook whose discriminator optimizer was RMSPropOptimizer(0.001) and
# whose k_step was 10. Two days later b45fd82 (2017-06-19 03:33 +0300) changed those two lines to
# RMSPropOptimizer(0.0001) and k_step = 5, the numbers the article prints, and never redrew the
# figures; nothing else in the code cells changed but a comment.
PRESETS: dict[str, dict[str, Any]] = {
    "printed": {},                                   # the article's printed code: the defaults
    "figure-time": {"lr_dis": 1e-3, "k_step": 10},   # what drew the published figures (be4bd16)
}
# Former names of presets, still accepted wherever a preset is named (Settings.preset, --preset,
# the notebook's preset parameter): alias -> the preset's name.
PRESET_ALIASES: dict[str, str] = {"published": "figure-time"}


def preset_name(name: str) -> str:
    """The canonical name of the preset ``name`` (a key of :data:`PRESETS`, or an alias in
    :data:`PRESET_ALIASES`: ``"published"`` -> ``"figure-time"``); an unknown name is a
    ``ValueError`` listing the known names and aliases."""
    if isinstance(name, str) and name in PRESETS:
        return name
    if isinstance(name, str) and name in PRESET_ALIASES:
        return PRESET_ALIASES[name]
    aliases = ", ".join(f"{alias} (= {canonical})" for alias, canonical in sorted(PRESET_ALIASES.items()))
    raise ValueError(f"unknown preset {name!r}; known presets: {', '.join(sorted(PRESETS))}; aliases: {aliases}")


# The two models, by kind: the names the package's files and tables use for them.
KIND_NAMES = {"cgan": "CGAN", "gan": "plain GAN"}


@dataclass(frozen=True)
class Settings:
    """Hyper-parameters of the (conditional) GAN, defaults as in the article."""

    # Data and model sizes.
    batch_size: int = 256          # images per D or G step
    latent_dim: int = 2            # width of z ~ N(0, I); 2 so the manifold can be drawn
    num_classes: int = 10          # digits 0-9, one-hot labels
    dropout_rate: float = 0.3      # after every hidden layer of G and D
    conditional: bool = True       # CGAN (labels into G and D) or the plain GAN

    # Optimisation: RMSProp for each network on its own variables.
    lr_gen: float = 3e-4
    lr_dis: float = 1e-4

    # The alternating loop.
    iterations: int = 5000         # outer iterations
    k_step: int = 5                # at most this many D steps, then G steps, per iteration
    dis_exit_below: float = 1.0    # leave the D steps once L_dis < this
    gen_exit_above: float = 0.4    # leave the G steps once L_dis > this

    # Snapshots of the manifold for the training GIFs.
    batches_per_period: int = 20
    save_periods: tuple[int, ...] = field(default=ARTICLE_SAVE_PERIODS)
    grid_size: int = 15            # a grid_size x grid_size manifold of digits
    grid_low: float = 0.05         # z on norm.ppf(linspace(grid_low, grid_high, grid_size))
    grid_high: float = 0.95
    gif_frame_ms: int = 100        # GIF frame duration
    gif_grey_levels: int = 16      # grey levels in the GIFs (256: all; 16 keeps the 115 frames of a 5000-iteration run near 3 MB a label)
    gif_every: int = 1             # a GIF frame every gif_every-th snapshot (and always the last); 1: all, as the article

    # Speed (not in the article): exact reformulations, on by default since the math is the same.
    fused_upsampling: bool = True  # UpSampling2D + 5x5 Conv2D as one smaller conv (cgan.layers.UpsampledConv2D)
    fast_stride2_grad: bool = True  # D's first conv back-propagates to its input via space-to-depth (Stride2Conv2D)
    # Options that change the numerics, off by default: "bf16" lets oneDNN run eligible ops in
    # bfloat16 on CPUs with AVX512_BF16 / AMX; "fp16" is TensorFlow's auto mixed precision on GPUs.
    precision: str = "fp32"
    # 16: dropout masks from 16 random bits a unit (half the random numbers; the rate becomes
    # round(rate * 65536) / 65536, 0.3000031 for 0.3); 32: one float32 uniform a unit, as Keras.
    dropout_mask_bits: int = 32
    # The code that trains (not in the article): "tf1", the article's TF1 graph (cgan.graph), or "keras3",
    # the same algorithm in today's Keras 3 (cgan.keras3: plain Keras layers in fp32, Keras's own dropout masks;
    # fused_upsampling and fast_stride2_grad, rewrites of the TF1 graph's layers, do not apply to it).
    idiom: str = "tf1"

    # Beyond the article, off by default: an exponential moving average of G's weights (cgan.averaging),
    # e.g. 0.999, or a tuple of decays to keep several; drawn from with load_generator(..., averaged=True).
    # It never changes training.
    ema_decay: float | tuple[float, ...] | None = None

    # Logging (not in the article): a folder for TensorBoard summaries (losses, steps, manifolds), or None.
    tensorboard: str | None = None

    # Reproducibility and resources (not in the article).
    seed: int | None = None        # None: a fresh random run, as in the article
    threads: int = 0               # TF intra-op threads; 0 lets TensorFlow choose
    checkpoints_kept: int = 3      # newest checkpoints kept in the run folder
    stall_periods: int = 5         # stop if D has won for this many periods in a row (0: never)
    stall_loss: float = 0.1        # ... that is, L_dis stayed below this although G took all k_step steps

    def __post_init__(self) -> None:
        def need(name: str, ok: bool, accepted: str) -> None:
            if not ok:
                raise ValueError(f"Settings.{name}={getattr(self, name)!r} is invalid; accepted: {accepted}")

        def is_int(v: Any) -> bool:  # plain Python ints: settings travel as JSON
            return isinstance(v, int) and not isinstance(v, bool)

        def is_num(v: Any) -> bool:
            return isinstance(v, (int, float)) and not isinstance(v, bool)

        for name in ("batch_size", "latent_dim", "num_classes", "k_step", "batches_per_period", "grid_size",
                     "gif_frame_ms", "gif_every", "checkpoints_kept"):
            need(name, is_int(getattr(self, name)) and getattr(self, name) >= 1, "an integer >= 1")
        need("gif_grey_levels", is_int(self.gif_grey_levels) and 2 <= self.gif_grey_levels <= 256,
             "an integer in 2..256")
        need("latent_dim", self.latent_dim >= 2, "an integer >= 2 (the manifold spans the first two z axes)")
        need("num_classes", self.num_classes >= 2, "an integer >= 2")
        need("iterations", is_int(self.iterations) and self.iterations >= 0, "an integer >= 0")
        need("stall_periods", is_int(self.stall_periods) and self.stall_periods >= 0, "an integer >= 0")
        need("stall_loss", is_num(self.stall_loss) and self.stall_loss > 0, "a number > 0")
        need("threads", is_int(self.threads) and self.threads >= 0, "an integer >= 0 (0 = TensorFlow's choice)")
        need("dropout_rate", is_num(self.dropout_rate) and 0 <= self.dropout_rate < 1, "a number in [0, 1)")
        for name in ("lr_gen", "lr_dis"):
            need(name, is_num(getattr(self, name)) and getattr(self, name) > 0, "a number > 0")
        for name in ("dis_exit_below", "gen_exit_above"):
            need(name, is_num(getattr(self, name)), "a number")
        need("grid_low", is_num(self.grid_low) and 0 < self.grid_low < 1, "a number in (0, 1)")
        need("grid_high", is_num(self.grid_high) and self.grid_low < self.grid_high < 1,
             "a number in (grid_low, 1)")
        need("conditional", isinstance(self.conditional, bool), "True or False")
        for name in ("fused_upsampling", "fast_stride2_grad"):
            need(name, isinstance(getattr(self, name), bool), "True or False")
        need("dropout_mask_bits", self.dropout_mask_bits in (16, 32) and is_int(self.dropout_mask_bits), "16 or 32")
        need("tensorboard", self.tensorboard is None or (isinstance(self.tensorboard, str) and self.tensorboard),
             "None or a folder name")
        need("precision", self.precision in ("fp32", "bf16", "fp16"), "'fp32', 'bf16' or 'fp16'")
        need("idiom", self.idiom in ("tf1", "keras3"), "'tf1' (the article's TF1 graph) or 'keras3'")
        if self.idiom == "keras3":
            need("precision", self.precision == "fp32", "'fp32' with idiom='keras3'")
            need("dropout_mask_bits", self.dropout_mask_bits == 32, "32 with idiom='keras3' (Keras's own dropout)")
        need("seed", self.seed is None or (is_int(self.seed) and 0 <= self.seed < 2**31),
             "None or an integer in [0, 2**31)")
        decays = self.ema_decay
        decays = () if decays is None else (decays,) if is_num(decays) else decays
        need("ema_decay", isinstance(decays, (tuple, list)) and all(is_num(d) and 0 < d < 1 for d in decays)
             and len({f"{d:g}" for d in decays}) == len(decays),
             "None, a number in (0, 1) or a sequence of such numbers that differ in their first 6 digits")
        object.__setattr__(self, "ema_decay", tuple(float(d) for d in decays) or None)
        periods = self.save_periods
        need("save_periods", isinstance(periods, (tuple, list, range))
             and all(is_int(p) and p >= 0 for p in periods), "a sequence of integers >= 0")
        object.__setattr__(self, "save_periods", tuple(sorted(set(periods))))

    @property
    def kind(self) -> str:
        """``"cgan"`` (conditional) or ``"gan"`` (the plain GAN): the one place that says which."""
        return "cgan" if self.conditional else "gan"

    @classmethod
    def preset(cls, name: str, **changes: Any) -> "Settings":
        """The named preset (a key of :data:`PRESETS`, or an alias of one in
        :data:`PRESET_ALIASES`), then ``changes``; an unknown name is a ``ValueError`` listing
        the known names and aliases (:func:`preset_name`)."""
        return cls().replace(**{**PRESETS[preset_name(name)], **changes})

    @classmethod
    def figure_time(cls, **changes: Any) -> "Settings":
        """The preset ``figure-time``: the settings that drew the article's published figures,
        ``lr_dis=1e-3`` and ``k_step=10`` (msurtsukov/ae_vae_gan be4bd16, 2017-06-17), where the
        printed code, our default, has ``1e-4`` and ``5`` (b45fd82, 2017-06-19). See :data:`PRESETS`."""
        return cls.preset("figure-time", **changes)

    @classmethod
    def published(cls, **changes: Any) -> "Settings":
        """The former name of :meth:`figure_time` (the preset ``figure-time`` was called
        ``published``), kept so that code written for it still runs."""
        return cls.figure_time(**changes)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "Settings":
        """Settings from a mapping; an unknown key is a ``ValueError`` naming the accepted ones."""
        return cls().replace(**dict(values))

    def replace(self, **changes: Any) -> "Settings":
        """A copy with ``changes`` applied; unknown names raise ``ValueError``."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"unknown setting(s) {unknown}; accepted: {sorted(known)}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


# Settings that leave a run's math unchanged (iterations to run, speed, bookkeeping): a run folder
# may resume under others (the thread count can change the last bits of its sums).
FREE_SETTINGS = frozenset({"iterations", "fused_upsampling", "fast_stride2_grad", "threads", "checkpoints_kept",
                           "stall_periods", "stall_loss", "gif_grey_levels", "gif_every", "tensorboard"})


def settings_differ(a: Settings, b: Settings, free: frozenset = FREE_SETTINGS) -> list[str]:
    """The settings (outside ``free``) in which two runs differ."""
    x, y = a.to_dict(), b.to_dict()
    return sorted(k for k in x if k not in free and x[k] != y[k])
