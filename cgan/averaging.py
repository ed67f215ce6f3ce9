"""An averaged generator: exponential moving averages of G's weights (ours, not the article's).

Yazıcı et al. 2019, "The Unusual Effectiveness of Averaging in GAN Training"
(https://arxiv.org/abs/1806.04498): drawing from a moving average of the generator's
weights, instead of its latest weights, smooths out the oscillation of the adversarial
game. ``Settings(ema_decay=0.999)`` turns it on (``None``, the default, leaves it off; a
tuple keeps several averages at once, say ``(0.99, 0.999)``).

The averages are plain numpy arrays outside the TensorFlow graph: the run reads G's
weights once per outer iteration, after that iteration's generator steps, and updates

    average <- decay * average + (1 - decay) * weights

starting from G's initial weights. Nothing is fed back into training, so a run with
averaging on trains exactly the same bits as one without (tests/test_averaging.py).
The averages travel in the run's checkpoints and in its ``generator.npz``
(:func:`cgan.load_generator` with ``averaged=``).
"""
from __future__ import annotations

import numpy as np


class WeightAverage:
    """Moving averages of a list of weight arrays, one list per decay.

    ``decays``: floats in (0, 1). ``weights``: the initial weights (float32 arrays),
    where every average starts.
    """

    def __init__(self, decays: tuple[float, ...], weights: list[np.ndarray]):
        self.decays = tuple(float(d) for d in decays)
        self.averages = {d: [np.array(w, dtype="float32", copy=True) for w in weights] for d in self.decays}
        self.updates = 0

    def update(self, weights: list[np.ndarray]) -> None:
        """Move every average towards ``weights`` by its ``1 - decay``."""
        for decay, average in self.averages.items():
            rate = np.float32(1.0 - decay)
            for a, w in zip(average, weights):
                a += rate * (np.asarray(w, "float32") - a)
        self.updates += 1

    def state_dict(self) -> dict:
        return {"decays": self.decays, "updates": self.updates,
                "averages": {d: [a.copy() for a in avg] for d, avg in self.averages.items()}}

    @classmethod
    def from_state(cls, state: dict) -> "WeightAverage":
        first = next(iter(state["averages"].values()))
        average = cls(state["decays"], first)
        average.averages = {float(d): [np.array(a, "float32", copy=True) for a in avg]
                            for d, avg in state["averages"].items()}
        average.updates = int(state["updates"])
        return average


def key(decay: float) -> str:
    """The name an average is stored under in ``generator.npz``: ``ema_0.999``."""
    return f"ema_{float(decay):g}"
