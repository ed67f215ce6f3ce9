"""What the training commands of ``python -m cgan`` share: the options every one takes
(:func:`add_common_options`), the settings they give (:func:`settings_from_args`), the
``--fast`` settings (:func:`fast_settings`) and where each command puts its folders by default
(:func:`default_dirs`)."""
from __future__ import annotations

import argparse
import ast

from .settings import PRESETS, Settings, preset_name


def parse_setting(text: str) -> tuple[str, object]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--set takes NAME=VALUE, got {text!r}")
    name, value = text.split("=", 1)
    try:
        parsed = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        parsed = value
    return name.strip(), parsed


def add_common_options(p: argparse.ArgumentParser, seed: bool = True) -> None:
    """The options that every training command takes (``study`` sets the seeds its own way)."""
    p.add_argument("--iterations", type=int, help="outer iterations (article: 5000)")
    p.add_argument("--batch-size", type=int, help="images per step (article: 256)")
    if seed:
        p.add_argument("--seed", type=int, help="seed for a repeatable run (default: a fresh random run)")
    p.add_argument("--preset", default="printed", metavar="NAME",
                   help="start from a named preset of cgan.Settings: " + "; ".join(
                       f"{name} ({', '.join(f'{k}={v!r}' for k, v in changes.items()) or 'the defaults'})"
                       for name, changes in PRESETS.items())
                   + ". printed: the code the article prints (the default); figure-time: the numbers that drew "
                     "its figures (alias: published)")
    p.add_argument("--set", type=parse_setting, action="append", default=[], metavar="NAME=VALUE",
                   help="any other setting of cgan.Settings, e.g. --set lr_dis=5e-5")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def fast_settings() -> dict:
    """The ``--fast`` preset: the opt-ins that change the numerics and pay on this machine."""
    from .cpu import cpu_flags

    fast = {"dropout_mask_bits": 16}
    if cpu_flags() & {"avx512_bf16", "amx_bf16"}:
        fast["precision"] = "bf16"
    return fast


def default_dirs(command: str, preset: str = "printed") -> tuple[str, str]:
    """Where ``figures``, ``study`` and a sweep (``study --grid`` or ``--no-judge``: ``command``
    ``"sweep"``) put their run folders and figures by default: ``runs``/``figs``,
    ``runs/study``/``figs/study`` and ``runs/sweep``/``figs/sweep`` at the printed settings; a preset's
    beside them, under its name (an alias's preset's: ``published`` and ``figure-time`` both give
    ``runs/figure-time``/``figs/figure-time``, ``runs/study-figure-time``/``figs/study-figure-time``)."""
    runs, figs = {"figures": ("runs", "figs"), "study": ("runs/study", "figs/study"),
                  "sweep": ("runs/sweep", "figs/sweep")}[command]
    preset = preset_name(preset)
    if preset == "printed":
        return runs, figs
    sep = "/" if command == "figures" else "-"
    return f"{runs}{sep}{preset}", f"{figs}{sep}{preset}"


def settings_from_args(args: argparse.Namespace, **fixed) -> Settings:
    changes = dict(fast_settings()) if args.fast else {}
    changes.update(args.set)
    for name in ("iterations", "batch_size", "seed"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    for name, value in fixed.items():
        if name in changes and changes[name] != value:
            raise ValueError(f"--set {name}={changes[name]!r} contradicts the command ({name}={value!r}); "
                             + ("use --unconditional for the plain GAN" if name == "conditional" else "drop it"))
    changes.update(fixed)
    return Settings.preset(args.preset, **changes)
