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

This module trains and judges the seeds; :mod:`cgan.study_report` collects and reports them.
"""
from __future__ import annotations

import json
import math
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from .files import atomic_path
from .readback import manifold_fd, seed_picture
from .settings import Settings, settings_differ

DEFAULT_SEEDS = (2017, 2018, 2019, 2020, 2021)
DEFAULT_DECAYS = (0.99, 0.999)
FINAL = "final G"              # the variant of a seed's trained generator, its final weights
# Variant names that older code recorded (committed study.json files keep them): old -> today's.
FORMER_VARIANTS = {"article (faithful)": FINAL}
# Targets set for the averaged generator, as means over the study's seeds.
TARGET_ACCURACY = 0.995        # manifold accuracy
TARGET_LABEL_ACCURACY = 0.98   # no label's manifold accuracy under this
TARGET_FD_RATIO = 0.5          # Fréchet distance (random z) at most this share of the final G rows'
UNJUDGED = "not_judged"         # an evaluation.json key: the run trained to the end, judged by nothing (--no-judge)
TOLERANCE = 1e-9               # floating-point slack when a mean sits on a target
# Measured on 2 cores (benchmarks/README.md, "Seed study"): two 1-thread trainings side by side
# finish two seeds sooner than one 2-thread training does them in turn.
THREADS_PER_JOB = 1


def variant_name(decay: float | None) -> str:
    """The name of a study row's variant: the trained weights or an averaged generator."""
    return FINAL if decay is None else f"averaged G, decay {decay:g} (beyond the article)"


def seed_dir(runs_dir: str | os.PathLike, kind: str, seed: int) -> Path:
    """A seed's run folder: ``runs_dir/cgan-seed-2017``."""
    return Path(runs_dir) / f"{kind}-seed-{seed}"


def restart_seeds(seed: int, restarts: int) -> list[int]:
    """The seeds a run started as ``seed`` trains with, restart after restart: ``[seed, first
    restart's, ...]``, by :func:`cgan.training.restart_seed`, the rule :func:`cgan.training.train`
    restarts with; the study uses the chain to recognise a restarted run in a seed's folder."""
    from .training import restart_seed

    seeds = [seed]
    for _ in range(restarts):
        seeds.append(restart_seed(seeds[-1]))
    return seeds


def restart_point(run_dir: Path, settings: Settings, restarts: int) -> tuple[Settings, int]:
    """Where a seed's run stands in ``run_dir``: ``(settings to train on with, restarts
    taken)``. A folder whose ``settings.json`` holds one of ``settings.seed``'s restart seeds
    (:func:`restart_seeds`, within ``restarts``) holds that restarted run, and it continues;
    otherwise the seed as asked."""
    from .runfolder import SETTINGS_FILE, saved_settings

    if not restarts or not (run_dir / SETTINGS_FILE).is_file():
        return settings, 0
    try:
        saved = saved_settings(run_dir).seed
    except ValueError:  # unreadable: training says so
        return settings, 0
    seeds = restart_seeds(settings.seed, restarts)
    if saved in seeds[1:]:
        return settings.replace(seed=saved), seeds.index(saved)
    return settings, 0


