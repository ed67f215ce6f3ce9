"""A training run's folder: its files' names, the checks before a run opens in it, and
:func:`open_run`. What a run keeps while it trains is :class:`cgan.run.Run`; the loop itself
is :mod:`cgan.training` (or the notebook's cells).

A run lives in a folder::

    run_dir/settings.json               the settings it was started with (SETTINGS_FILE)
    run_dir/checkpoints/ckpt-NNNNNNNN/  the newest few checkpoints (TF variables with the
                                        optimizers' slots, plus loop, iterator and RNG state;
                                        CHECKPOINTS, STATE_FILE: cgan.checkpoints)
    run_dir/snapshots/period-NNNNN.npz  one manifold snapshot per saved period, uint8
                                        (SNAPSHOTS: cgan.snapshots)
    run_dir/generator.npz               the trained generator (see GANGraph.from_generator_file),
                                        and its moving averages if settings.ema_decay (GENERATOR_FILE)
    run_dir/evaluation.json, *.png      a seed study's judgement of it and its pictures
                                        (EVALUATION_FILE: cgan.study_seed)
    run_dir/.lock                       held while a process trains in it (cgan.runlock)

Every file is written to a temporary name and renamed, so a run that is interrupted loses
at most the iterations since its last checkpoint, and ``train`` on the same folder resumes
from there.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from . import checks
from .checkpoints import CHECKPOINTS, STATE_FILE  # noqa: F401 (STATE_FILE: one of the folder's names)
from .data import load_data
from .files import atomic_path
from .run import GENERATOR_FILE, Run
from .runlock import RunLock
from .settings import Settings, settings_differ
from .snapshots import SNAPSHOTS

SETTINGS_FILE = "settings.json"
EVALUATION_FILE = "evaluation.json"


def saved_settings(run_dir: str | os.PathLike) -> Settings:
    """The settings a run folder was started with; settings added to cgan since
    then take their defaults."""
    file = checks.path("run_dir", run_dir) / SETTINGS_FILE
    if not file.is_file():
        raise FileNotFoundError(f"{file} not found: {run_dir} holds no run")
    try:
        return Settings.from_dict(json.loads(file.read_text()))
    except ValueError as exc:
        raise ValueError(f"{file} is unreadable ({exc}); pick another folder or pass overwrite=True "
                         "to start over there") from None


def _check_run_dir(run_dir: Path, settings: Settings, resume: bool, overwrite: bool) -> None:
    settings_file = run_dir / SETTINGS_FILE
    has_run = settings_file.exists() or (run_dir / CHECKPOINTS).exists()
    if has_run and overwrite:
        for sub in (CHECKPOINTS, SNAPSHOTS):
            shutil.rmtree(run_dir / sub, ignore_errors=True)
        # nothing of the old run may pass for the new one's: its generator (Run.finish), a study's judgement of it
        for name in (SETTINGS_FILE, GENERATOR_FILE, EVALUATION_FILE):
            (run_dir / name).unlink(missing_ok=True)
        return
    if has_run and not resume:
        raise ValueError(f"{run_dir} already holds a run's checkpoints; resume it (resume=True), pick another "
                         "folder, or pass overwrite=True to delete them and start over")
    if settings_file.exists():
        diff = settings_differ(saved_settings(run_dir), settings)
        if diff:
            raise ValueError(f"{run_dir} holds another run (its settings differ in {diff}); pick another folder "
                             "or pass overwrite=True to start over there")


def open_run(settings: Settings = Settings(), run_dir: str | os.PathLike = "runs/cgan", resume: bool = True,
             overwrite: bool = False, data=None) -> Run:
    """Open ``run_dir`` for training: lock it (:class:`RunLock`), check it, write its
    ``settings.json`` and return a :class:`cgan.run.Run` on it. Attach a graph, then call
    :meth:`Run.resume` to continue from its newest checkpoint.

    A folder holding another run (other settings) is a ``ValueError``, as is one
    holding checkpoints when ``resume=False``, unless ``overwrite=True`` deletes them;
    a folder another process is training in is a :class:`RunFolderInUse` error.
    """
    if not isinstance(settings, Settings):
        raise ValueError(f"settings must be a cgan.Settings, got {checks.describe(settings)}")
    where = checks.path("run_dir", run_dir).resolve()
    if where in (Path("/"), Path.home().resolve()):
        raise ValueError(f"run_dir={str(run_dir)!r} is {'the root folder' if where == Path('/') else 'your home folder'}: "
                         "a run writes settings.json, checkpoints/ and snapshots/ into its folder; "
                         "accepted: a folder of its own, such as runs/cgan")
    run_dir = checks.output_dir("run_dir", run_dir)
    # the Run checks its data and touches no file: bad data is refused before the folder is
    run = Run(settings, run_dir, data if data is not None else load_data(num_classes=settings.num_classes))
    run_dir.mkdir(parents=True, exist_ok=True)
    lock = RunLock(run_dir)
    try:
        _check_run_dir(run_dir, settings, resume, overwrite)
        with atomic_path(run_dir / SETTINGS_FILE) as tmp:
            tmp.write_text(json.dumps(settings.to_dict(), indent=1))
    except BaseException:
        lock.release()
        raise
    run.lock = lock
    run.resuming = resume
    return run
