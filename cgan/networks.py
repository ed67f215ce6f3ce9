"""The article's generator and discriminator, as Keras 2 (tf_keras) models.

Both are plain functions of ``(inputs, labels)``; pass ``labels=None`` for the
unconditional GAN. Each builds its layers under the variable scope the article
uses (``generator`` / ``discrim``), so the optimizers can take their variables by
scope. They work on placeholders wrapped in ``Input(tensor=...)`` (the article's
TF1 graph) as well as on ordinary Keras inputs.
"""
from __future__ import annotations

import weakref

import tensorflow as tf
import tf_keras
from tf_keras.layers import (Conv2D, Dense, Flatten, LeakyReLU, MaxPool2D, RepeatVector, Reshape, UpSampling2D,
                             concatenate)

from .settings import Settings

GENERATOR_SCOPE = "generator"
DISCRIMINATOR_SCOPE = "discrim"

_DROPOUT_STATE: "weakref.WeakKeyDictionary[tf.Graph, dict]" = weakref.WeakKeyDictionary()


def dropout_seed() -> tf.Tensor:
    """The current graph's dropout seed: an int64 (2,) placeholder (default [0, 0])
    that the training loop feeds with fresh numbers at every step."""
    state = _DROPOUT_STATE.setdefault(tf.compat.v1.get_default_graph(), {"calls": 0})
    if "seed" not in state:
        state["seed"] = tf.compat.v1.placeholder_with_default(tf.zeros([2], tf.int64), [2], name="dropout_seed")
    return state["seed"]


class Dropout(tf_keras.layers.Dropout):
    """Keras's ``Dropout`` (same rate, same scaling, active only in the training
    phase) whose random mask is drawn from the fed :func:`dropout_seed` rather than
    from a stateful random op. The masks are then a function of numbers the
    training loop draws from its own saved generator, so a run resumed from a
    checkpoint, or repeated with the same seed, draws exactly the same masks.
    Every call of every layer folds in its own index, so masks never repeat
    between layers or between D's calls on real and generated images.
    """

    def call(self, inputs, training=None):
        if self.rate == 0:
            return tf.identity(inputs)
        if training is None:
            training = tf_keras.backend.learning_phase()
        seed = dropout_seed()
        state = _DROPOUT_STATE[tf.compat.v1.get_default_graph()]
        state["calls"] += 1
        call_seed = tf.random.experimental.stateless_fold_in(seed, state["calls"])

        def dropped():
            keep = tf.random.stateless_uniform(tf.shape(inputs), seed=call_seed) >= self.rate
            return tf.where(keep, inputs / (1.0 - self.rate), tf.zeros_like(inputs))

        return tf_keras.backend.in_train_phase(dropped, lambda: tf.identity(inputs), training)


def build_generator(z, labels=None, settings: Settings = Settings(), scope: str = GENERATOR_SCOPE):
    """G(z, label) -> image.

    ``z``: Keras input of shape (None, latent_dim); ``labels``: one-hot (None, num_classes)
    or None. Returns a ``tf_keras.Model`` whose output is (None, 28, 28, 1) in [0, 1].
    """
    inputs = [z] if labels is None else [z, labels]
    rate = settings.dropout_rate
    with tf.compat.v1.variable_scope(scope):
        x = z if labels is None else concatenate([z, labels])
        x = Dense(7 * 7 * 64, activation="relu")(x)
        x = Dropout(rate)(x)
        x = Reshape((7, 7, 64))(x)
        x = UpSampling2D(size=(2, 2))(x)                                         # (14, 14, 64)

        x = Conv2D(64, kernel_size=(5, 5), activation="relu", padding="same")(x)
        x = Dropout(rate)(x)

        x = Conv2D(32, kernel_size=(3, 3), activation="relu", padding="same")(x)
        x = Dropout(rate)(x)
        x = UpSampling2D(size=(2, 2))(x)                                         # (28, 28, 32)

        generated = Conv2D(1, kernel_size=(5, 5), activation="sigmoid", padding="same")(x)
    return tf_keras.Model(inputs, generated, name="generator")


def add_units_to_conv2d(conv2, units):
    """Concatenate ``units`` (None, c), tiled over every spatial position, to the
    feature maps ``conv2`` (None, h, w, f): the result is (None, h, w, f + c).

    The article's version tiled the global ``lbl`` instead of its argument; this
    one uses ``units``.
    """
    dim1, dim2 = int(conv2.shape[1]), int(conv2.shape[2])
    dimc = int(units.shape[1])
    units_repeat = RepeatVector(dim1 * dim2)(units)          # (None, h*w, c)
    units_repeat = Reshape((dim1, dim2, dimc))(units_repeat)  # (None, h, w, c)
    return concatenate([conv2, units_repeat])


def build_discriminator(img, labels=None, settings: Settings = Settings(), scope: str = DISCRIMINATOR_SCOPE):
    """D(image, label) -> probability that the image is real.

    ``img``: Keras input (None, 28, 28, 1) in [0, 1]; ``labels``: one-hot (None, num_classes)
    or None. Returns a ``tf_keras.Model`` whose output is (None, 1) in (0, 1).
    """
    inputs = [img] if labels is None else [img, labels]
    rate = settings.dropout_rate
    with tf.compat.v1.variable_scope(scope):
        x = Conv2D(128, kernel_size=(7, 7), strides=(2, 2), padding="same")(img)  # (14, 14, 128)
        if labels is not None:
            x = add_units_to_conv2d(x, labels)                                     # (14, 14, 138)
        x = LeakyReLU()(x)
        x = Dropout(rate)(x)
        x = MaxPool2D((2, 2), padding="same")(x)                                   # (7, 7, ...)

        x = Conv2D(128, kernel_size=(3, 3), padding="same")(x)
        x = LeakyReLU()(x)
        x = Dropout(rate)(x)

        h = Flatten()(x)
        d = Dense(1, activation="sigmoid")(h)
    return tf_keras.Model(inputs, d, name="Discriminator")
