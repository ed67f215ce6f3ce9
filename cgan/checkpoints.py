"""A run's checkpoints: ``run_dir/checkpoints/ckpt-NNNNNNNN/``, each TensorFlow's variables (the
networks with the optimizers' slots) beside the loop's state (``state.json`` and ``state.npz``,
:mod:`cgan.statefile`: iteration, random streams, history, snapshots drawn, averages, training
seconds; data only, so reading it runs no code). Written whole or not at all;
the newest few kept; read back newest first, past any that is unreadable."""
from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path
from typing import Any, Callable

from . import checks, statefile
from .files import atomic_path, disk_full_says_so

CHECKPOINTS = "checkpoints"  # the folder of a run's checkpoints
STATE_FILE = statefile.JSON_FILE  # the loop's state in a checkpoint (its arrays: statefile.ARRAYS_FILE)
TF_PREFIX = "model"          # TensorFlow's files in a checkpoint: model.index, model.data-*


class SessionVariables:
    """A TF1 graph's variables as a run checkpoints them: all of them through ``saver`` (a
    ``tf.compat.v1.train.Saver``) in ``sess``, and the generator's ``weights`` read as arrays.
    (:class:`cgan.keras3.KerasGAN` has the same three methods for its Keras 3 variables.)"""

    def __init__(self, sess, saver, weights: list):
        self.sess, self.saver, self.weights = sess, saver, list(weights)

    def save(self, folder: Path) -> None:
        with self.sess.graph.as_default():  # the TF1 saver works on its graph, in any process mode
            self.saver.save(self.sess, str(folder / TF_PREFIX), write_meta_graph=False, write_state=False)

    def restore(self, folder: Path) -> None:
        with self.sess.graph.as_default():
            self.saver.restore(self.sess, str(folder / TF_PREFIX))

    def generator_values(self) -> list:
        return self.sess.run(self.weights)


def checkpoint_dirs(run_dir: str | os.PathLike) -> list[Path]:
    """A run folder's complete checkpoints (folders not left half-written), oldest first."""
    folder = Path(run_dir) / CHECKPOINTS
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("ckpt-*") if p.is_dir() and not p.name.endswith(".tmp"))


def resume_hint(run_dir: str | os.PathLike) -> str:
    """Where the same command goes on from: 'the same command resumes from ckpt-N'."""
    newest = checkpoint_dirs(run_dir)
    return f"the same command resumes from {newest[-1].name}" if newest else "the same command starts the run again"


def save_checkpoint(run_dir: str | os.PathLike, iteration: int, networks, state: dict[str, Any],
                    kept: int) -> Path:
    """Write checkpoint ``ckpt-<iteration>``: the networks' variables (``networks.save(folder)``:
    a :class:`SessionVariables` or a :class:`cgan.keras3.KerasGAN`) and
    ``state`` (:func:`cgan.statefile.write`); then keep only the newest ``kept``. A full disk is one
    :class:`cgan.files.RunFolderFull` line, and leaves the older checkpoints as they were."""
    final = Path(run_dir) / CHECKPOINTS / f"ckpt-{iteration:08d}"
    with disk_full_says_so(run_dir, f"checkpoint {final.name}", lambda: resume_hint(run_dir)), \
            atomic_path(final) as tmp:
        tmp.mkdir(parents=True)
        networks.save(tmp)
        statefile.write(tmp, state)
    for old in checkpoint_dirs(run_dir)[:-kept]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def short_error(exc: BaseException) -> str:
    """An error in one line: TensorFlow's own message without the graph's stack traces that
    its errors carry."""
    lines = []
    for line in str(exc).splitlines():
        text = line.strip()
        if text.startswith("Original stack trace"):
            break
        if (not text or text.startswith(("File ", "Detected at node", "Graph execution error", "Node:", "[[{{"))
                or line.startswith((" ", "\t"))):
            continue
        lines.append(text)
    return "; ".join(lines) or type(exc).__name__


def newest_readable(run_dir: str | os.PathLike, restore: Callable[[Path, dict], None] | None = None,
                    warn: bool = True) -> tuple[Path, dict[str, Any]] | None:
    """The newest checkpoint that reads whole, and its loop state; ``restore(checkpoint,
    state)`` (if given) loads it into a run, and its failing counts as unreadable too. Older
    ones are tried in turn, each failure a one-line warning (``warn``). None if none reads."""
    for ckpt in reversed(checkpoint_dirs(run_dir)):
        try:
            state = statefile.read(ckpt)
            if restore is not None:
                restore(ckpt, state)
        except Exception as exc:  # a torn or corrupt checkpoint: try the one before
            if warn:
                warnings.warn(f"checkpoint {ckpt} is unreadable ({type(exc).__name__}: {short_error(exc)}); "
                              "falling back to an older one")
            continue
        return ckpt, state
    return None


def restore_newest(run_dir: str | os.PathLike, networks,
                   load_state: Callable[[dict], None]) -> tuple[Path, dict[str, Any]] | None:
    """Restore a run from the newest readable checkpoint: ``load_state(state)`` first, then the
    networks' variables (``networks.restore(folder)``) (a checkpoint whose state fails to load leaves them untouched). Returns the
    checkpoint and its state; None if the folder has none. A folder whose checkpoints all fail
    is a ``ValueError``: a fresh start over variables a failed restore may have touched would
    pass for a new run."""
    def restore(ckpt: Path, state: dict) -> None:
        load_state(state)
        networks.restore(ckpt)

    found = newest_readable(run_dir, restore)
    if found is None:
        kept = checkpoint_dirs(run_dir)
        if kept:
            raise ValueError(f"{run_dir}: none of its checkpoints could be read ({', '.join(p.name for p in kept)}; "
                             "see the warnings); move them away, or pass overwrite=True to start over")
    return found


def latest_state(run_dir: str | os.PathLike) -> dict[str, Any]:
    """The loop state (iteration, history, elapsed seconds, ...) of a run folder's newest
    readable checkpoint, read-only."""
    found = newest_readable(checks.path("run_dir", run_dir), warn=False)
    if found is None:
        raise FileNotFoundError(f"no readable checkpoint in {Path(run_dir) / CHECKPOINTS}")
    return found[1]
