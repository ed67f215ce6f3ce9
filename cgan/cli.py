"""Command line: ``python -m cgan train``, ``figures``, ``evaluate``, ``study`` and ``web``."""
from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

from . import cli_study
from .cli_options import add_common_options, default_dirs, fast_settings, settings_from_args
from .settings import preset_name


def _add_run_options(p: argparse.ArgumentParser) -> None:
    add_common_options(p)
    p.add_argument("--overwrite", action="store_true", help="delete the run folder's checkpoints and start over")
    p.add_argument("--restarts", type=int, default=0,
                   help="if a run diverges, start it over with a new seed up to this many times (default 0)")
    p.add_argument("--tensorboard", metavar="DIR", help="write TensorBoard summaries (losses, steps, manifolds) "
                                                        "into DIR (for `figures`: DIR/cgan and DIR/gan)")
    p.add_argument("--fast", action="store_true",
                   help="turn on the options that change the numerics for speed and that this machine supports "
                        "(16-bit dropout masks; bfloat16 on CPUs with AVX512_BF16 or AMX): not the article's "
                        "numerics")


def _evaluate(args: argparse.Namespace) -> int:
    import json

    from . import evaluation, evaluation_report
    from .data import load_data
    from .files import atomic_path
    from .graph import GANGraph

    if args.per_label < 2:
        raise ValueError(f"--per-label must be >= 2, got {args.per_label}")
    for path in (args.cgan, args.gan):
        if not Path(path).is_file():
            raise FileNotFoundError(f"generator weights not found: {path}; train them with `python -m cgan figures`")
    figs = Path(args.figs_dir)
    figs.mkdir(parents=True, exist_ok=True)
    data = load_data()
    parzen = not args.no_parzen
    graphs = {f"trained CGAN ({args.cgan})": GANGraph.from_generator_file(args.cgan),
              f"trained GAN ({args.gan})": GANGraph.from_generator_file(args.gan)}
    try:
        rows = evaluation.evaluate_rows(graphs, data, args.per_label, parzen, floors=(True, False))
    finally:
        for graph in graphs.values():
            graph.close()
    command = (f"python -m cgan evaluate --cgan {args.cgan} --gan {args.gan} --curves-run {args.curves_run} "
               f"--figs-dir {args.figs_dir} --per-label {args.per_label}" + (" --no-parzen" if not parzen else ""))
    report = {"command": command, "rows": rows}
    if (Path(args.curves_run) / "settings.json").is_file():
        report["curves"] = evaluation.snapshot_curves(args.curves_run, data=data)
        evaluation_report.plot_curves(report["curves"], figs / "metrics_over_training.png")
    md = f"Made by `{command}`.\n\n" + evaluation_report.report(rows, f"trained CGAN ({args.cgan})")
    for name, text in (("metrics.json", json.dumps(report, indent=1)), ("metrics.md", md)):
        with atomic_path(figs / name) as tmp:
            tmp.write_text(text)
    print(md)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cgan", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train one model (resuming its run folder) and write its figures")
    p.add_argument("--run-dir", default=None, help="checkpoints and snapshots (default runs/cgan, or runs/gan with "
                                                   "--unconditional; runs/NAME/cgan ... for --preset NAME other than "
                                                   "printed)")
    p.add_argument("--figs-dir", default=None, help="write the figures here too")
    p.add_argument("--unconditional", action="store_true", help="the plain GAN (no labels)")
    _add_run_options(p)

    p = sub.add_parser("figures", help="regenerate every article figure: the CGAN's and the plain GAN's")
    p.add_argument("--figs-dir", default=None, help="where the figures go (default figs; figs/NAME for --preset "
                                                    "NAME other than printed)")
    p.add_argument("--runs-dir", default=None, help="run folders RUNS/cgan and RUNS/gan (default runs; runs/NAME for "
                                                    "--preset NAME other than printed)")
    _add_run_options(p)

    p = sub.add_parser("evaluate", help="judge trained generators: classifier accuracy, Fréchet distance, "
                                        "class coverage, Parzen log-likelihood; table in figs/metrics.md")
    p.add_argument("--cgan", default="runs/cgan/generator.npz", help="the CGAN's generator.npz")
    p.add_argument("--gan", default="runs/gan/generator.npz", help="the plain GAN's generator.npz")
    p.add_argument("--curves-run", default="runs/cgan", help="CGAN run folder whose snapshots give the curves")
    p.add_argument("--figs-dir", default="figs", help="where metrics.json, metrics.md and the curves go")
    p.add_argument("--per-label", type=int, default=1000, help="generated digits per class (default 1000)")
    p.add_argument("--no-parzen", action="store_true", help="skip the (slow) Parzen estimate")

    cli_study.add_parser(sub)

    p = sub.add_parser("web", help="write the static page's weight files (web/weights/*.js) from the shipped "
                                   "generators")
    p.add_argument("folder", nargs="?", default="web", help="the page's folder (default web)")

    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    if args.command == "web":
        from . import web

        try:
            for path in web.export(args.folder):
                print(f"{path} ({path.stat().st_size / 1e6:.2f} MB)")
        except (ValueError, FileNotFoundError) as exc:
            parser.error(str(exc))
        return 0
    if hasattr(args, "preset"):  # an alias (published) is its preset (figure-time), folders included
        try:
            args.preset = preset_name(args.preset)
        except ValueError as exc:
            parser.error(f"--preset {args.preset!r} is unknown; {str(exc).split('; ', 1)[1]}")
    if args.command in ("study", "figures"):
        sweeping = args.command == "study" and (args.grid is not None or args.no_judge)
        runs, figs = default_dirs("sweep" if sweeping else args.command, args.preset)
        args.runs_dir = args.runs_dir or runs
        args.figs_dir = args.figs_dir or figs
    if args.command == "train" and args.run_dir is None:  # beside the figures command's run of the same model
        args.run_dir = str(Path(default_dirs("figures", args.preset)[0]) / ("gan" if args.unconditional else "cgan"))
    if args.command == "study":
        return cli_study.run(args, argv, parser)
    if args.command == "evaluate":
        try:
            return _evaluate(args)
        except (ValueError, FileNotFoundError) as exc:
            parser.error(str(exc))
    from .files import RunFolderFull
    from .history import TrainingDiverged
    from .runlock import RunFolderInUse, RunFolderUnlockable
    from .training import train  # imports TensorFlow: after the arguments are good

    try:
        tb = args.tensorboard
        if args.command == "train":
            settings = settings_from_args(args, conditional=not args.unconditional,
                                          **({"tensorboard": tb} if tb else {}))
            jobs = [(settings, Path(args.run_dir), args.figs_dir)]
        else:
            jobs = [(settings_from_args(args, conditional=c, **({"tensorboard": str(Path(tb) / name)} if tb else {})),
                     Path(args.runs_dir) / name, args.figs_dir) for c, name in ((True, "cgan"), (False, "gan"))]
        if args.fast:
            print(f"--fast: {', '.join(f'{k}={v!r}' for k, v in fast_settings().items())}; these are not the "
                  "article's numerics (README, Speed)")
        for settings, run_dir, figs_dir in jobs:
            start = time.perf_counter()
            try:
                trainer = train(settings, run_dir, figs_dir=figs_dir, overwrite=args.overwrite,
                                progress=not args.no_progress, restarts=args.restarts)
            except TrainingDiverged as exc:
                print(f"{settings.kind.upper()} run in {run_dir} stopped: {exc}", file=sys.stderr)
                return 3
            t = trainer.run.clock.seconds
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"{settings.kind.upper()}: {settings.iterations} iterations in {run_dir}"
                  f"{f', figures in {figs_dir}' if figs_dir else ''} ({time.perf_counter() - start:.0f} s: "
                  f"steps {t['steps']:.0f} s, snapshots {t['snapshots']:.0f} s, checkpoints {t['checkpoints']:.0f} s, "
                  f"figures {t['figures']:.0f} s; peak memory {rss:.0f} MiB)")
    except (RunFolderInUse, RunFolderUnlockable) as exc:
        print(f"python -m cgan: error: {exc}", file=sys.stderr)
        return 4
    except RunFolderFull as exc:
        print(f"python -m cgan: error: {exc.strerror}", file=sys.stderr)
        return 5
    except (ValueError, FileNotFoundError) as exc:
        parser.error(str(exc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
