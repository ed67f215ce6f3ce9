"""One seed of the seed study (:mod:`cgan.study`), in whichever process trains it: train
(or resume) its run folder, restarting a diverged run with a new seed if asked, then judge its
final generator and each average (:func:`judge_seed`), or with ``--no-judge`` only record that
it trained (:func:`record_unjudged`); a run that diverges is recorded as such. The record is the
folder's ``evaluation.json``, read back by :func:`read_evaluation` so that a seed already done is
not done again."""
from __future__ import annotations

import json
import math
import os
import platform
import time
from pathlib import Path

import numpy as np

from .files import atomic_path
from .readback import manifold_fd, seed_picture
from .settings import Settings, settings_differ

FINAL = "final G"              # the variant of a seed's trained generator, its final weights
# Variant names that older code recorded (committed study.json files keep them): old -> today's.
FORMER_VARIANTS = {"article (faithful)": FINAL}
UNJUDGED = "not_judged"        # an evaluation.json key: the run trained to the end, judged by nothing (--no-judge)


def variant_name(decay: float | None) -> str:
    """The name of a study row's variant: the trained weights or an averaged generator."""
    return FINAL if decay is None else f"averaged G, decay {decay:g} (beyond the article)"


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
                           "cgan.study_seed.restart_seeds no longer follows cgan.training.train")
    return trained, seeds.index(trained)


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