def plan(n_seeds: int, jobs: int | None = None, cores: int | None = None) -> tuple[int, int]:
    """How to train ``n_seeds`` seeds: ``(jobs at once, TensorFlow threads per job)``. By
    default as many jobs as ``cores // THREADS_PER_JOB`` (at most one a seed); the cores
    are split evenly between the jobs."""
    cores = cores or os.cpu_count() or 1
    jobs = max(1, min(jobs or cores // THREADS_PER_JOB, n_seeds))
    return jobs, max(1, cores // jobs)


def machine() -> str:
    """This machine in a line: CPU model, cores, Python and TensorFlow versions."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from importlib.metadata import version

    return (f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.machine()}, Python "
            f"{platform.python_version()}, TensorFlow {version('tensorflow')}")


# -- one seed ------------------------------------------------------------------------------
def train_seed(settings: Settings, run_dir: Path, progress: bool = False, restarts: int = 0) -> None:
    """Train (or resume) one seed's run in ``run_dir``; if it diverges, start it over with a
    new seed up to ``restarts`` times (:func:`cgan.training.train`)."""
    from .training import train

    trainer = train(settings, run_dir, progress=progress, restarts=restarts)
    trainer.close()


def judge_seed(run_dir: Path, per_label: int = 1000, parzen: bool = False, data=None, classifier=None,
               started_as: int | None = None, restarts: int = 0) -> dict:
    """Judge a finished run's generator, and each of its averaged generators, with
    :func:`cgan.evaluation.evaluate`; add the steps per iteration, the training time and (CGAN)
    the curves over training. Written to ``run_dir/evaluation.json`` and returned.

    A run restarted after it diverged (``restarts`` times; ``started_as``: the seed asked
    for) is recorded under the seed asked for, with :func:`restart_fields`."""
    from . import evaluation
    from .classifier import load_classifier
    from .data import load_data
    from .graph import GANGraph
    from .checkpoints import latest_state
    from .runfolder import EVALUATION_FILE, saved_settings

    settings = saved_settings(run_dir)
    seed = settings.seed if started_as is None else started_as
    state = latest_state(run_dir)
    if state["iteration"] < settings.iterations:
        raise ValueError(f"{run_dir} has trained {state['iteration']} of {settings.iterations} iterations; "
                         "train it to the end first")
    from PIL import Image

    data = data if data is not None else load_data()
    clf = classifier or load_classifier()
    rows = {}
    for decay in (None, *(settings.ema_decay or ())):
        graph = GANGraph.from_generator_file(run_dir / "generator.npz", averaged=False if decay is None else decay)
        try:
            row = {"decay": decay, **evaluation.evaluate(graph, data, per_label, classifier=clf, with_parzen=parzen)}
            if settings.conditional:
                row["fd_manifold"] = manifold_fd(graph, clf, data)
            with atomic_path(run_dir / picture_name(settings.kind, seed, decay), keep_suffix=True) as tmp:
                Image.fromarray(seed_picture(graph), mode="L").save(tmp, optimize=True)
            rows[variant_name(decay)] = row
        finally:
            graph.close()
    history = state["history"]
    evaluation = {
        "seed": seed, **restart_fields(settings.seed, restarts), "kind": settings.kind,
        "iterations": state["iteration"], "settings": settings.to_dict(), "per_label": per_label, "parzen": parzen,
        "d_steps_per_iteration": float(np.mean(history["d_steps"])),
        "g_steps_per_iteration": float(np.mean(history["g_steps"])),
        "training_seconds": float(state.get("elapsed", math.nan)),
        "machine": machine(), "rows": rows,
        "curves": evaluation.snapshot_curves(run_dir, classifier=clf, data=data) if settings.conditional else None,
    }
    with atomic_path(run_dir / EVALUATION_FILE) as tmp:
        tmp.write_text(json.dumps(evaluation, indent=1))
    return evaluation


def restart_fields(trained_seed: int, restarts: int) -> dict:
    """What a seed's ``evaluation.json`` adds when its run was restarted: ``trained_seed``
    (the seed of the run it ended with) and ``restarts`` (how many times it started over);
    nothing for a run that never was."""
    return {"trained_seed": trained_seed, "restarts": restarts} if restarts else {}


def picture_name(kind: str, seed: int, decay: float | None) -> str:
    """A seed's picture: ``cgan-seed-2017.png``, ``cgan-seed-2017-ema-0.999.png``."""
    return f"{kind}-seed-{seed}" + ("" if decay is None else f"-ema-{decay:g}") + ".png"


def read_evaluation(run_dir: Path, settings: Settings, per_label: int, parzen: bool,
                    restarts: int = 0, judge: bool = True) -> dict | None:
    """A seed's stored evaluation, if it judged the final generator of a run with these
    settings (those that change the math, and the iterations) with these options; or the
    record that such a run diverged, if it took at least ``restarts`` restarts (with fewer,
    the seed is not done: it starts over now). A restarted run counts as the seed asked for
    (``settings.seed``, its record's ``seed``) with its own seed (the record's ``trained_seed``).
    With ``judge=False`` (a sweep's ``--no-judge``), a record of a run trained to the end
    without judging (:data:`UNJUDGED`) is enough, whatever its ``per_label`` and ``parzen``."""
    from .runfolder import EVALUATION_FILE

    file = run_dir / EVALUATION_FILE
    if not file.is_file():
        return None
    evaluation = json.loads(file.read_text())
    judged = Settings.from_dict(evaluation["settings"])
    trained = settings.replace(seed=evaluation.get("trained_seed", settings.seed))
    if (evaluation.get("seed") != settings.seed or settings_differ(judged, trained)
            or judged.iterations != settings.iterations):
        return None
    if evaluation.get("diverged"):
        return evaluation if evaluation.get("restarts", 0) >= restarts else None
    if evaluation.get(UNJUDGED) and judge:
        return None
    if judge and (evaluation.get("per_label") != per_label or evaluation.get("parzen") != parzen):
        return None
    generator = run_dir / "generator.npz"
    if not generator.is_file() or file.stat().st_mtime < generator.stat().st_mtime:
        return None
    return evaluation


def study_seed(settings: Settings, run_dir: Path, per_label: int, parzen: bool, progress: bool = False,
               restarts: int = 0, judge: bool = True) -> dict:
    """One seed of the study, from wherever it stopped: train, then judge. A run that
    diverges starts over in ``run_dir`` with a new seed, up to ``restarts`` times
    (:func:`cgan.training.train`; a restarted run that was stopped continues:
    :func:`restart_point`); the seed's ``evaluation.json`` then says so
    (:func:`restart_fields`). A run that still diverges is recorded as such, with the
    iteration it was stopped at (``diverged_at``) and, if the discriminator had won, the first
    iteration of its win (``stalled_from``), and not judged. With ``judge=False`` a run
    trained to the end is recorded as such (:data:`UNJUDGED`), not judged."""
    from .checkpoints import latest_state
    from .history import TrainingDiverged
    from .runfolder import EVALUATION_FILE

    done = read_evaluation(run_dir, settings, per_label, parzen, restarts, judge)
    if done is not None:
        return done
    start, taken = restart_point(run_dir, settings, restarts)
    try:
        train_seed(start, run_dir, progress, restarts - taken)
    except TrainingDiverged as exc:
        trained_seed, taken = _trained_seed(run_dir, settings.seed, restarts)
        evaluation = {"seed": settings.seed, **restart_fields(trained_seed, taken), "kind": settings.kind,
                      "settings": settings.replace(seed=trained_seed).to_dict(),
                      "iterations": latest_state(run_dir)["iteration"], "per_label": per_label, "parzen": parzen,
                      "diverged": str(exc), "diverged_at": exc.iteration, "stalled_from": exc.stalled_from,
                      "machine": machine(), "rows": {}}
        with atomic_path(run_dir / EVALUATION_FILE) as tmp:
            tmp.write_text(json.dumps(evaluation, indent=1))
        return evaluation
    trained_seed, taken = _trained_seed(run_dir, settings.seed, restarts)
    if not judge:
        return record_unjudged(run_dir, settings.seed, taken)
    return judge_seed(run_dir, per_label, parzen, started_as=settings.seed, restarts=taken)


def record_unjudged(run_dir: Path, started_as: int, restarts: int = 0) -> dict:
    """The record of a run trained to the end and not judged (``--no-judge``): that it did not
    diverge, its steps per iteration and its training time; written to ``evaluation.json``."""
    from .checkpoints import latest_state
    from .runfolder import EVALUATION_FILE, saved_settings

    settings = saved_settings(run_dir)
    state = latest_state(run_dir)
    history = state["history"]
    evaluation = {"seed": started_as, **restart_fields(settings.seed, restarts), "kind": settings.kind,
                  UNJUDGED: True, "iterations": state["iteration"], "settings": settings.to_dict(),
                  "d_steps_per_iteration": float(np.mean(history["d_steps"])),
                  "g_steps_per_iteration": float(np.mean(history["g_steps"])),
                  "training_seconds": float(state.get("elapsed", math.nan)), "machine": machine(), "rows": {}}
    with atomic_path(run_dir / EVALUATION_FILE) as tmp:
        tmp.write_text(json.dumps(evaluation, indent=1))
    return evaluation


def _trained_seed(run_dir: Path, seed: int, restarts: int) -> tuple[int, int]:
    """The seed the run in ``run_dir`` (started as ``seed``) trained last, and its restarts."""
    from .runfolder import saved_settings

    if not restarts:
        return seed, 0
    trained = saved_settings(run_dir).seed
    seeds = restart_seeds(seed, restarts)
    if trained not in seeds:
        raise RuntimeError(f"{run_dir} trained seed {trained}, none of seed {seed}'s restart seeds {seeds[1:]}: "
                           "cgan.study.restart_seeds no longer follows cgan.training.train")
    return trained, seeds.index(trained)


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


def write_seed_settings(run_dir: Path, settings: Settings) -> None:
    """Give a seed's folder its settings (``settings.json``) for the process that trains it; a
    folder that holds another run is a ``ValueError``."""
    from .runfolder import SETTINGS_FILE, saved_settings

    run_dir.mkdir(parents=True, exist_ok=True)
    if (run_dir / SETTINGS_FILE).is_file():
        diff = settings_differ(saved_settings(run_dir), settings)
        if diff:
            raise ValueError(f"{run_dir} holds another run (its settings differ in {diff}); pick another --runs-dir")
    with atomic_path(run_dir / SETTINGS_FILE) as tmp:
        tmp.write_text(json.dumps(settings.to_dict(), indent=1))


def run_study(base: Settings, seeds: list[int], runs_dir: str | os.PathLike, per_label: int = 1000,
              parzen: bool = False, jobs: int | None = None, threads: int | None = None,
              progress: bool = True, restarts: int = 0, judge: bool = True, engine: str = "local",
              address: str | None = None) -> list[int]:
    """Train and judge each seed of ``seeds`` at ``base``'s settings that has no judgement yet
    (:func:`read_evaluation`), in ``runs_dir/<kind>-seed-<seed>`` (:func:`run_seeds`).
    Returns the seeds that failed."""
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"--seeds must be distinct, got {seeds}")
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
    jobs, planned = plan(max(len(pending), 1), jobs)
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
        codes = engines.run_dask([(seed_args(f, per_label, parzen, s.seed, restarts, judge), f,
                                   json.dumps(start.to_dict(), indent=1))
                                  for (s, f), start in zip(pending, starts)], threads, address, jobs)
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


def study_one(settings: Settings, run_dir: Path, per_label: int, parzen: bool, progress: bool = True,
              restarts: int = 0, judge: bool = True) -> dict:
    """:func:`study_seed`, saying what became of the seed."""
    start = time.perf_counter()
    evaluation = study_seed(settings, run_dir, per_label, parzen, progress=progress, restarts=restarts, judge=judge)
    done = (f"diverged ({evaluation['diverged']})" if evaluation.get("diverged")
            else "trained (not judged)" if evaluation.get(UNJUDGED) else "trained and judged")
    if evaluation.get("restarts"):
        done += (f" (restarted {evaluation['restarts']} time(s) after it diverged; last as seed "
                 f"{evaluation['trained_seed']})")
    print(f"study: {settings.kind} seed {settings.seed} {done} in {run_dir} "
          f"({time.perf_counter() - start:.0f} s in this process)")
    return evaluation
