"""Python's and numpy's global random generators, seeded for a block and put back after it:
Keras (2 and 3) draws the seeds of its weight initializers from Python's ``random``, so building
models under :func:`seeded_globals` gives repeatable weights and leaves the process's generators
as they were."""
from __future__ import annotations

import contextlib
import random
from typing import Iterator

import numpy as np


@contextlib.contextmanager
def seeded_globals(seed: int | None = None) -> Iterator[None]:
    """Run the block with Python's ``random`` and numpy's global generator seeded with ``seed``
    (None: fresh seeds from the OS), then put both back as they were."""
    py_state, np_state = random.getstate(), np.random.get_state()
    try:
        random.seed(seed)
        np.random.seed(seed)
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
