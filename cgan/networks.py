"""The article's generator and discriminator, as Keras 2 (tf_keras) models.

Both are plain functions of ``(inputs, labels)``; pass ``labels=None`` for the
unconditional GAN. Each builds its layers under the variable scope the article
uses (``generator`` / ``discrim``), so the optimizers can take their variables by
scope. They work on placeholders wrapped in ``Input(tensor=...)`` (the article's
TF1 graph) as well as on ordinary Keras inputs.
"""
from __future__ import annotations

import weakref

import numpy as np
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


def _phase_taps(kernel_size: int) -> np.ndarray:
    """M[a, r, t] = 1 where tap t of a ``kernel_size`` 'same' convolution, applied at
    output phase a (0 or 1) of a 2x nearest upsampling, reads low-resolution offset r."""
    pad = kernel_size // 2
    reach = (pad + 1) // 2          # low-resolution offsets run from -reach to reach
    m = np.zeros((2, 2 * reach + 1, kernel_size), "float32")
    for a in range(2):
        for t in range(kernel_size):
            m[a, (a + t - pad) // 2 + reach, t] = 1.0
    return m


class UpsampledConv2D(Conv2D):
    """``UpSampling2D(2)`` (nearest) followed by a 'same' ``Conv2D``, computed exactly
    without the upsampling: each of the four output phases is a smaller convolution of
    the low-resolution input with kernel taps summed from the same weights, done as one
    convolution with 4x the filters and a depth-to-space. For the 5x5 kernels of the
    generator that is 3x3 taps at a quarter of the positions: about 2.8x fewer
    multiply-adds. Its variables (``kernel`` of shape (k, k, in, out), ``bias``) are
    those of the plain ``Conv2D``, so weights load either way.
    """

    def call(self, inputs):
        k = self.kernel_size[0]
        taps = tf.constant(_phase_taps(k))                                  # (2, r, k)
        small = tf.einsum("arh,bsw,hwio->rsiabo", taps, taps, self.kernel)  # (r, r, in, 2, 2, out)
        r = taps.shape[1]
        small = tf.reshape(small, (r, r, self.kernel.shape[2], 4 * self.filters))
        y = tf.nn.conv2d(inputs, small, strides=1, padding="SAME")          # (N, h, w, 4*out)
        y = tf.nn.depth_to_space(y, 2)                                      # (N, 2h, 2w, out)
        y = tf.nn.bias_add(y, self.bias)
        return self.activation(y)

    def compute_output_shape(self, input_shape):
        n, h, w, _ = tf.TensorShape(input_shape).as_list()
        return tf.TensorShape([n, None if h is None else 2 * h, None if w is None else 2 * w, self.filters])


def _upsample_conv(x, filters: int, kernel_size: int, activation: str, name: str, fused: bool):
    """UpSampling2D(2) then a 'same' Conv2D named ``name``; ``fused`` computes the
    same thing with :class:`UpsampledConv2D`."""
    if fused:
        return UpsampledConv2D(filters, kernel_size=(kernel_size, kernel_size), activation=activation,
                               padding="same", name=name)(x)
    x = UpSampling2D(size=(2, 2))(x)
    return Conv2D(filters, kernel_size=(kernel_size, kernel_size), activation=activation, padding="same",
                  name=name)(x)


def build_generator(z, labels=None, settings: Settings = Settings(), scope: str = GENERATOR_SCOPE):
    """G(z, label) -> image.

    ``z``: Keras input of shape (None, latent_dim); ``labels``: one-hot (None, num_classes)
    or None. Returns a ``tf_keras.Model`` whose output is (None, 28, 28, 1) in [0, 1].
    """
    inputs = [z] if labels is None else [z, labels]
    rate = settings.dropout_rate
    fused = settings.fused_upsampling
    # Layers with variables carry the names Keras gave them in the article's graph,
    # so variable names (generator/conv2d/kernel, ...) are the same on either path.
    with tf.compat.v1.variable_scope(scope):
        x = z if labels is None else concatenate([z, labels])
        x = Dense(7 * 7 * 64, activation="relu", name="dense")(x)
        x = Dropout(rate)(x)
        x = Reshape((7, 7, 64))(x)

        x = _upsample_conv(x, 64, 5, "relu", "conv2d", fused)                      # (14, 14, 64)
        x = Dropout(rate)(x)

        x = Conv2D(32, kernel_size=(3, 3), activation="relu", padding="same", name="conv2d_1")(x)
        x = Dropout(rate)(x)

        generated = _upsample_conv(x, 1, 5, "sigmoid", "conv2d_2", fused)          # (28, 28, 1)
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
        x = Conv2D(128, kernel_size=(7, 7), strides=(2, 2), padding="same", name="conv2d_3")(img)  # (14, 14, 128)
        if labels is not None:
            x = add_units_to_conv2d(x, labels)                                     # (14, 14, 138)
        x = LeakyReLU()(x)
        x = Dropout(rate)(x)
        x = MaxPool2D((2, 2), padding="same")(x)                                   # (7, 7, ...)

        x = Conv2D(128, kernel_size=(3, 3), padding="same", name="conv2d_4")(x)
        x = LeakyReLU()(x)
        x = Dropout(rate)(x)

        h = Flatten()(x)
        d = Dense(1, activation="sigmoid", name="dense_1")(h)
    return tf_keras.Model(inputs, d, name="Discriminator")
