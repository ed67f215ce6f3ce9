"""``python -m cgan study``: the seed study, a sweep over settings (``--grid``), the engines
they run on (``--engine``), and the one-seed process the study starts (``--seed-dir``)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .cli_options import add_common_options, settings_from_args


def add_parser(sub) -> None:
    """The ``study`` command's options."""
    p = sub.add_parser("study", help="train the article's default for several seeds, judge each, and report the "
                                     "spread (figs/study/)")
    p.add_argument("--seeds", type=int, nargs="+", default=None, help="seeds (default 2017 2018 2019 2020 2021)")
    p.add_argument("--unconditional", action="store_true", help="the plain GAN")
    add_common_options(p, seed=False)
    p.add_argument("--ema", type=float, nargs="*", default=None, metavar="DECAY",
                   help="decays of the averaged generators each run keeps (ours; default 0.99 0.999; none: --ema)")
    p.add_argument("--runs-dir", default=None, help="seed run folders go here (default runs/study, or runs/sweep "
                                                    "with --grid or --no-judge; -NAME added for --preset NAME other "
                                                    "than printed)")
    p.add_argument("--figs-dir", default=None, help="the report goes here (default figs/study, or figs/sweep with "
                                                    "--grid or --no-judge; -NAME added for --preset NAME other than "
                                                    "printed)")
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
                        "each setting, e.g. --grid lr_dis=1e-4,1e-3 --grid k_step=5,10); run folders in "
                        "--runs-dir/<cell>/, reports in --figs-dir/<cell>/ (default runs/sweep, figs/sweep; with "
                        "--no-judge one report, --figs-dir/stability.*)")
    p.add_argument("--no-judge", action="store_true",
                   help="only train: record whether each seed diverged (and from which iteration the "
                        "discriminator had won); the report is the divergence rate per cell with its 95%% "
                        "Wilson interval (--figs-dir/stability.md, .json, .png)")
    p.add_argument("--engine", choices=("local", "dask"), default="local",
                   help="local: processes on this machine (the default); dask: a task a seed on a Dask "
                        "cluster (pip install -e .[dask]), a LocalCluster of --jobs workers unless --address")
    p.add_argument("--address", metavar="tcp://HOST:PORT",
                   help="with --engine dask: the scheduler of a running Dask cluster, whose workers offer the "
                        "resource cpus (dask worker ... --resources cpus=N)")
    p.add_argument("--seed-dir", metavar="DIR", help=argparse.SUPPRESS)  # one seed's process (cgan.study.run_study)



def run(args: argparse.Namespace, argv: list[str], parser: argparse.ArgumentParser) -> int:
    """Run ``study`` as parsed; a bad argument is ``parser.error``, a folder in use exit code 4,
    a full disk 5."""
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
        base = settings_from_args(args, conditional=not args.unconditional, ema_decay=tuple(args.ema) or None)
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
    base = settings_from_args(args, conditional=not args.unconditional, ema_decay=tuple(args.ema) or None)
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
        report = sweep_report.write_report(sweep_report.build_report(base, grid, tasks, runs_dir, command), figs_dir)
        print(sweep_report.markdown(report))
        return 0
    for cell in sweep.cells(grid):
        name = sweep.cell_name(cell)
        folders = [folder for _, folder in sweep.cell_tasks(tasks, runs_dir, cell)]
        report = study_report.write_report(study_report.collect(folders), figs_dir / name, runs_dir / name, command,
                                           args.article_figs)
        print(f"## {name}\n\n" + study_report.markdown(report))
    return 0
