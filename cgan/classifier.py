"""An independent MNIST classifier that judges generated digits.

A small CNN (two 5x5 conv + max-pool blocks, a 64-unit feature layer, softmax)
trained on MNIST's training set. It lives in its own graph and session, so it
never mixes with a GAN's variables. Its weights ship in ``cgan/weights/classifier.npz``
together with the test accuracy they reached; ``python -m cgan.classifier``
trains them again.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
from ._tf import tf

from . import checks
from .weightfile import assign_values, read_weights, write_weights

WEIGHTS = Path(__file__).resolve().parent / "weights" / "classifier.npz"
EPOCHS = 5
FEATURES = 64  # width of the penultimate layer used for Fréchet distances


class Classifier:
    """``predict`` gives class probabilities, ``features`` the 64-d penultimate
    activations, both for images (N, 28, 28[, 1]) in [0, 1]."""

    def __init__(self, seed: int = 0):
        import tf_keras
        from tf_keras import layers

        from .graph import global_state_kept

        self.graph = tf.Graph()
        with global_state_kept(seed), self.graph.as_default():  # Keras draws its seeds from Python's random
            tf.compat.v1.set_random_seed(seed)
            self.sess = tf.compat.v1.Session(graph=self.graph)
            self.x = tf.compat.v1.placeholder(tf.float32, (None, 28, 28, 1), name="image")
            self.y = tf.compat.v1.placeholder(tf.int64, (None,), name="label")
            self.training = tf.compat.v1.placeholder_with_default(False, (), name="training")
            with tf.compat.v1.variable_scope("classifier"):
                inp = tf_keras.layers.Input(tensor=self.x)
                h = layers.Conv2D(32, 5, padding="same", activation="relu")(inp)
                h = layers.MaxPool2D(2)(h)                                       # (14, 14, 32)
                h = layers.Conv2D(64, 5, padding="same", activation="relu")(h)
                h = layers.MaxPool2D(2)(h)                                       # (7, 7, 64)
                h = layers.Flatten()(h)
                feats = layers.Dense(FEATURES, activation="relu")(h)
                logits = layers.Dense(10)(feats)
            self.model = tf_keras.Model(inp, [feats, logits])
            self.feats, self.logits = self.model(self.x)
            self.probs = tf.nn.softmax(self.logits)
            self.loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=self.y,
                                                                                      logits=self.logits))
            self.lr = tf.compat.v1.placeholder_with_default(1e-3, (), name="learning_rate")
            self.step = tf.compat.v1.train.AdamOptimizer(self.lr).minimize(self.loss)
            self.sess.run(tf.compat.v1.global_variables_initializer())

    def _run(self, tensor, images: np.ndarray, batch_size: int = 2000) -> np.ndarray:
        images = checks.array("images", images, ndim=(3, 4), kinds="fiu")
        if images.ndim == 3:
            images = images[..., None]
        if images.shape[1:] != (28, 28, 1):
            raise ValueError(f"images must have shape (N, 28, 28) or (N, 28, 28, 1), got {images.shape}")
        images = images.astype("float32")
        out = [self.sess.run(tensor, {self.x: images[i:i + batch_size]}) for i in range(0, len(images), batch_size)]
        return np.concatenate(out) if out else np.zeros((0, int(tensor.shape[-1])), "float32")

    def predict(self, images: np.ndarray) -> np.ndarray:
        """Class probabilities (N, 10)."""
        return self._run(self.probs, images)

    def features(self, images: np.ndarray) -> np.ndarray:
        """Penultimate activations (N, 64)."""
        return self._run(self.feats, images)

    def fit(self, x: np.ndarray, y: np.ndarray, epochs: int = 5, batch_size: int = 128, seed: int = 0) -> None:
        """Adam at 1e-3, divided by 10 for the last epoch."""
        rng = np.random.default_rng(seed)
        for epoch in range(epochs):
            lr = 1e-3 if epoch < epochs - 1 else 1e-4
            order = rng.permutation(len(x))
            for i in range(0, len(x) - batch_size + 1, batch_size):
                idx = order[i:i + batch_size]
                self.sess.run(self.step, {self.x: x[idx], self.y: y[idx], self.lr: lr})

    def save(self, path: str | os.PathLike, **meta) -> None:
        write_weights(path, self.sess.run(self.model.weights), "meta", meta)

    @classmethod
    def load(cls, path: str | os.PathLike = WEIGHTS) -> "Classifier":
        meta, weights = read_weights(path, "meta", "classifier", "Classifier.save",
                                     "; train them with `python -m cgan.classifier`")
        clf = cls()
        clf.meta = meta
        assign_values(clf.sess, clf.model.weights, weights)
        return clf


_LOADED: dict[str, Classifier] = {}


def load_classifier(path: str | os.PathLike = WEIGHTS) -> Classifier:
    """The shipped classifier (loaded once per process)."""
    key = str(Path(path).resolve())
    if key not in _LOADED:
        _LOADED[key] = Classifier.load(path)
    return _LOADED[key]


def main() -> None:
    """Train the classifier on MNIST's training set and save it with its test accuracy."""
    from .data import load_data

    data = load_data()
    start = time.perf_counter()
    clf = Classifier(seed=0)
    clf.fit(data.x_train, data.y_train.astype("int64"), epochs=EPOCHS)
    seconds = time.perf_counter() - start
    acc = float((clf.predict(data.x_test).argmax(1) == data.y_test).mean())
    acc_slice = float((clf.predict(data.x_test[:2000]).argmax(1) == data.y_test[:2000]).mean())
    WEIGHTS.parent.mkdir(exist_ok=True)
    clf.save(WEIGHTS, test_accuracy=acc, test_accuracy_first_2000=acc_slice, epochs=EPOCHS, batch_size=128,
             optimizer="Adam(1e-3), 1e-4 in the last epoch", train_seconds=round(seconds, 1),
             command="python -m cgan.classifier")
    print(f"test accuracy {acc:.4f} (first 2000: {acc_slice:.4f}) after {seconds:.0f} s; saved {WEIGHTS}")


if __name__ == "__main__":
    main()
