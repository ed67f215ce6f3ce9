"""The seed study: the article's default trained at full length for several seeds, each
judged by :mod:`cgan.evaluation`, so the reproduction's quality reads as a distribution
(mean ± sd, min-max over seeds) rather than as one run.

``python -m cgan study --seeds 2017 2018 2019`` trains ``runs/study/cgan-seed-2017/``, ...
(one run folder a seed, locked while it trains, resumed after a stop: the command run
again continues the study), judges each seed's final generator into its folder's
``evaluation.json`` (``cgan.runfolder.EVALUATION_FILE``); :mod:`cgan.study_report` then writes
the report into ``figs/study/``:

- ``study.md`` / ``study.json``: one row per seed and variant, then mean ± sd and min-max
  over seeds, beside the ceiling (real test digits) and the floor (an untrained generator);
- ``study_curves.png``: manifold accuracy and Fréchet distance over training, a line a seed;
- ``<kind>-seed-S.png`` (and ``<kind>-seed-S-ema-D.png`` for an averaged generator): the
  seed's final manifolds, labels 0-4 above 5-9, 420 x 420 px each between 2 px white
  gutters, 8-bit grey (the plain GAN: its one manifold).

Every run keeps moving averages of its generator's weights (:mod:`cgan.averaging`;
``--ema``, ours, not the article's). They never change training, so each seed gives both
the "final G" rows (its trained generator's final weights) and the "averaged G" rows from the same run.

A seed that diverges is recorded as diverged (its ``evaluation.json`` says so) and left out
of the numbers. With ``--restarts N`` it starts over instead, in its own folder with a new
seed, up to N times, by the rule of ``python -m cgan train --restarts N``
(:func:`cgan.training.train`); its rows stay under the seed asked for, and its
``evaluation.json`` (so ``study.json`` and ``study.md``) adds ``trained_seed`` (the seed it
finished with) and ``restarts`` (how many times it started over). The folder's
``settings.json`` holds the seed in training, so the command run again after a stop
continues the restarted run (:func:`restart_point`).

Spreading a study over machines: run ``--seeds S`` on each, copy the run folders
together, then ``--collect DIR ...`` merges them into one report.

This module runs the seeds (:mod:`cgan.engines`: here, or on a Dask cluster); :mod:`cgan.study_seed`
trains and judges one; :mod:`cgan.study_report` collects and reports them; :mod:`cgan.sweep`
lays a study out over a grid of settings.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from .files import atomic_path
from .readback import manifold_fd
from .settings import Settings
from .study_seed import read_evaluation, restart_point, study_one, write_seed_settings

DEFAULT_SEEDS = (2017, 2018, 2019, 2020, 2021)
DEFAULT_DECAYS = (0.99, 0.999)
# Targets set for the averaged generator, as means over the study's seeds.
TARGET_ACCURACY = 0.995        # manifold accuracy
TARGET_LABEL_ACCURACY = 0.98   # no label's manifold accuracy under this
TARGET_FD_RATIO = 0.5          # Fréchet distance (random z) at most this share of the final G rows'
TOLERANCE = 1e-9               # floating-point slack when a mean sits on a target
# Measured on 2 cores (benchmarks/README.md, "Seed study"): two 1-thread trainings side by side
# finish two seeds sooner than one 2-thread training does them in turn.
THREADS_PER_JOB = 1


def seed_dir(runs_dir: str | os.PathLike, kind: str, seed: int) -> Path:
    """A seed's run folder: ``runs_dir/cgan-seed-2017``."""
    return Path(runs_dir) / f"{kind}-seed-{seed}"


