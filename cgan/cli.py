"""Command line: ``python -m cgan train``, ``figures``, ``evaluate``, ``study`` and ``web``."""
from __future__ import annotations

import argparse
import ast
import resource
import sys
import time
from pathlib import Path

from .settings import PRESETS, Settings, preset_name


def _setting(text: str) -> tuple[str, object]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--set takes NAME=VALUE, got {text!r}")
    name, value = text.split("=", 1)
    try:
        parsed = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        parsed = value
    return name.strip(), parsed


def _add_common_options(p: argparse.ArgumentParser, seed: bool = True) -> None:
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
    p.add_argument("--set", type=_setting, action="append", default=[], metavar="NAME=VALUE",
                   help="any other setting of cgan.Settings, e.g. --set lr_dis=5e-5")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _add_run_options(p: argparse.ArgumentParser) -> None:
    _add_common_options(p)
    p.add_argument("--overwrite", action="store_true", help="delete the run folder's checkpoints and start over")
    p.add_argument("--restarts", type=int, default=0,
                   help="if a run diverges, start it over with a new seed up to this many times (default 0)")
    p.add_argument("--tensorboard", metavar="DIR", help="write TensorBoard summaries (losses, steps, manifolds) "
                                                        "into DIR (for `figures`: DIR/cgan and DIR/gan)")
    p.add_argument("--fast", action="store_true",
                   help="turn on the options that change the numerics for speed and that this machine supports "
                        "(16-bit dropout masks; bfloat16 on CPUs with AVX512_BF16 or AMX): not the article's "
                        "numerics")


def fast_settings() -> dict:
    """The ``--fast`` preset: the opt-ins that change the numerics and pay on this machine."""
    from .cpu import cpu_flags

    fast = {"dropout_mask_bits": 16}
    if cpu_flags() & {"avx512_bf16", "amx_bf16"}:
        fast["precision"] = "bf16"
    return fast


def default_dirs(command: str, preset: str = "printed") -> tuple[str, str]:
    """Where ``figures`` and ``study`` put their run folders and figures by default:
    ``runs``/``figs`` and ``runs/study``/``figs/study`` at the printed settings; a preset's
    beside them, under its name (an alias's preset's: ``published`` and ``figure-time`` both give
    ``runs/figure-time``/``figs/figure-time``, ``runs/study-figure-time``/``figs/study-figure-time``)."""
    runs, figs = {"figures": ("runs", "figs"), "study": ("runs/study", "figs/study"),
                  "sweep": ("runs/sweep", "figs/sweep")}[command]
    preset = preset_name(preset)
    if preset == "printed":
        return runs, figs
    sep = "/" if command == "figures" else "-"
    return f"{runs}{sep}{preset}", f"{figs}{sep}{preset}"


def _settings(args: argparse.Namespace, **fixed) -> Settings:
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


def _study(args: argparse.Namespace, argv: list[str]) -> int:
    from . import study, study_report

    for name in ("per_label", "jobs"):
        value = getattr(args, name)
        if value is not None and value < (2 if name == "per_label" else 1):
            raise ValueError(f"--{name.replace('_', '-')} must be >= {2 if name == 'per_label' else 1}, got {value}")
    if args.restarts < 0:
        raise ValueError(f"--restarts must be an integer >= 0 (restarts a diverged seed may take), got {args.restarts}")
    if args.seed_dir:  # one seed, in the process the study started for it: its settings are in its folder
        from . import study_seed
        from .runfolder import saved_settings

        folder = Path(args.seed_dir)
        # with --restarts, --seeds S is the seed asked for: the folder may hold one of its restarts
        settings = saved_settings(folder)
        settings = settings.replace(seed=args.seeds[0]) if args.restarts else settings
        study_seed.study_one(settings, folder, args.per_label, args.parzen, not args.no_progress, args.restarts,
                        judge=not args.no_judge)
        return 0
    figs_dir, runs_dir = Path(args.figs_dir), Path(args.runs_dir)
    if args.grid is not None or args.no_judge:
        return _sweep(args, argv)
    if not args.collect:
        args.seed = None
        base = _settings(args, conditional=not args.unconditional, ema_decay=tuple(args.ema) or None)
        threads = base.threads if "threads" in dict(args.set) else None  # the user's choice wins
        failed = study.run_study(base, args.seeds, runs_dir, args.per_label, args.parzen, args.jobs, threads,
                                 progress=not args.no_progress, restarts=args.restarts, engine=args.engine,
                                 address=args.address)
        if failed:
            print(f"python -m cgan study: error: seeds {failed} failed (see above); run the command again to "
                  "resume them", file=sys.stderr)
            return 1
        if args.no_report:
            return 0
    folders = (study_report.seed_folders(args.collect) if args.collect
               else [study.seed_dir(runs_dir, base.kind, seed) for seed in args.seeds])
    report = study_report.write_report(study_report.collect(folders), figs_dir, runs_dir,
                                       "python -m cgan " + " ".join(argv), args.article_figs)
    print(study_report.markdown(report))
    return 0


