"""MNIST, shipped with the package, and the article's batch iterator.

MNIST (Yann LeCun, Corinna Cortes, Christopher J. C. Burges) is distributed under
the Creative Commons Attribution-Share Alike 3.0 license.
"""
from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from . import checks

ENV_VAR = "CGAN_MNIST"
SHIPPED_PATH = Path(__file__).resolve().parent / "data" / "mnist.npz"
KEYS = ("x_train", "y_train", "x_test", "y_test")
# sha256 over the bytes of the four arrays in KEYS order: any file holding exactly
# keras.datasets.mnist's arrays passes, whatever its zip compression.
ARRAYS_SHA256 = "06b0d1f124c4e5fa796686ade41a9b778edacc8622f2195a352ef479ad44fc16"
_HOW_TO_GET = (
    f"The project ships MNIST at {SHIPPED_PATH}; restore it with `git checkout -- cgan/data/mnist.npz`, "
    f"pass another copy as path=..., set the {ENV_VAR} environment variable to one, "
    "or (online) call load_mnist(download=True) to fetch keras.datasets.mnist's copy."
)


def mnist_path(path: str | os.PathLike | None = None) -> Path:
    """The MNIST file to read: ``path``, else ``$CGAN_MNIST``, else the shipped copy."""
    if path is None:
        return checks.path(f"${ENV_VAR}", os.environ.get(ENV_VAR)) if os.environ.get(ENV_VAR) else SHIPPED_PATH
    return checks.path("path", path)


