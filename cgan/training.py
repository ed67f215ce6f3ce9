"""The article's alternating training loop on the package's graph: :class:`Trainer`,
:func:`prepare` and :func:`train` (the run folder is :mod:`cgan.runfolder`, what a run keeps
:mod:`cgan.run`)."""
from __future__ import annotations

import os
import sys
import warnings
from typing import Callable

import numpy as np

from . import checks
from .graph import GANGraph, hold_op_determinism
from .history import TrainingDiverged
from .run import Run
from .runfolder import open_run
from .settings import Settings


class Trainer:
    """The article's loop (:meth:`run_iteration`, :meth:`fit`) over a run (``run``: a
    :class:`cgan.run.Run`, the folder with its streams, history, snapshots and checkpoints)
    and the package's graph (``graph``: a :class:`cgan.GANGraph`, or with ``Settings(idiom="keras3")``
    a :class:`cgan.keras3.KerasGAN`). :func:`prepare` and
    :func:`train` make one. The run's state reads through the trainer (``trainer.iteration``,
    ``trainer.history``, ``trainer.periods``, ...). :meth:`close` closes all that it
    opened: the run (its log, its lock, op determinism) and the graph's session."""

    def __init__(self, run: Run, graph: GANGraph | None):
        if not isinstance(run, Run):
            raise ValueError(f"run must be a cgan.run.Run (cgan.open_run gives one), got {checks.describe(run)}")
        keras3 = sys.modules.get("cgan.keras3")  # a KerasGAN exists only once cgan.keras3 is imported
        if graph is not None and not isinstance(graph, GANGraph) and not (keras3 and isinstance(graph, keras3.KerasGAN)):
            raise ValueError(f"graph must be a cgan.GANGraph or a cgan.keras3.KerasGAN, got {checks.describe(graph)}")
        self.run, self.graph = run, graph
        self._holds_determinism = False  # a hold on op determinism (a seeded run), given back by release()

    def __getattr__(self, name: str):
        if name in ("run", "graph", "_holds_determinism"):  # not yet set (during unpickling and the like)
            raise AttributeError(name)
        return getattr(self.run, name)

    def hold_op_determinism(self) -> None:
        """Switch TensorFlow's op determinism on for a seeded run, remembering how it was, so
        :meth:`release` can put it back. (Process-wide: TensorFlow has no narrower switch.)"""
        if self.run.settings.seed is not None and not self._holds_determinism:
            hold_op_determinism(True)
            self._holds_determinism = True

    def release(self) -> None:
        """Close the run (its log, its folder's lock) and put op determinism back as it was;
        the graph stays open for drawing."""
        if self._holds_determinism:
            hold_op_determinism(False)
            self._holds_determinism = False
        self.run.close()

    def __enter__(self) -> "Trainer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def run_iteration(self, on_snapshot: Callable[[int, np.ndarray], None] | None = None) -> float:
        """Up to k_step D steps (leave once L_dis < dis_exit_below), then up to k_step
        G steps (leave once L_dis > gen_exit_above); then every ``batches_per_period`` iterations
        the stall check, a snapshot at the article's periods and a checkpoint.
        Returns the last L_dis. (The notebook runs the same loop in its own cells.)"""
        run, g = self.run, self.graph
        s = run.settings
        with run.clock.timed("steps"):
            b0, b1, zp = run.next_batch()
            # Update D: minimise -log D(x) - log(1 - D(G(z))) over the discriminator's variables.
            for d in range(1, s.k_step + 1):
                l_d = g.step_d(b0, b1, zp)
                b0, b1, zp = run.next_batch()
                if l_d < s.dis_exit_below:
                    break
            # Update G: minimise log(1 - D(G(z))) over the generator's variables.
            for gs in range(1, s.k_step + 1):
                l_d = g.step_g(b0, b1, zp)
                if l_d > s.gen_exit_above:
                    break
                b0, b1, zp = run.next_batch()
        i = run.iteration
        run.record(l_d, d, gs, g.last_terms)
        if i % s.batches_per_period == 0:  # every period: the stall check, a snapshot at the article's periods,
            run.check_stall()              # and a checkpoint
            period = i // s.batches_per_period
            if period in s.save_periods:
                figures = run.snapshot(period)
                if on_snapshot is not None:
                    on_snapshot(period, figures)
            run.save_checkpoint()
        return l_d

    def fit(self, progress: bool = True, on_snapshot: Callable[[int, np.ndarray], None] | None = None) -> None:
        """Run the remaining iterations with a progress bar (rate, ETA, losses).

        Draws a manifold snapshot at the article's periods and writes a checkpoint
        every ``batches_per_period`` iterations. ``on_snapshot(period, figures)`` is
        called after each snapshot (figures uint8 (n_labels, H, W)).
        """
        from tqdm import tqdm  # text bar: works in a terminal and a notebook alike

        run, s = self.run, self.run.settings
        bar = tqdm(total=s.iterations, initial=min(run.iteration, s.iterations), disable=not progress,
                   desc=s.kind.upper(), unit="it", dynamic_ncols=True)
        try:
            while run.iteration < s.iterations:
                l_d = self.run_iteration(on_snapshot)
                bar.update(1)
                bar.set_postfix(L_dis=f"{l_d:.3f}", d=run.history.d_steps[-1], g=run.history.g_steps[-1],
                                refresh=False)
        finally:
            bar.close()

    def finish(self, figs_dir: str | os.PathLike | None = None) -> None:
        """:meth:`cgan.run.Run.finish`: the last checkpoint, ``generator.npz``, the figures into
        ``figs_dir`` if given; then :meth:`release`: the graph stays open for drawing."""
        self.run.finish(figs_dir)
        self.release()

    def close(self) -> None:
        """Close the run (its TensorBoard log, its folder's lock, op determinism back as it was)
        and the graph's session. Safe to call twice."""
        self.release()
        if self.graph is not None:
            self.graph.close()


