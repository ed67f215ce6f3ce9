"""A training run's folder and what the loop keeps besides the graph (:class:`Run`):
random streams, history, snapshots, checkpoints, figures, the averaged generator, the
folder's lock and TensorBoard log. The loop itself is :mod:`cgan.training` (or the
notebook's cells).

A run lives in a folder::

    run_dir/settings.json               the settings it was started with
    run_dir/checkpoints/ckpt-NNNNNNNN/  the newest few checkpoints (TF variables with the
                                        optimizers' slots, plus loop, iterator and RNG state)
    run_dir/snapshots/period-NNNNN.npz  one manifold snapshot per saved period (uint8)
    run_dir/generator.npz               the trained generator (see GANGraph.from_generator_file),
                                        and its moving averages if settings.ema_decay
    run_dir/evaluation.json, *.png      a seed study's judgement of it and its pictures (cgan.study)

Every file is written to a temporary name and renamed, so a run that is
interrupted loses at most the iterations since its last checkpoint, and
``train`` on the same folder resumes from there.
"""
from __future__ import annotations

import contextlib
import errno
import json
import os
import pickle
import shutil
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from . import checks
from .averaging import WeightAverage
from .data import MNIST, BatchIterator, load_data
from .files import atomic_path
from .graph import hold_op_determinism, save_generator
from .manifold import batch_titles, draw_manifolds, plot_manifold, to_uint8, write_gif
from .networks import draw_dropout_seed
from .runlock import RunLock
from .settings import FREE_SETTINGS, Settings, settings_differ  # noqa: F401 (FREE_SETTINGS: runfolder's name)
from .tensorboard_log import TensorBoardLog

# The run folder's files: its settings, the trained generator (Run.finish), a study's judgement
# of it (cgan.study), and in each checkpoint the loop's state beside TensorFlow's files.
SETTINGS_FILE = "settings.json"
GENERATOR_FILE = "generator.npz"
EVALUATION_FILE = "evaluation.json"
STATE_FILE = "state.pkl"
TRAINING_WORK = ("steps", "snapshots", "checkpoints")  # the kinds of work Run.elapsed counts
TF_PREFIX = "model"
ADVICE = ("As the article advises: slow the discriminator down (a smaller lr_dis, e.g. --set lr_dis=5e-5) "
          "or start again (another seed, or restarts=1 to do so automatically).")


class RunFolderFull(OSError):
    """The run folder's disk filled up while the run wrote into it. What was written before
    (the last complete checkpoint) is intact: free space, and the same call resumes."""


_FULL = ("No space left on device", "Disk quota exceeded")


def short_error(exc: BaseException) -> str:
    """An error in one line: TensorFlow's own message without the graph's stack traces that
    its errors carry (for anything else, ``str(exc)``'s first line)."""
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


@contextlib.contextmanager
def _disk_full_says_so(run_dir: Path, what: str):
    """Turn a full disk while writing ``what`` into one :class:`RunFolderFull` line naming
    the folder and what to do."""
    try:
        yield
    except Exception as exc:
        full = (isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)) or any(
            marker in str(exc) for marker in _FULL)
        if not full:
            raise
        newest = checkpoint_dirs(run_dir)
        where = f"from {newest[-1].name}" if newest else "from the start"
        raise RunFolderFull(errno.ENOSPC, f"{run_dir}: the disk is full (no space left while writing {what}); "
                                          f"free space, then the same command resumes {where}") from None


class TrainingDiverged(RuntimeError):
    """The run stopped moving: a loss became NaN or infinite, or the discriminator
    won from the start. The run folder keeps the last good checkpoint."""


@dataclass
class History:
    """Per-iteration record of the loop: last L_dis, and D and G steps taken."""

    l_dis: list = field(default_factory=list)
    d_steps: list = field(default_factory=list)
    g_steps: list = field(default_factory=list)


