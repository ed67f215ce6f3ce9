"""The article's generator and discriminator, as Keras 2 (tf_keras) models.

Both are plain functions of ``(inputs, labels)``; pass ``labels=None`` for the unconditional
GAN. Each builds its layers under the variable scope the article uses (``generator`` /
``discrim``), so the optimizers can take their variables by scope. They work on placeholders
wrapped in ``Input(tensor=...)`` (the article's TF1 graph) as well as on ordinary Keras inputs.
``Dropout``, ``UpSampling2D`` and ``Conv2D`` come from :func:`cgan.layers.article_layers`: the
article's layers, or our exact rewrites of them (the same math), as the settings choose.
Layers with weights carry the names Keras gave them in the article's graph, so the variables
(``generator/conv2d/kernel``, ...) are named as there, whichever layers compute them.
"""
from __future__ import annotations

import contextlib

from ._tf import tf
import tf_keras
from tf_keras.layers import Dense, Flatten, LeakyReLU, MaxPool2D, RepeatVector, Reshape, concatenate

from .layers import article_layers, dropout_seed  # noqa: F401 (dropout_seed: the notebook's cgan.networks name)
from .settings import Settings

GENERATOR_SCOPE = "generator"
DISCRIMINATOR_SCOPE = "discrim"


def _scope(scope: str | None):
    return tf.compat.v1.variable_scope(scope) if scope else contextlib.nullcontext()


def build_generator(z, labels=None, settings: Settings = Settings(), scope: str | None = GENERATOR_SCOPE):
    """G(z, label) -> image.

    ``z``: Keras input of shape (None, latent_dim); ``labels``: one-hot (None, num_classes)
    or None. Returns a ``tf_keras.Model`` whose output is (None, 28, 28, 1) in [0, 1].
    Its layers are built under ``tf.compat.v1.variable_scope(scope)``; ``scope=None``
    enters none, for code that opens the scope itself (the notebook).
    """
    Dropout, UpSampling2D, Conv2D = article_layers(settings)
    dropout_rate = settings.dropout_rate
    inputs = [z] if labels is None else [z, labels]
    with _scope(scope):
        x = z if labels is None else concatenate([z, labels])
        x = Dense(7 * 7 * 64, activation="relu", name="dense")(x)
        x = Dropout(dropout_rate)(x)
        x = Reshape((7, 7, 64))(x)
        x = UpSampling2D(size=(2, 2))(x)

        x = Conv2D(64, kernel_size=(5, 5), activation="relu", padding="same", name="conv2d")(x)  # (14, 14, 64)
        x = Dropout(dropout_rate)(x)

        x = Conv2D(32, kernel_size=(3, 3), activation="relu", padding="same", name="conv2d_1")(x)
        x = Dropout(dropout_rate)(x)
        x = UpSampling2D(size=(2, 2))(x)

        generated = Conv2D(1, kernel_size=(5, 5), activation="sigmoid", padding="same", name="conv2d_2")(x)
    return tf_keras.Model(inputs, generated, name="generator")                                   # (28, 28, 1)


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


def build_discriminator(img, labels=None, settings: Settings = Settings(),
                        scope: str | None = DISCRIMINATOR_SCOPE):
    """D(image, label) -> probability that the image is real.

    ``img``: Keras input (None, 28, 28, 1) in [0, 1]; ``labels``: one-hot (None, num_classes)
    or None. Returns a ``tf_keras.Model`` whose output is (None, 1) in (0, 1).
    Its layers are built under ``tf.compat.v1.variable_scope(scope)`` (none if ``scope=None``).
    """
    Dropout, _, Conv2D = article_layers(settings)
    dropout_rate = settings.dropout_rate
    inputs = [img] if labels is None else [img, labels]
    with _scope(scope):
        x = Conv2D(128, kernel_size=(7, 7), strides=(2, 2), padding="same", name="conv2d_3")(img)  # (14, 14, 128)
        if labels is not None:
            x = add_units_to_conv2d(x, labels)                                                    # (14, 14, 138)
        x = LeakyReLU()(x)
        x = Dropout(dropout_rate)(x)
        x = MaxPool2D((2, 2), padding="same")(x)                                                  # (7, 7, ...)

        x = Conv2D(128, kernel_size=(3, 3), padding="same", name="conv2d_4")(x)
        x = LeakyReLU()(x)
        x = Dropout(dropout_rate)(x)

        h = Flatten()(x)
        d = Dense(1, activation="sigmoid", name="dense_1")(h)
    return tf_keras.Model(inputs, d, name="Discriminator")
