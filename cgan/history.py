"""What the training loop books as it goes: the per-iteration :class:`History` (with the
check that stops a run the discriminator has won, :class:`TrainingDiverged`) and the
:class:`Stopwatch` of the seconds spent."""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field

import numpy as np

from .settings import Settings

TRAINING_WORK = ("steps", "snapshots", "checkpoints")  # the kinds of work Stopwatch.elapsed counts
ADVICE = ("As the article advises: slow the discriminator down (a smaller lr_dis, e.g. --set lr_dis=5e-5) "
          "or start again (another seed, or --restarts N to do so automatically).")


class TrainingDiverged(RuntimeError):
    """The run stopped moving: a loss became NaN or infinite, or the discriminator
    won from the start. The run folder keeps the last good checkpoint.

    ``iteration``: the iteration at which the run was stopped; ``stalled_from``: for a
    discriminator that won, the first iteration of its unbroken run of won iterations
    (:meth:`History.stalled_from`), else None."""

    def __init__(self, message: str, iteration: int | None = None, stalled_from: int | None = None):
        super().__init__(message)
        self.iteration = iteration
        self.stalled_from = stalled_from


@dataclass
class History:
    """Per-iteration record of the loop: last L_dis, and D and G steps taken."""

    l_dis: list = field(default_factory=list)
    d_steps: list = field(default_factory=list)
    g_steps: list = field(default_factory=list)

    def add(self, iteration: int, l_d: float, d_steps: int, g_steps: int) -> None:
        """Book one iteration; a NaN or infinite L_dis raises :class:`TrainingDiverged`."""
        if not np.isfinite(l_d):
            raise TrainingDiverged(f"L_dis became {l_d} at iteration {iteration}: the run diverged. {ADVICE}",
                                   iteration=iteration)
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
                f"training has stopped moving. {ADVICE}",
                iteration=len(self.l_dis) - 1, stalled_from=self.stalled_from(s))

    def stalled_from(self, s: Settings) -> int | None:
        """The first iteration of the unbroken run of iterations, up to the last, in which the
        discriminator won (all ``k_step`` generator steps spent, ``L_dis < stall_loss``
        still); None if the last iteration was not one."""
        first = None
        for i in range(len(self.l_dis) - 1, -1, -1):
            if self.g_steps[i] != s.k_step or self.l_dis[i] >= s.stall_loss:
                break
            first = i
        return first


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
