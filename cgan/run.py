"""What a training loop keeps besides the graph (:class:`Run`): the random streams, the
history, snapshots and checkpoints, the averaged generator, the folder's lock and TensorBoard
log. Each lives in a module of its own (:mod:`cgan.streams`, :mod:`cgan.checkpoints`,
:mod:`cgan.snapshots`, :mod:`cgan.averaging`, :mod:`cgan.runlock`, :mod:`cgan.tensorboard_log`);
a ``Run`` holds them together for one run folder (:func:`cgan.runfolder.open_run` opens one).
The loop itself is :mod:`cgan.training` (or the notebook's cells)."""
from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from . import checkpoints, snapshots
from .averaging import WeightAverage
from .data import MNIST, check_data
from .files import disk_full_says_so
from .graph import save_generator
from .manifold import draw_manifolds, to_uint8
from .runlock import RunLock
from .settings import Settings
from .streams import RandomStreams
from .tensorboard_log import TensorBoardLog

GENERATOR_FILE = "generator.npz"  # the trained generator and its averages (Run.finish)
TRAINING_WORK = ("steps", "snapshots", "checkpoints")  # the kinds of work Run.elapsed counts
ADVICE = ("As the article advises: slow the discriminator down (a smaller lr_dis, e.g. --set lr_dis=5e-5) "
          "or start again (another seed, or restarts=1 to do so automatically).")


class TrainingDiverged(RuntimeError):
    """The run stopped moving: a loss became NaN or infinite, or the discriminator
    won from the start. The run folder keeps the last good checkpoint."""


@dataclass
class History:
    """Per-iteration record of the loop: last L_dis, and D and G steps taken."""

    l_dis: list = field(default_factory=list)
    d_steps: list = field(default_factory=list)
    g_steps: list = field(default_factory=list)

    def add(self, iteration: int, l_d: float, d_steps: int, g_steps: int) -> None:
        """Book one iteration; a NaN or infinite L_dis raises :class:`TrainingDiverged`."""
        if not np.isfinite(l_d):
            raise TrainingDiverged(f"L_dis became {l_d} at iteration {iteration}: the run diverged. {ADVICE}")
        self.l_dis.append(l_d)
        self.d_steps.append(d_steps)
        self.g_steps.append(g_steps)

    def check_stall(self, s: Settings) -> None:
        """Raise :class:`TrainingDiverged` if, for the last ``stall_periods`` periods, every
        iteration spent all ``k_step`` generator steps and still ended with ``L_dis <
        stall_loss``: the discriminator wins and training has stopped moving."""
        n = s.stall_periods * s.batches_per_period
        if not n or len(self.l_dis) < n:
            return
        if all(g == s.k_step for g in self.g_steps[-n:]) and max(self.l_dis[-n:]) < s.stall_loss:
            raise TrainingDiverged(
                f"the discriminator has won for {s.stall_periods} periods (iterations {len(self.l_dis) - n}-"
                f"{len(self.l_dis) - 1}: L_dis < {s.stall_loss} after {s.k_step} generator steps each), so "
                f"training has stopped moving. {ADVICE}")