def plan(n_seeds: int, jobs: int | None = None, cores: int | None = None) -> tuple[int, int]:
    """How to train ``n_seeds`` seeds: ``(jobs at once, TensorFlow threads per job)``. By
    default as many jobs as ``cores // THREADS_PER_JOB`` (at most one a seed); the cores
    are split evenly between the jobs."""
    cores = cores or os.cpu_count() or 1
    jobs = max(1, min(jobs or cores // THREADS_PER_JOB, n_seeds))
    return jobs, max(1, cores // jobs)


# -- what a seed is judged against ----------------------------------------------------------
def reference_rows(kind: str, per_label: int, parzen: bool, cache_dir: Path) -> dict:
    """The ceiling (real test digits) and the floor (an untrained generator), cached in
    ``cache_dir/reference-<kind>.json``."""
    cache = cache_dir / f"reference-{kind}-{per_label}{'-parzen' if parzen else ''}.json"
    if cache.is_file():
        return json.loads(cache.read_text())
    from . import evaluation
    from .data import load_data
    from .graph import GANGraph

    data = load_data()
    conditional = kind == "cgan"
    graph = GANGraph(Settings(seed=0, conditional=conditional))
    try:
        floor = evaluation.floor_name(conditional)
        rows = evaluation.evaluate_rows({floor: graph}, data, per_label, parzen, floors=())
        if conditional:
            rows[floor]["fd_manifold"] = manifold_fd(graph, data=data)
    finally:
        graph.close()
    cache_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(cache) as tmp:
        tmp.write_text(json.dumps(rows, indent=1))
    return rows


# -- the study: seeds in turn, or side by side in processes of their own ---------------------
def seed_command(run_dir: Path, per_label: int, parzen: bool, seed: int | None = None,
                 restarts: int = 0, judge: bool = True) -> list[str]:
    """The command that trains and judges one seed in a process of its own: it reads the
    seed's settings from ``run_dir/settings.json``. With ``restarts``, it also carries the
    seed asked for (``seed``: the folder may hold one of its restarts, :func:`restart_point`)."""
    return [sys.executable, "-m", "cgan", *seed_args(run_dir, per_label, parzen, seed, restarts, judge)]


def seed_args(run_dir: Path, per_label: int, parzen: bool, seed: int | None = None, restarts: int = 0,
              judge: bool = True) -> list[str]:
    """:func:`seed_command`'s arguments after ``python -m cgan``."""
    again = ["--seeds", str(seed), "--restarts", str(restarts)] if restarts else []
    return ["study", *again, "--seed-dir", str(run_dir), "--per-label", str(per_label),
            *(["--parzen"] if parzen else []), *([] if judge else ["--no-judge"]), "--no-progress", "--no-report"]


def distinct_seeds(seeds) -> None:
    """A study's seeds are distinct: a seed twice is a ``ValueError``."""
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"--seeds must be distinct, got {list(seeds)}")


def run_study(base: Settings, seeds: list[int], runs_dir: str | os.PathLike, per_label: int = 1000,
              parzen: bool = False, jobs: int | None = None, threads: int | None = None,
              progress: bool = True, restarts: int = 0, judge: bool = True, engine: str = "local",
              address: str | None = None) -> list[int]:
    """Train and judge each seed of ``seeds`` at ``base``'s settings that has no judgement yet
    (:func:`read_evaluation`), in ``runs_dir/<kind>-seed-<seed>`` (:func:`run_seeds`).
    Returns the seeds that failed."""
    distinct_seeds(seeds)
    tasks = [(base.replace(seed=seed), seed_dir(runs_dir, base.kind, seed)) for seed in seeds]
    failed = run_seeds(tasks, per_label, parzen, jobs, threads, progress, restarts, judge, engine, address)
    return [settings.seed for settings, _ in failed]


def run_seeds(tasks: list[tuple[Settings, Path]], per_label: int = 1000, parzen: bool = False,
              jobs: int | None = None, threads: int | None = None, progress: bool = True, restarts: int = 0,
              judge: bool = True, engine: str = "local", address: str | None = None) -> list[tuple[Settings, Path]]:
    """Train and judge (or with ``judge=False`` only train) each ``(settings, run folder)`` that
    has no record yet (:func:`read_evaluation`); a seed that diverges starts over with a new
    seed up to ``restarts`` times (:func:`study_seed`). One job (``engine="local"``) trains the
    seeds in turn in this process, carrying on past a seed that fails. Otherwise each seed runs
    as :func:`seed_command` with ``threads`` TensorFlow threads (default: the cores split
    between the jobs, :func:`plan`), reading its settings from its folder: ``jobs`` at a time on
    this machine (:func:`cgan.engines.run_local`), or as tasks on a Dask cluster
    (:func:`cgan.engines.run_dask`: at ``address``, or ``jobs`` local workers).
    Returns the tasks that failed."""
    from . import checks, engines

    checks.integer("restarts", restarts, 0)
    if engine not in engines.ENGINES:
        raise ValueError(f"engine must be one of {', '.join(engines.ENGINES)}, got {engine!r}")
    if address is not None and engine != "dask":
        raise ValueError(f"--address is the address of a Dask scheduler: it needs --engine dask, not {engine!r}")
    pending = [(s, f) for s, f in tasks if read_evaluation(f, s, per_label, parzen, restarts, judge) is None]
    if not pending:
        return []
    jobs, planned = plan(len(pending), jobs)
    if jobs == 1 and engine == "local":
        return [task for task in pending if not _study_in_turn(task, threads, per_label, parzen, progress, restarts,
                                                               judge)]
    threads = (planned if address is None else THREADS_PER_JOB) if threads is None else threads
    starts = []
    for settings, folder in pending:  # the run to train: the seed, or the restart of it that its folder holds
        start, _ = restart_point(folder, settings, restarts)
        starts.append(start.replace(threads=threads))
        write_seed_settings(folder, starts[-1])
    where = f"on the Dask scheduler at {address}" if address else (
        f"on a local Dask cluster of {jobs} workers" if engine == "dask" else f"{jobs} at a time")
    print(f"study: {len(pending)} seeds, {where}, {threads} TensorFlow thread(s) each")
    if engine == "dask":
        codes = engines.run_dask([(seed_args(f, per_label, parzen, s.seed, restarts, judge), f, s, restarts)
                                  for s, f in pending], threads, address, jobs)
    else:
        codes = engines.run_local([seed_command(f, per_label, parzen, s.seed, restarts, judge) for s, f in pending],
                                  jobs)
    return [task for task, code in zip(pending, codes) if code != 0]


def _study_in_turn(task: tuple[Settings, Path], threads: int | None, per_label: int, parzen: bool, progress: bool,
                   restarts: int, judge: bool) -> bool:
    """One seed of a one-job study, in this process; a seed that fails is said and the study
    goes on (as when seeds run in processes of their own). True if it succeeded."""
    settings, folder = task
    settings = settings if threads is None else settings.replace(threads=threads)
    try:
        study_one(settings, folder, per_label, parzen, progress, restarts, judge)
    except Exception as exc:  # noqa: BLE001 -- any failure of one seed; KeyboardInterrupt still stops the study
        print(f"study: {settings.kind} seed {settings.seed} failed in {folder}: {type(exc).__name__}: {exc}",
              file=sys.stderr)
        return False
    return True