def prepare(settings: Settings = Settings(), run_dir: str | os.PathLike = "runs/cgan", resume: bool = True,
            overwrite: bool = False, data=None) -> Trainer:
    """A :class:`Trainer` for ``run_dir`` (:func:`open_run`) and a new :class:`cgan.GANGraph` (or
    :class:`cgan.keras3.KerasGAN` with ``settings.idiom == "keras3"``),
    resumed from the folder's newest checkpoint if any and ``resume``."""
    run = open_run(settings, run_dir, resume, overwrite, data)
    trainer = Trainer(run, None)
    try:
        trainer.hold_op_determinism()  # before the graph's kernels are made; close() puts it back
        if settings.idiom == "keras3":
            from .keras3 import KerasGAN

            trainer.graph = KerasGAN(settings)
        else:
            trainer.graph = GANGraph(settings, dropout_rng=run.streams.dropout)
    except BaseException:
        trainer.release()
        raise
    graph = trainer.graph
    if settings.idiom == "keras3":
        run.attach_networks(graph, graph.generate)
    else:
        run.attach(graph.sess, graph.saver, graph.generate, graph.generator.weights)
    try:
        run.resume()
    except BaseException:
        trainer.close()
        raise
    return trainer


def restart_seed(seed: int | None) -> int:
    """The seed a diverged run that was seeded ``seed`` starts over with (:func:`train`'s
    ``restarts``); the seed study follows the same chain to recognise a restarted run."""
    return int(np.random.SeedSequence(seed).generate_state(1)[0] % 2**31)


def train(settings: Settings = Settings(), run_dir: str | os.PathLike = "runs/cgan",
          figs_dir: str | os.PathLike | None = None, resume: bool = True, overwrite: bool = False,
          progress: bool = True, on_snapshot: Callable[[int, np.ndarray], None] | None = None,
          data=None, restarts: int = 0) -> Trainer:
    """Train as the article does, resuming from ``run_dir``'s checkpoints if any
    (:func:`prepare`, then :meth:`Trainer.fit`, then :meth:`Trainer.finish`).

    A run that diverges (:class:`TrainingDiverged`) stops with the article's
    advice; with ``restarts > 0`` it starts over in ``run_dir`` with a new seed,
    up to that many times. Returns the :class:`Trainer`.

    Global state: with a seed, TensorFlow's op determinism is on while the run trains
    and back as it was when ``train`` returns; Python's and numpy's global random
    generators and the v1 Keras session are left as they were (the graph's seeds are
    its own).
    """
    checks.integer("restarts", restarts, 0)
    if figs_dir is not None:
        checks.output_dir("figs_dir", figs_dir)
    while True:
        trainer = prepare(settings, run_dir, resume, overwrite, data)
        try:
            trainer.fit(progress, on_snapshot)
            break
        except BaseException as exc:
            trainer.close()
            if not isinstance(exc, TrainingDiverged) or restarts == 0:
                raise
            restarts -= 1
            new_seed = restart_seed(settings.seed)
            warnings.warn(f"{exc} Starting over in {run_dir} with seed {new_seed}.")
            settings, resume, overwrite = settings.replace(seed=new_seed), False, True
    trainer.finish(figs_dir)
    return trainer
