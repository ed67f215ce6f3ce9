"""A run's random streams, all from its one seed: the z samples, the batch order (through the
article's batch iterator) and the dropout seeds fed at every step. Their state travels in the
run's checkpoints, so a resumed run draws exactly what an uninterrupted one would."""
from __future__ import annotations

from typing import Any

import numpy as np

from .data import MNIST, BatchIterator
from .layers import draw_dropout_seed
from .settings import Settings


class RandomStreams:
    """``z``: the z samples; ``batches``: the batch iterator (its own generator reshuffles);
    ``dropout``: the dropout seeds. Three independent streams spawned from ``settings.seed``
    (a fresh random run if None)."""

    def __init__(self, data: MNIST, settings: Settings):
        z_seed, batch_seed, dropout_seed = np.random.SeedSequence(settings.seed).spawn(3)
        self.z = np.random.default_rng(z_seed)
        self.batches = BatchIterator(data.x_train, data.y_train_cat, settings.batch_size,
                                     np.random.default_rng(batch_seed))
        self.dropout = np.random.default_rng(dropout_seed)
        self.batch_size, self.latent_dim = settings.batch_size, settings.latent_dim

    def next_batch(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The next batch of images and one-hot labels, and a batch of z ~ N(0, I)."""
        b0, b1 = next(self.batches)
        zp = self.z.standard_normal((self.batch_size, self.latent_dim)).astype("float32")
        return b0, b1, zp

    def next_dropout_seed(self) -> np.ndarray:
        """The value to feed to :func:`cgan.layers.dropout_seed` for the next step."""
        return draw_dropout_seed(self.dropout)

    def state_dict(self) -> dict[str, Any]:
        """The streams' state, under the keys a checkpoint's loop state has always used."""
        return {"batches": self.batches.state_dict(), "rng": self.z.bit_generator.state,
                "dropout_rng": self.dropout.bit_generator.state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.batches.load_state_dict(state["batches"])
        self.z.bit_generator.state = state["rng"]
        self.dropout.bit_generator.state = state["dropout_rng"]