class Run:
    """A run folder and everything a training loop keeps besides the graph: the random
    streams (z, batch order, dropout seeds), the batch iterator, the counters and history,
    snapshots, checkpoints, the figures, the folder's lock and the optional TensorBoard log.

    :class:`cgan.Trainer` is a ``Run`` with the package's graph (:class:`cgan.GANGraph`) and
    loop. The notebook builds the article's graph in its own cells, then hands its session,
    saver, drawing function and generator weights to :meth:`attach` and runs the article's
    loop itself, calling
    :meth:`next_batch`, :meth:`next_dropout_seed`, :meth:`record`, :meth:`check_stall`,
    :meth:`snapshot` and :meth:`save_checkpoint`, in the order :meth:`Trainer.run_iteration`
    calls them, so both give the same bits (tests/test_notebook.py checks it).
    Open one with :func:`open_run` (checks the folder, locks it, resumes).

    With ``settings.ema_decay`` the run also keeps moving averages of the generator's
    weights (:mod:`cgan.averaging`), updated in :meth:`record`; they change nothing in
    training. With a seed, a ``Trainer`` switches TensorFlow's op determinism on
    (process-wide) while it is open; :meth:`close` puts it back as it was.
    """

    def __init__(self, settings: Settings, run_dir: str | os.PathLike, data=None):
        self.settings = settings
        self.run_dir = Path(run_dir)
        self.data = check_data(data, settings) if data is not None else load_data(num_classes=settings.num_classes)
        z_seed, batch_seed, dropout_seed = np.random.SeedSequence(settings.seed).spawn(3)
        self.rng = np.random.default_rng(z_seed)  # z samples
        self.batches = BatchIterator(self.data.x_train, self.data.y_train_cat, settings.batch_size,
                                     np.random.default_rng(batch_seed))
        self.dropout_rng = np.random.default_rng(dropout_seed)  # the dropout seed fed at every step
        self.iteration = 0  # the next iteration to run
        self.history = History()
        self.periods: list[int] = []  # periods whose snapshots are on disk
        # seconds spent in this process, by kind of work (not saved in checkpoints)
        self.timing = {"steps": 0.0, "snapshots": 0.0, "checkpoints": 0.0, "figures": 0.0}
        self.elapsed_before = 0.0  # training seconds (steps, snapshots, checkpoints) of earlier processes
        self.sess = self.saver = self._generate = None
        self.generator_weights: list = []
        self.average: WeightAverage | None = None  # the averaged generator (settings.ema_decay), from resume()
        self._holds_determinism = False  # a hold on op determinism, given back on close()
        self.lock: RunLock | None = None
        self.log: TensorBoardLog | None = None
        self.resuming = True  # resume() continues from a checkpoint (open_run(resume=False): starts afresh)

    def attach(self, sess, saver, generate: Callable, generator_weights: list) -> None:
        """The graph this run trains: its session, a ``tf.compat.v1.train.Saver`` over all
        its variables, the function that draws digits, ``generate(z, labels)`` (z float32
        (N, latent_dim), labels N integers or None for the plain GAN; returns (N, 28, 28, 1)
        in [0, 1]), and the generator's weights (its variables)."""
        self.sess, self.saver, self._generate = sess, saver, generate
        self.generator_weights = list(generator_weights)

    def generate(self, z, labels=None):
        """Digits from the attached generator (dropout off), so a ``Run`` draws its own
        manifolds: ``cgan.draw_manifolds(run)``."""
        return self._generate(z, labels)

    def hold_op_determinism(self) -> None:
        """Switch TensorFlow's op determinism on for a seeded run, remembering how it was, so
        :meth:`close` can put it back. (Process-wide: TensorFlow has no narrower switch.)"""
        if self.settings.seed is not None and not self._holds_determinism:
            hold_op_determinism(True)
            self._holds_determinism = True

    @contextlib.contextmanager
    def _timed(self, kind: str):
        """Add the block's wall time to ``self.timing[kind]``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.timing[kind] += time.perf_counter() - start

    @property
    def elapsed(self) -> float:
        """Seconds this run has spent training up to now (steps, snapshots and checkpoints),
        over every process that trained it up to its newest checkpoint."""
        return self.elapsed_before + sum(self.timing[k] for k in TRAINING_WORK)

    # -- what the loop draws ---------------------------------------------------------
    def next_batch(self):
        """The next batch of images and one-hot labels, and a batch of z ~ N(0, I)."""
        b0, b1 = next(self.batches)
        zp = self.rng.standard_normal((self.settings.batch_size, self.settings.latent_dim)).astype("float32")
        return b0, b1, zp

    def next_dropout_seed(self) -> np.ndarray:
        """The value to feed to :func:`cgan.networks.dropout_seed` for the next step."""
        return draw_dropout_seed(self.dropout_rng)

    def record(self, l_d: float, d_steps: int, g_steps: int, terms: dict[str, float] | None = None) -> None:
        """Book one iteration of the loop: its last L_dis and its D and G step counts (and,
        for the TensorBoard log, ``terms``: more losses of its last step). A NaN or infinite
        L_dis raises :class:`TrainingDiverged`."""
        l_d = float(l_d)
        if not np.isfinite(l_d):
            raise TrainingDiverged(f"L_dis became {l_d} at iteration {self.iteration}: the run diverged. {ADVICE}")
        self.history.l_dis.append(l_d)
        self.history.d_steps.append(d_steps)
        self.history.g_steps.append(g_steps)
        if self.average is not None:
            self.average.update(self.sess.run(self.generator_weights))
        if self.log is not None:
            self.log.iteration(self.iteration, l_d, d_steps, g_steps, terms)
        self.iteration += 1

    def check_stall(self) -> None:
        """Raise :class:`TrainingDiverged` if, for the last ``stall_periods`` periods,
        every iteration spent all ``k_step`` generator steps and still ended with
        ``L_dis < stall_loss``: the discriminator wins and training has stopped moving."""
        s, h = self.settings, self.history
        n = s.stall_periods * s.batches_per_period
        if not n or len(h.l_dis) < n:
            return
        if all(g == s.k_step for g in h.g_steps[-n:]) and max(h.l_dis[-n:]) < s.stall_loss:
            raise TrainingDiverged(
                f"the discriminator has won for {s.stall_periods} periods (iterations {len(h.l_dis) - n}-"
                f"{len(h.l_dis) - 1}: L_dis < {s.stall_loss} after {s.k_step} generator steps each), so "
                f"training has stopped moving. {ADVICE}")

    # -- snapshots -------------------------------------------------------------------
    @property
    def snapshot_dir(self) -> Path:
        return self.run_dir / "snapshots"

    def snapshot(self, period: int) -> np.ndarray:
        """Draw every label's manifold and store it as ``snapshots/period-NNNNN.npz``;
        returns the pictures, uint8 (n_labels, H, W)."""
        with self._timed("snapshots"):
            figures = to_uint8(draw_manifolds(self))
            if self.log is not None:
                self.log.snapshot(period * self.settings.batches_per_period, figures)
            self.snapshot_dir.mkdir(parents=True, exist_ok=True)
            path = self.snapshot_dir / f"period-{period:05d}.npz"
            with _disk_full_says_so(self.run_dir, f"snapshot {path.name}"), atomic_path(path) as tmp, \
                    open(tmp, "wb") as fh:
                np.savez_compressed(fh, figures=figures, period=period)
            self.periods.append(period)
        return figures

    def load_snapshots(self) -> tuple[list[int], np.ndarray]:
        """The snapshots this run has drawn: periods and uint8 pictures (n_snapshots, n_labels, H, W)."""
        return read_snapshots(self.run_dir, self.periods)

    # -- checkpoints -----------------------------------------------------------------
    @property
    def checkpoint_dir(self) -> Path:
        return self.run_dir / "checkpoints"

    def checkpoints(self) -> list[Path]:
        """Complete checkpoints, oldest first."""
        return checkpoint_dirs(self.run_dir)

    def save_checkpoint(self) -> Path:
        """Write a checkpoint of the variables (with the optimizers' slots) and of the loop's
        state; keep the newest ``checkpoints_kept``."""
        with self._timed("checkpoints"):
            final = self.checkpoint_dir / f"ckpt-{self.iteration:08d}"
            state = {"iteration": self.iteration, "batches": self.batches.state_dict(),
                     "rng": self.rng.bit_generator.state,
                     "dropout_rng": self.dropout_rng.bit_generator.state, "history": self.history.__dict__,
                     "periods": self.periods,
                     "average": None if self.average is None else self.average.state_dict(),
                     "elapsed": self.elapsed}
            with _disk_full_says_so(self.run_dir, f"checkpoint {final.name}"), atomic_path(final) as tmp:
                tmp.mkdir(parents=True)
                with self.sess.graph.as_default():  # the TF1 saver works on its graph, in any process mode
                    self.saver.save(self.sess, str(tmp / TF_PREFIX), write_meta_graph=False, write_state=False)
                with open(tmp / STATE_FILE, "wb") as fh:
                    pickle.dump(state, fh)
            for old in self.checkpoints()[:-self.settings.checkpoints_kept]:
                shutil.rmtree(old, ignore_errors=True)
            if self.log is not None:
                self.log.flush()  # the log holds what the checkpoint holds, so a resumed run repeats no step
        return final

    def restore_latest(self) -> bool:
        """Restore the newest readable checkpoint (falling back to older ones with a
        warning); returns False if there is none."""
        for ckpt in reversed(self.checkpoints()):
            try:
                with open(ckpt / STATE_FILE, "rb") as fh:
                    state = pickle.load(fh)
                with self.sess.graph.as_default():
                    self.saver.restore(self.sess, str(ckpt / TF_PREFIX))
                self.batches.load_state_dict(state["batches"])
            except Exception as exc:  # a torn or corrupt checkpoint: try the one before
                warnings.warn(f"checkpoint {ckpt} is unreadable ({type(exc).__name__}: {short_error(exc)}); "
                              "falling back to an older one")
                continue
            self.rng.bit_generator.state = state["rng"]
            if "dropout_rng" in state:  # absent from checkpoints of cgan before seeded dropout
                self.dropout_rng.bit_generator.state = state["dropout_rng"]
            self.iteration = state["iteration"]
            self.history = History(**state["history"])
            self.periods = list(state["periods"])
            self.elapsed_before = state.get("elapsed", 0.0) - sum(self.timing[k] for k in TRAINING_WORK)
            if self.settings.ema_decay:
                if state.get("average") is None:
                    raise ValueError(f"{ckpt} holds no averaged generator, but ema_decay={self.settings.ema_decay}")
                self.average = WeightAverage.from_state(state["average"])
            return True
        return False

    def resume(self) -> bool:
        """Continue from the newest readable checkpoint, if the run was opened to resume and
        has one (snapshots drawn after it are deleted: the resumed run draws them again), and
        open the TensorBoard log if ``settings.tensorboard`` names a folder. Returns whether
        a checkpoint was restored."""
        restored = self.resuming and self.restore_latest()
        if not restored and self.settings.ema_decay:  # the averages start from G's initial weights
            self.average = WeightAverage(self.settings.ema_decay, self.sess.run(self.generator_weights))
        if restored:
            for path in self.snapshot_dir.glob("period-*.npz"):
                if _snapshot_period(path) not in self.periods:
                    path.unlink()
        if self.settings.tensorboard and self.log is None:
            self.log = TensorBoardLog(self.settings.tensorboard, self.iteration)
        return restored

    def finish(self, figs_dir: str | os.PathLike | None = None) -> None:
        """Checkpoint the final state, save the generator to ``run_dir/generator.npz``
        (:func:`cgan.graph.save_generator`), write the figures to ``figs_dir`` if given,
        and :meth:`close` the run."""
        checkpoints = self.checkpoints()
        if not checkpoints or checkpoints[-1].name != f"ckpt-{self.iteration:08d}":
            self.save_checkpoint()
        with _disk_full_says_so(self.run_dir, GENERATOR_FILE):
            save_generator(self.run_dir / GENERATOR_FILE, self.sess, self.generator_weights, self.settings,
                           None if self.average is None else self.average.averages)
        if figs_dir is not None:
            with self._timed("figures"), _disk_full_says_so(Path(figs_dir), "the figures"):
                self.write_figures(figs_dir)
        self.close()

    def close(self) -> None:
        """Close the TensorBoard log, unlock the folder and put TensorFlow's op determinism
        back as it was (the session stays open)."""
        if self._holds_determinism:
            hold_op_determinism(False)
            self._holds_determinism = False
        if self.log is not None:
            self.log.close()
            self.log = None
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    # -- figures -----------------------------------------------------------------------
    def write_figures(self, figs_dir: str | os.PathLike) -> list[Path]:
        """The article's figures from the stored snapshots: per label a manifold PNG
        (the last snapshot) and a training GIF; for the plain GAN, GAN_manifold.*."""
        figs_dir = Path(figs_dir)
        figs_dir.mkdir(parents=True, exist_ok=True)
        periods, figures = self.load_snapshots()
        if not periods:
            raise ValueError(f"no snapshots in {self.snapshot_dir}: the run saved none "
                             f"(save_periods={self.settings.save_periods[:5]}...)")
        s = self.settings
        labels = list(range(s.num_classes)) if s.conditional else [None]
        frames = sorted(set(range(0, len(periods), s.gif_every)) | {len(periods) - 1})  # always the last
        gif_periods = [periods[i] for i in frames]
        written = []
        for k, label in enumerate(labels):
            stem = "GAN_manifold" if label is None else f"manifold_{label}"
            title = "GAN" if label is None else f"Label: {label}"
            plot_manifold(figures[-1, k], figs_dir / f"{stem}.png", title=title)
            written.append(figs_dir / f"{stem}.png")
            written.append(write_gif(figures[frames, k], batch_titles(label, gif_periods, s.batches_per_period),
                                     figs_dir / f"{stem}.gif", s.gif_frame_ms, s.gif_grey_levels))
        return written


def read_snapshots(run_dir: str | os.PathLike, periods: list[int] | None = None) -> tuple[list[int], np.ndarray]:
    """Snapshots stored in ``run_dir`` (those of ``periods``, default all), read-only:
    periods and uint8 pictures (n_snapshots, n_labels, H, W)."""
    folder = checks.path("run_dir", run_dir) / "snapshots"
    if periods is None:
        periods = sorted(_snapshot_period(p) for p in folder.glob("period-*.npz"))
    figures = []
    for period in periods:
        with np.load(folder / f"period-{period:05d}.npz") as npz:
            figures.append(npz["figures"])
    return list(periods), np.stack(figures) if figures else np.zeros((0, 0, 0, 0), "uint8")


def checkpoint_dirs(run_dir: str | os.PathLike) -> list[Path]:
    """A run folder's complete checkpoints (folders not left half-written), oldest first."""
    folder = Path(run_dir) / "checkpoints"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("ckpt-*") if p.is_dir() and not p.name.endswith(".tmp"))