class Stopwatch:
    """Seconds a run spends, by kind of work: ``seconds`` in this process; :attr:`elapsed`
    the training work (steps, snapshots, checkpoints) over every process that trained it."""

    def __init__(self):
        self.seconds = {"steps": 0.0, "snapshots": 0.0, "checkpoints": 0.0, "figures": 0.0}
        self.before = 0.0  # training seconds of earlier processes

    @contextlib.contextmanager
    def timed(self, kind: str):
        """Add the block's wall time to ``seconds[kind]``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[kind] += time.perf_counter() - start

    @property
    def elapsed(self) -> float:
        return self.before + sum(self.seconds[k] for k in TRAINING_WORK)

    def resume_at(self, elapsed: float) -> None:
        """Count on from a checkpoint that had trained ``elapsed`` seconds."""
        self.before = elapsed - sum(self.seconds[k] for k in TRAINING_WORK)


class Run:
    """A run folder and what a training loop keeps besides the graph.

    The package's loop (:class:`cgan.Trainer`) and the notebook's cells call, in the same
    order, :meth:`next_batch`, :meth:`next_dropout_seed`, :meth:`record`,
    :meth:`check_stall`, :meth:`snapshot` and :meth:`save_checkpoint`, so both give the same
    bits (tests/test_notebook.py checks it). The graph is handed over with :meth:`attach`.
    With ``settings.ema_decay`` the run keeps moving averages of the generator's weights
    (:mod:`cgan.averaging`), updated in :meth:`record`; they change nothing in training.
    """

    def __init__(self, settings: Settings, run_dir: str | os.PathLike, data: MNIST):
        self.settings = settings
        self.run_dir = Path(run_dir)
        self.data = check_data(data, settings)
        self.streams = RandomStreams(data, settings)
        self.iteration = 0  # the next iteration to run
        self.history = History()
        self.periods: list[int] = []  # periods whose snapshots are on disk
        self.clock = Stopwatch()
        self.sess = self.saver = self._generate = None
        self.generator_weights: list = []
        self.average: WeightAverage | None = None  # the averaged generator (settings.ema_decay), from resume()
        self.lock: RunLock | None = None
        self.log: TensorBoardLog | None = None
        self.resuming = True  # resume() continues from a checkpoint (open_run(resume=False): starts afresh)

    @property
    def batches(self):
        """The article's batch iterator (:class:`cgan.BatchIterator`) of this run."""
        return self.streams.batches

    def attach(self, sess, saver, generate: Callable, generator_weights: list) -> None:
        """The graph this run trains: its session, a ``tf.compat.v1.train.Saver`` over all
        its variables, the function that draws digits, ``generate(z, labels)`` (z float32
        (N, latent_dim), labels N integers or None for the plain GAN; returns (N, 28, 28, 1)
        in [0, 1]), and the generator's weights (its variables)."""
        self.sess, self.saver, self._generate = sess, saver, generate
        self.generator_weights = list(generator_weights)

    def generate(self, z, labels=None):
        """Digits from the attached generator (dropout off), so a run draws its manifolds."""
        return self._generate(z, labels)

    @property
    def timing(self) -> dict[str, float]:
        """Seconds spent in this process, by kind of work (steps, snapshots, checkpoints, figures)."""
        return self.clock.seconds

    @property
    def elapsed(self) -> float:
        """Seconds this run has spent training (steps, snapshots, checkpoints), over every
        process that trained it up to its newest checkpoint."""
        return self.clock.elapsed

    # -- what the loop draws and books -----------------------------------------------
    def next_batch(self):
        """The next batch of images and one-hot labels, and a batch of z ~ N(0, I)."""
        return self.streams.next_batch()

    def next_dropout_seed(self) -> np.ndarray:
        """The value to feed to :func:`cgan.layers.dropout_seed` for the next step."""
        return self.streams.next_dropout_seed()

    def record(self, l_d: float, d_steps: int, g_steps: int, terms: dict[str, float] | None = None) -> None:
        """Book one iteration of the loop: its last L_dis and its D and G step counts (and,
        for the TensorBoard log, ``terms``: more losses of its last step). A NaN or infinite
        L_dis raises :class:`TrainingDiverged`."""
        l_d = float(l_d)
        self.history.add(self.iteration, l_d, d_steps, g_steps)
        if self.average is not None:
            self.average.update(self.sess.run(self.generator_weights))
        if self.log is not None:
            self.log.iteration(self.iteration, l_d, d_steps, g_steps, terms)
        self.iteration += 1

    def check_stall(self) -> None:
        """:meth:`History.check_stall`: a discriminator that has won stops the run."""
        self.history.check_stall(self.settings)

    # -- snapshots and checkpoints (cgan.snapshots, cgan.checkpoints) ---------------------
    def snapshot(self, period: int) -> np.ndarray:
        """Draw every label's manifold and store it as ``snapshots/period-NNNNN.npz``;
        returns the pictures, uint8 (n_labels, H, W)."""
        with self.clock.timed("snapshots"):
            figures = to_uint8(draw_manifolds(self))
            if self.log is not None:
                self.log.snapshot(period * self.settings.batches_per_period, figures)
            snapshots.write_snapshot(self.run_dir, period, figures)
            self.periods.append(period)
        return figures

    def load_snapshots(self) -> tuple[list[int], np.ndarray]:
        """The snapshots this run has drawn: periods and uint8 pictures (n_snapshots, n_labels, H, W)."""
        return snapshots.read_snapshots(self.run_dir, self.periods)

    def checkpoints(self) -> list[Path]:
        """Complete checkpoints, oldest first."""
        return checkpoints.checkpoint_dirs(self.run_dir)

    def save_checkpoint(self) -> Path:
        """Write a checkpoint of the variables (with the optimizers' slots) and of the loop's
        state; keep the newest ``checkpoints_kept``."""
        with self.clock.timed("checkpoints"):
            state = {"iteration": self.iteration, **self.streams.state_dict(), "history": self.history.__dict__,
                     "periods": self.periods,
                     "average": None if self.average is None else self.average.state_dict(),
                     "elapsed": self.elapsed}
            final = checkpoints.save_checkpoint(self.run_dir, self.iteration, self.sess, self.saver, state,
                                                self.settings.checkpoints_kept)
            if self.log is not None:
                self.log.flush()  # the log holds what the checkpoint holds, so a resumed run repeats no step
        return final

    def restore_latest(self) -> bool:
        """Restore the newest readable checkpoint (falling back to older ones with a
        warning); returns False if there is none."""
        def restore(ckpt: Path, state: dict) -> None:
            self.streams.load_state_dict(state)  # the variables last: a checkpoint that fails leaves them as they were
            checkpoints.restore_variables(self.sess, self.saver, ckpt)

        found = checkpoints.newest_readable(self.run_dir, restore)
        if found is None:
            kept = self.checkpoints()
            if kept:  # a fresh start over weights a failed restore may have touched would pass for a new run
                raise ValueError(f"{self.run_dir}: none of its checkpoints could be read ({', '.join(p.name for p in kept)}; "
                                 "see the warnings); move them away, or pass overwrite=True to start over")
            return False
        ckpt, state = found
        self.iteration = state["iteration"]
        self.history = History(**state["history"])
        self.periods = list(state["periods"])
        self.clock.resume_at(state.get("elapsed", 0.0))
        if self.settings.ema_decay:
            if state.get("average") is None:
                raise ValueError(f"{ckpt} holds no averaged generator, but ema_decay={self.settings.ema_decay}")
            self.average = WeightAverage.from_state(state["average"])
        return True

    def resume(self) -> bool:
        """Continue from the newest readable checkpoint, if the run was opened to resume and
        has one (snapshots drawn after it are deleted: the resumed run draws them again), and
        open the TensorBoard log if ``settings.tensorboard`` names a folder. Returns whether
        a checkpoint was restored."""
        restored = self.resuming and self.restore_latest()
        if not restored and self.settings.ema_decay:  # the averages start from G's initial weights
            self.average = WeightAverage(self.settings.ema_decay, self.sess.run(self.generator_weights))
        if restored:
            snapshots.drop_snapshots_except(self.run_dir, self.periods)
        if self.settings.tensorboard and self.log is None:
            self.log = TensorBoardLog(self.settings.tensorboard, self.iteration)
        return restored

    # -- the end -------------------------------------------------------------------------
    def write_figures(self, figs_dir: str | os.PathLike) -> list[Path]:
        """The article's figures from this run's snapshots (:func:`cgan.snapshots.write_figures`):
        per label a manifold PNG (the last snapshot) and a training GIF; for the plain GAN,
        GAN_manifold.*."""
        periods, figures = self.load_snapshots()
        if not periods:
            raise ValueError(f"no snapshots in {self.run_dir / snapshots.SNAPSHOTS}: the run saved none "
                             f"(save_periods={self.settings.save_periods[:5]}...)")
        return snapshots.write_figures(self.settings, periods, figures, figs_dir)

    def finish(self, figs_dir: str | os.PathLike | None = None) -> None:
        """Checkpoint the final state, save the generator to ``run_dir/generator.npz``
        (:func:`cgan.graph.save_generator`), write the figures to ``figs_dir`` if given,
        and :meth:`close` the run (the graph's session stays open for drawing)."""
        kept = self.checkpoints()
        if not kept or kept[-1].name != f"ckpt-{self.iteration:08d}":
            self.save_checkpoint()
        with disk_full_says_so(self.run_dir, GENERATOR_FILE, lambda: "the same command writes it again"):
            save_generator(self.run_dir / GENERATOR_FILE, self.sess, self.generator_weights, self.settings,
                           None if self.average is None else self.average.averages)
        if figs_dir is not None:
            with self.clock.timed("figures"):
                self.write_figures(figs_dir)
        self.close()

    def close(self) -> None:
        """Close the TensorBoard log and unlock the folder (the graph's session stays open).
        Safe to call twice."""
        if self.log is not None:
            self.log.close()
            self.log = None
        if self.lock is not None:
            self.lock.release()
            self.lock = None
