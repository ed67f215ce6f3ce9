"""What a training loop keeps besides the graph (:class:`Run`): the random streams, the
history, snapshots and checkpoints, the averaged generator, the folder's lock and TensorBoard
log. Each lives in a module of its own (:mod:`cgan.streams`, :mod:`cgan.checkpoints`,
:mod:`cgan.snapshots`, :mod:`cgan.averaging`, :mod:`cgan.runlock`, :mod:`cgan.tensorboard_log`);
a ``Run`` holds them together for one run folder (:func:`cgan.runfolder.open_run` opens one).
The loop itself is :mod:`cgan.training` (or the notebook's cells)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import numpy as np

from . import checkpoints, snapshots
from .averaging import WeightAverage
from .data import MNIST, check_data
from .files import disk_full_says_so
from .graph import write_generator
from .history import History, Stopwatch
from .manifold import draw_manifolds, to_uint8
from .runlock import RunLock
from .settings import Settings
from .streams import RandomStreams
from .tensorboard_log import TensorBoardLog

GENERATOR_FILE = "generator.npz"  # the trained generator and its averages (Run.finish)


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
        self.networks = None  # what checkpoints save and restore (attach, attach_networks)
        self.average: WeightAverage | None = None  # the averaged generator (settings.ema_decay), from resume()
        self.lock: RunLock | None = None
        self.log: TensorBoardLog | None = None
        self.resuming = True  # resume() continues from a checkpoint (open_run(resume=False): starts afresh)

    def attach(self, sess, saver, generate: Callable, generator_weights: list) -> None:
        """The graph this run trains: its session, a ``tf.compat.v1.train.Saver`` over all
        its variables, the function that draws digits, ``generate(z, labels)`` (z float32
        (N, latent_dim), labels N integers or None for the plain GAN; returns (N, 28, 28, 1)
        in [0, 1]), and the generator's weights (its variables)."""
        self.attach_networks(checkpoints.SessionVariables(sess, saver, generator_weights), generate)
        self.sess, self.saver, self.generator_weights = sess, saver, list(generator_weights)

    def attach_networks(self, networks, generate: Callable) -> None:
        """The networks this run trains, as an object that saves all their variables into a checkpoint
        folder (``save(folder)``), restores them (``restore(folder)``) and reads the generator's weights
        as arrays (``generator_values()``): a :class:`cgan.checkpoints.SessionVariables` (:meth:`attach`)
        or a :class:`cgan.keras3.KerasGAN`; and ``generate`` as for :meth:`attach`."""
        self.networks, self._generate = networks, generate

    def generate(self, z, labels=None):
        """Digits from the attached generator (dropout off), so a run draws its manifolds."""
        return self._generate(z, labels)

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
        L_dis raises :class:`cgan.history.TrainingDiverged`."""
        l_d = float(l_d)
        self.history.add(self.iteration, l_d, d_steps, g_steps)
        if self.average is not None:
            self.average.update(self.networks.generator_values())
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

    def save_checkpoint(self) -> Path:
        """Write a checkpoint of the variables (with the optimizers' slots) and of the loop's
        state; keep the newest ``checkpoints_kept``."""
        with self.clock.timed("checkpoints"):
            state = {"iteration": self.iteration, **self.streams.state_dict(), "history": self.history.__dict__,
                     "periods": self.periods,
                     "average": None if self.average is None else self.average.state_dict(),
                     "elapsed": self.clock.elapsed}
            final = checkpoints.save_checkpoint(self.run_dir, self.iteration, self.networks, state,
                                                self.settings.checkpoints_kept)
            if self.log is not None:
                self.log.flush()  # the log holds what the checkpoint holds, so a resumed run repeats no step
        return final

    def resume(self) -> bool:
        """Continue from the newest readable checkpoint (:func:`cgan.checkpoints.restore_newest`)
        if the run was opened to resume and has one (snapshots drawn after it are deleted: the
        resumed run draws them again); open the TensorBoard log if ``settings.tensorboard``
        names a folder. Returns whether a checkpoint was restored."""
        found = self.resuming and checkpoints.restore_newest(self.run_dir, self.networks,
                                                             self.streams.load_state_dict)
        if found:
            ckpt, state = found
            self.iteration, self.periods = state["iteration"], list(state["periods"])
            self.history = History(**state["history"])
            self.clock.resume_at(state.get("elapsed", 0.0))
            if self.settings.ema_decay:
                if state.get("average") is None:
                    raise ValueError(f"{ckpt} holds no averaged generator, but ema_decay={self.settings.ema_decay}")
                self.average = WeightAverage.from_state(state["average"])
            snapshots.drop_snapshots_except(self.run_dir, self.periods)
        elif self.settings.ema_decay:  # the averages start from G's initial weights
            self.average = WeightAverage(self.settings.ema_decay, self.networks.generator_values())
        if self.settings.tensorboard and self.log is None:
            self.log = TensorBoardLog(self.settings.tensorboard, self.iteration)
        return bool(found)

    # -- the end -------------------------------------------------------------------------
    def write_figures(self, figs_dir: str | os.PathLike) -> list[Path]:
        """The article's figures from this run's snapshots (:func:`cgan.snapshots.write_figures`):
        per label a manifold PNG (the last snapshot) and a training GIF; for the plain GAN,
        GAN_manifold.*."""
        periods, figures = snapshots.read_snapshots(self.run_dir, self.periods)
        return snapshots.write_figures(self.settings, periods, figures, figs_dir)

    def finish(self, figs_dir: str | os.PathLike | None = None) -> None:
        """Checkpoint the final state, save the generator to ``run_dir/generator.npz``
        (:func:`cgan.graph.write_generator`), write the figures to ``figs_dir`` if given,
        and :meth:`close` the run (the graph's session stays open for drawing)."""
        kept = checkpoints.checkpoint_dirs(self.run_dir)
        if not kept or kept[-1].name != f"ckpt-{self.iteration:08d}":
            self.save_checkpoint()
        with disk_full_says_so(self.run_dir, GENERATOR_FILE, lambda: "the same command writes it again"):
            write_generator(self.run_dir / GENERATOR_FILE, self.networks.generator_values(), self.settings,
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