def latest_state(run_dir: str | os.PathLike) -> dict:
    """The loop state (iteration, history, elapsed seconds, ...) of a run folder's newest
    readable checkpoint, read-only."""
    folder = checks.path("run_dir", run_dir) / "checkpoints"
    for ckpt in reversed(checkpoint_dirs(run_dir)):
        try:
            with open(ckpt / STATE_FILE, "rb") as fh:
                return pickle.load(fh)
        except Exception:  # a torn checkpoint: the one before
            continue
    raise FileNotFoundError(f"no readable checkpoint in {folder}")


def _snapshot_period(path: Path) -> int:
    return int(path.stem.split("-")[1])  # period-NNNNN.npz


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


def check_data(data, settings: Settings) -> MNIST:
    """Training data as :func:`cgan.load_data` returns it, checked."""
    if not isinstance(data, MNIST):
        raise ValueError(f"data must be a cgan.data.MNIST (as cgan.load_data() returns), got {checks.describe(data)}")
    x = checks.array("data.x_train", data.x_train, ndim=4, kinds="f")
    y = checks.array("data.y_train_cat", data.y_train_cat, ndim=2, kinds="f")
    if x.shape[1:] != (28, 28, 1) or y.shape != (len(x), settings.num_classes):
        raise ValueError(f"data.x_train must be (N, 28, 28, 1) and data.y_train_cat (N, {settings.num_classes}), "
                         f"got {x.shape} and {y.shape}")
    if x.size and (x.min() < 0 or x.max() > 1):
        raise ValueError(f"data.x_train must lie in [0, 1], got values in {x.min()}..{x.max()}")
    if len(x) < settings.batch_size:
        raise ValueError(f"data has {len(x)} training images, fewer than batch_size={settings.batch_size}")
    return data


def _check_run_dir(run_dir: Path, settings: Settings, resume: bool, overwrite: bool) -> None:
    settings_file = run_dir / SETTINGS_FILE
    has_run = settings_file.exists() or (run_dir / "checkpoints").exists()
    if has_run and overwrite:
        for sub in ("checkpoints", "snapshots"):
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
             overwrite: bool = False, data=None, run_class: type = Run) -> Run:
    """Open ``run_dir`` for training: lock it (:class:`RunLock`), check it, write its
    ``settings.json`` and return a :class:`Run` (or ``run_class``) on it. Attach a graph,
    then call :meth:`Run.resume` to continue from its newest checkpoint.

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
    run_dir.mkdir(parents=True, exist_ok=True)
    lock = RunLock(run_dir)
    try:
        _check_run_dir(run_dir, settings, resume, overwrite)
        with atomic_path(run_dir / SETTINGS_FILE) as tmp:
            tmp.write_text(json.dumps(settings.to_dict(), indent=1))
        run = run_class(settings, run_dir, data)
    except BaseException:
        lock.release()
        raise
    run.lock = lock
    run.resuming = resume
    return run