def _arrays_digest(arrays: dict[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for key in KEYS:
        h.update(np.ascontiguousarray(arrays[key]).tobytes())
    return h.hexdigest()


def load_mnist(path: str | os.PathLike | None = None, verify: bool = True, download: bool = False):
    """Exactly what ``keras.datasets.mnist.load_data()`` returns, read offline.

    Returns ``(x_train, y_train), (x_test, y_test)``: uint8 arrays of shapes
    (60000, 28, 28), (60000,), (10000, 28, 28), (10000,), pixels in 0..255.

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` for one that is
    corrupt or holds other data (checked against the arrays' sha256 when ``verify``).
    With ``download=True`` a missing file falls back to Keras's download (needs internet).
    """
    file = mnist_path(path)
    if not file.is_file():
        if download:
            from tf_keras.datasets import mnist

            return mnist.load_data()
        raise FileNotFoundError(f"MNIST file not found: {file}. {_HOW_TO_GET}")
    try:
        with np.load(file, allow_pickle=False) as npz:
            missing = [k for k in KEYS if k not in npz.files]
            if missing:
                raise ValueError(f"MNIST file {file} lacks the arrays {missing}; expected keys {list(KEYS)}. "
                                 + _HOW_TO_GET)
            arrays = {k: npz[k] for k in KEYS}
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ValueError(f"MNIST file {file} is corrupt or not an .npz file ({exc}). {_HOW_TO_GET}") from exc
    if verify:
        digest = _arrays_digest(arrays)
        if digest != ARRAYS_SHA256:
            raise ValueError(f"MNIST file {file} does not hold the MNIST arrays (sha256 of the arrays "
                             f"{digest}, expected {ARRAYS_SHA256}). {_HOW_TO_GET}")
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def preprocess(x: np.ndarray, y: np.ndarray, num_classes: int = 10):
    """The article's preprocessing: float32 images in [0, 1] of shape (N, 28, 28, 1)
    and one-hot float32 labels of shape (N, num_classes)."""
    x = checks.array("x", x, ndim=3, kinds="fiu")
    y = np.asarray(y)
    if x.shape[1:] != (28, 28):
        raise ValueError(f"x must have shape (N, 28, 28), got {x.shape}")
    if y.shape != (len(x),):
        raise ValueError(f"y must have shape ({len(x)},) to match x, got {y.shape}")
    if x.size and (x.min() < 0 or x.max() > 255):
        raise ValueError(f"x must hold pixel values in 0..255, got values in {x.min()}..{x.max()}")
    x = x.astype("float32").reshape(len(x), 28, 28, 1) / 255.0
    return x, one_hot(y, num_classes)


def one_hot(labels: Any, num_classes: int = 10) -> np.ndarray:
    """Integer labels in [0, num_classes) as float32 one-hot rows, shape (N, num_classes)."""
    if not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"num_classes must be an integer >= 1, got {checks.describe(num_classes)}")
    arr = checks.array("labels", labels, kinds="iufb")
    if arr.ndim != 1 or arr.dtype.kind not in "iu":
        raise ValueError(f"labels must be a 1-d array of integers, got dtype {arr.dtype} and shape {arr.shape}")
    bad = arr[(arr < 0) | (arr >= num_classes)]
    if bad.size:
        raise ValueError(f"labels must lie in 0..{num_classes - 1}, got {bad[:5].tolist()}")
    return np.eye(num_classes, dtype="float32")[arr]


def as_one_hot(labels: Any, n: int, num_classes: int) -> np.ndarray:
    """Labels for ``n`` samples as float32 one-hot rows (n, num_classes).

    Accepts one integer label for all samples, ``n`` integer labels, or ``n``
    one-hot rows. Anything else is a ``ValueError`` saying what is accepted.
    """
    arr = np.asarray(labels)
    accepted = (f"an integer in 0..{num_classes - 1}, {n} such integers, "
                f"or a one-hot float array of shape ({n}, {num_classes})")
    if arr.dtype.kind in "iu" and arr.ndim <= 1:
        flat = np.broadcast_to(arr, (n,)) if arr.ndim == 0 else arr
        if flat.shape != (n,) or flat.size and (flat.min() < 0 or flat.max() >= num_classes):
            raise ValueError(f"labels={labels!r} is invalid; accepted: {accepted}")
        return one_hot(flat, num_classes)
    if arr.dtype.kind == "f" and arr.shape == (n, num_classes):
        if not np.all(np.isfinite(arr)) or not np.all((arr == 0) | (arr == 1)) or not np.all(arr.sum(1) == 1):
            raise ValueError(f"labels given as an array of shape {arr.shape} must be one-hot (0s and one 1 a row)")
        return arr.astype("float32")
    raise ValueError(f"labels of dtype {arr.dtype} and shape {arr.shape} are invalid; accepted: {accepted}")


class MNIST(NamedTuple):
    x_train: np.ndarray      # (60000, 28, 28, 1) float32 in [0, 1]
    y_train_cat: np.ndarray  # (60000, 10) float32 one-hot
    y_train: np.ndarray      # (60000,) uint8
    x_test: np.ndarray       # (10000, 28, 28, 1) float32 in [0, 1]
    y_test_cat: np.ndarray   # (10000, 10) float32 one-hot
    y_test: np.ndarray       # (10000,) uint8


def load_data(path: str | os.PathLike | None = None, num_classes: int = 10) -> MNIST:
    """MNIST preprocessed as in the article (see :func:`preprocess`)."""
    (x_train, y_train), (x_test, y_test) = load_mnist(path)
    xtr, ytr = preprocess(x_train, y_train, num_classes)
    xte, yte = preprocess(x_test, y_test, num_classes)
    return MNIST(xtr, ytr, y_train, xte, yte, y_test)


class BatchIterator:
    """The article's ``gen_batch``: consecutive batches of ``batch_size``, a
    reshuffle after each full pass (a final partial batch is skipped), forever.

    The first pass keeps the data's order, as in the article. The iterator's
    position, order and random state can be saved and restored, so a resumed run
    draws the same batches as an uninterrupted one.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, batch_size: int = 256,
                 rng: np.random.Generator | None = None):
        x = checks.array("x", x, ndim=tuple(range(1, 6)))
        y = checks.array("y", y, ndim=tuple(range(1, 6)))
        if len(x) != len(y):
            raise ValueError(f"x and y must have the same length, got {len(x)} and {len(y)}")
        if rng is not None and not isinstance(rng, np.random.Generator):
            raise ValueError(f"rng must be a numpy.random.Generator or None, got {checks.describe(rng)}")
        self.x, self.y = x, y
        self.batch_size = checks.integer("batch_size", batch_size, 1, len(x))
        self.n_batches = len(x) // self.batch_size
        self.rng = rng if rng is not None else np.random.default_rng()
        self.order = np.arange(len(x))
        self.position = 0  # index of the next batch within the current pass

    def __iter__(self) -> "BatchIterator":
        return self

    def __next__(self) -> tuple[np.ndarray, np.ndarray]:
        if self.position == self.n_batches:
            self.order = self.order[self.rng.permutation(len(self.order))]
            self.position = 0
        idx = self.order[self.batch_size * self.position: self.batch_size * (self.position + 1)]
        self.position += 1
        return self.x[idx], self.y[idx]

    def state_dict(self) -> dict[str, Any]:
        return {"order": self.order.copy(), "position": self.position,
                "rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        order = np.asarray(state["order"])
        if sorted(order.tolist()) != list(range(len(self.x))):
            raise ValueError("iterator state does not match this data set (its order is not a permutation "
                             f"of {len(self.x)} samples)")
        self.order = order
        self.position = int(state["position"])
        self.rng.bit_generator.state = state["rng"]


def gen_batch(x: np.ndarray, y: np.ndarray, batch_size: int = 256,
              rng: np.random.Generator | None = None) -> BatchIterator:
    """The article's batch generator (see :class:`BatchIterator`)."""
    return BatchIterator(x, y, batch_size, rng)


def check_data(data, settings) -> MNIST:
    """Training data as :func:`load_data` returns it, checked against ``settings`` (a
    :class:`cgan.Settings`): a ``ValueError`` names what is wrong."""
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