def _sweep(args: argparse.Namespace, argv: list[str]) -> int:
    """``study --grid ...`` (or ``--no-judge``): every cell's seeds through one engine, then the
    divergence report (``--no-judge``) or a study report a cell."""
    from . import study, study_report, sweep, sweep_report

    if args.collect:
        raise ValueError("--collect merges judged seed folders; a sweep reports from its --runs-dir: run the "
                         "same command again (it trains nothing that is done)")
    grid = sweep.parse_grid(args.grid or [])
    args.seed = None
    base = _settings(args, conditional=not args.unconditional, ema_decay=tuple(args.ema) or None)
    threads = base.threads if "threads" in dict(args.set) else None
    runs_dir, figs_dir = Path(args.runs_dir), Path(args.figs_dir)
    tasks = sweep.tasks(base, grid, args.seeds, runs_dir)
    judge = not args.no_judge
    failed = study.run_seeds(tasks, args.per_label, args.parzen, args.jobs, threads, not args.no_progress,
                             args.restarts, judge, args.engine, args.address)
    if failed:
        print("python -m cgan study: error: " + ", ".join(str(folder) for _, folder in failed)
              + " failed (see above); run the command again to resume them", file=sys.stderr)
        return 1
    if args.no_report:
        return 0
    command = "python -m cgan " + " ".join(argv)
    if not judge:
        report = sweep_report.write_report(sweep_report.build_report(base, grid, tasks, command), figs_dir)
        print(sweep_report.markdown(report))
        return 0
    for cell in sweep.cells(grid):
        name = sweep.cell_name(cell)
        folders = [folder for settings, folder in tasks if folder.parent == runs_dir / name]
        report = study_report.write_report(study_report.collect(folders), figs_dir / name, runs_dir / name, command,
                                           args.article_figs)
        print(f"## {name}\n\n" + study_report.markdown(report))
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

    p = sub.add_parser("study", help="train the article's default for several seeds, judge each, and report the "
                                     "spread (figs/study/)")
    p.add_argument("--seeds", type=int, nargs="+", default=None, help="seeds (default 2017 2018 2019 2020 2021)")
    p.add_argument("--unconditional", action="store_true", help="the plain GAN")
    _add_common_options(p, seed=False)
    p.add_argument("--ema", type=float, nargs="*", default=None, metavar="DECAY",
                   help="decays of the averaged generators each run keeps (ours; default 0.99 0.999; none: --ema)")
    p.add_argument("--runs-dir", default=None, help="seed run folders go here (default runs/study; "
                                                    "runs/study-NAME for --preset NAME other than printed)")
    p.add_argument("--figs-dir", default=None, help="the report goes here (default figs/study; figs/study-NAME for "
                                                    "--preset NAME other than printed)")
    p.add_argument("--jobs", type=int, default=None,
                   help="seeds trained at once, the cores split between them (default: one job a core, at "
                        "most one a seed)")
    p.add_argument("--per-label", type=int, default=1000, help="generated digits per class for the metrics")
    p.add_argument("--parzen", action="store_true", help="add the (slow) Parzen estimate")
    p.add_argument("--article-figs", metavar="DIR", help="also judge the article's published manifold_*.png here")
    p.add_argument("--collect", nargs="+", metavar="DIR", help="only merge the judged seed folders in DIR... "
                                                                "(from one machine or several) into the report")
    p.add_argument("--no-report", action="store_true", help="train and judge only")
    p.add_argument("--restarts", type=int, default=0, metavar="N",
                   help="a seed that diverges starts over in its folder with a new seed (as train --restarts), "
                        "up to N times; the report says which seed it finished with (default 0: it is "
                        "reported as diverged)")
    p.add_argument("--grid", action="append", metavar="NAME=V1,V2", default=None,
                   help="a sweep: train the seeds at every combination of these settings' values (repeat for "
                        "each setting, e.g. --grid lr_dis=1e-4,1e-3 --grid k_step=5,10); run folders "
                        "RUNS/<cell>/, reports FIGS/<cell>/ (default runs/sweep, figs/sweep)")
    p.add_argument("--no-judge", action="store_true",
                   help="only train: record whether each seed diverged (and from which iteration the "
                        "discriminator had won); the report is the divergence rate a cell with its 95%% "
                        "Wilson interval (FIGS/stability.md, .json, .png)")
    p.add_argument("--engine", choices=("local", "dask"), default="local",
                   help="local: processes on this machine (the default); dask: a task a seed on a Dask "
                        "cluster (pip install -e .[dask]), a LocalCluster of --jobs workers unless --address")
    p.add_argument("--address", metavar="tcp://HOST:PORT",
                   help="with --engine dask: the scheduler of a running Dask cluster, whose workers offer the "
                        "resource cpus (dask worker ... --resources cpus=N)")
    p.add_argument("--seed-dir", metavar="DIR", help=argparse.SUPPRESS)  # one seed's process (cgan.study.run_study)

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
        from . import study
        from .files import RunFolderFull
        from .runlock import RunFolderInUse, RunFolderUnlockable

        args.seeds = args.seeds or list(study.DEFAULT_SEEDS)
        args.ema = list(study.DEFAULT_DECAYS) if args.ema is None else args.ema
        args.fast = False
        try:
            return _study(args, argv)
        except (ValueError, FileNotFoundError) as exc:
            parser.error(str(exc))
        except (RunFolderInUse, RunFolderUnlockable) as exc:
            print(f"python -m cgan: error: {exc}", file=sys.stderr)
            return 4
        except RunFolderFull as exc:
            print(f"python -m cgan: error: {exc.strerror}", file=sys.stderr)
            return 5
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
            settings = _settings(args, conditional=not args.unconditional, **({"tensorboard": tb} if tb else {}))
            jobs = [(settings, Path(args.run_dir), args.figs_dir)]
        else:
            jobs = [(_settings(args, conditional=c, **({"tensorboard": str(Path(tb) / name)} if tb else {})),
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
