"""The article's generator and discriminator, as Keras 2 (tf_keras) models.

Both are plain functions of ``(inputs, labels)``; pass ``labels=None`` for the
unconditional GAN. Each builds its layers under the variable scope the article
uses (``generator`` / ``discrim``), so the optimizers can take their variables by
scope. They work on placeholders wrapped in ``Input(tensor=...)`` (the article's
TF1 graph) as well as on ordinary Keras inputs.
"""
from __future__ import annotations

import contextlib
import weakref

import numpy as np
from ._tf import tf
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


def draw_dropout_seed(rng: np.random.Generator) -> np.ndarray:
    """The next value to feed to :func:`dropout_seed`, drawn from a run's own generator:
    the one place both the package's loop and the notebook's draw it."""
    return rng.integers(0, 2**62, size=2)


class Dropout(tf_keras.layers.Dropout):
    """Keras's ``Dropout`` (same rate, same scaling, active only in the training
    phase) whose random mask is drawn from the fed :func:`dropout_seed` rather than
    from a stateful random op. The masks are then a function of numbers the
    training loop draws from its own saved generator, so a run resumed from a
    checkpoint, or repeated with the same seed, draws exactly the same masks.
    Every call of every layer folds in its own index, so masks never repeat
    between layers or between D's calls on real and generated images.

    ``mask_bits=32`` (the default) decides each unit from one 32-bit draw, turned into a
    float32 uniform in [0, 1) as Keras does. ``mask_bits=16`` decides each unit from 16
    random bits, which halves the random numbers to generate (the costliest part of
    dropout on a CPU), but the rate becomes ``round(rate * 65536) / 65536``: 0.3000031
    for the article's 0.3. That changes the numerics, so it is an option
    (``Settings.dropout_mask_bits``), off by default.
    """

    def __init__(self, rate, mask_bits: int = 32, **kwargs):
        super().__init__(rate, **kwargs)
        if mask_bits not in (16, 32):
            raise ValueError(f"mask_bits={mask_bits!r} is invalid; accepted: 16 or 32")
        self.mask_bits = mask_bits

    def _keep(self, shape, seed):
        if self.mask_bits == 32:
            return tf.random.stateless_uniform(shape, seed=seed) >= self.rate
        n = tf.reduce_prod(shape)
        bits = tf.random.stateless_uniform([(n + 1) // 2], seed=seed, minval=None, maxval=None, dtype=tf.uint32)
        halves = tf.reshape(tf.bitcast(bits, tf.uint16), [-1])[:n]
        return tf.reshape(halves >= int(round(self.rate * 65536)), shape)

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
            # keep with probability 1 - rate, scaled by 1 / (1 - rate); a multiplication by the
            # mask back-propagates as one more (no zeros_like/select pairs as with tf.where)
            keep = self._keep(tf.shape(inputs), call_seed)
            return inputs * (tf.cast(keep, inputs.dtype) * (1.0 / (1.0 - self.rate)))

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


def _stride2_taps(kernel_size: int) -> tuple[np.ndarray, int, int]:
    """M[j, p, t] = 1 where tap t of a 'same' stride-2 convolution on an even-sized input
    reads pixel 2 * (i + j - before) + p of output position i; ``before`` / ``after``:
    the zero padding of the equivalent stride-1 convolution on the space-to-depth input."""
    pad = max(kernel_size - 2, 0) // 2  # TF's 'same' padding in front, for stride 2 on an even size
    lo, hi = (-pad) // 2, (kernel_size - 1 - pad) // 2
    m = np.zeros((hi - lo + 1, 2, kernel_size), "float32")
    for j in range(hi - lo + 1):
        for p in range(2):
            t = 2 * (j + lo) + p + pad
            if 0 <= t < kernel_size:
                m[j, p, t] = 1.0
    return m, -lo, hi


class Stride2Conv2D(Conv2D):
    """A 'same' ``Conv2D`` with stride 2 whose gradient with respect to its input is
    computed as the gradient of the equivalent stride-1 convolution on the
    space-to-depth input (kernel taps rearranged from the same weights, plus zeros).

    The forward pass and the kernel's gradient are TensorFlow's own ops, unchanged;
    only the input gradient, which the generator's step back-propagates through D's
    first layer, takes the other route: with one input channel TensorFlow's strided
    ``Conv2DBackpropInput`` runs at a small fraction of the CPU's speed. Same math,
    float-close results; same variables as the plain ``Conv2D``.

    ``input_grad``: "transpose" (fastest in fp32) or "conv" (fastest under oneDNN's
    bfloat16 rewrite); the two compute the same thing.
    """

    def __init__(self, *args, input_grad: str = "transpose", **kwargs):
        super().__init__(*args, **kwargs)
        if input_grad not in _STRIDE2_GRADS:
            raise ValueError(f"input_grad={input_grad!r} is invalid; accepted: {sorted(_STRIDE2_GRADS)}")
        self.input_grad = input_grad

    def call(self, inputs):
        h, w = inputs.shape[1], inputs.shape[2]
        plain = (self.strides != (2, 2) or self.padding != "same" or self.data_format != "channels_last"
                 or self.dilation_rate != (1, 1) or h is None or w is None or h % 2 or w % 2
                 or self.kernel_size[0] != self.kernel_size[1])
        if plain:
            return super().call(inputs)
        # TensorFlow's own Conv2D op; only the function that builds its gradient is ours
        grad = _STRIDE2_GRADS[self.input_grad]
        with tf.compat.v1.get_default_graph().gradient_override_map({"Conv2D": grad}):
            y = tf.nn.conv2d(inputs, self.kernel, strides=2, padding="SAME")
        if self.use_bias:
            y = tf.nn.bias_add(y, self.bias)
        return self.activation(y) if self.activation is not None else y


def _stride2_input_grad(op, dy, transpose: bool):
    """Gradients of a 'same' stride-2 Conv2D on an even-sized NHWC input: the kernel's as
    TensorFlow computes it; the input's as the gradient of the equivalent stride-1
    convolution of the space-to-depth input (see :class:`Stride2Conv2D`), done as a
    ``conv2d_transpose`` (fastest in fp32) or as a convolution of the padded output
    gradient with the flipped kernel (which oneDNN's bfloat16 rewrite runs fast)."""
    x, kernel = op.inputs
    taps, before, after = _stride2_taps(int(kernel.shape[0]))
    n = taps.shape[0]
    t = tf.constant(taps)
    small = tf.einsum("jpt,kqu,tuio->jkpqio", t, t, kernel)              # (n, n, 2, 2, in, out)
    small = tf.reshape(small, (n, n, 4 * kernel.shape[2], kernel.shape[3]))
    if transpose:
        shape = tf.shape(x)
        s2d_shape = tf.stack([shape[0], shape[1] // 2, shape[2] // 2, 4 * shape[3]])
        padding = [[0, 0], [before, after], [before, after], [0, 0]]
        dx = tf.nn.conv2d_transpose(dy, small, s2d_shape, strides=1, padding=padding)
    else:
        flipped = tf.transpose(tf.reverse(small, [0, 1]), [0, 1, 3, 2])
        pads = [[0, 0], [n - 1 - before, n - 1 - after], [n - 1 - before, n - 1 - after], [0, 0]]
        dx = tf.nn.conv2d(tf.pad(dy, pads), flipped, strides=1, padding="VALID")
    dkernel = tf.compat.v1.nn.conv2d_backprop_filter(x, tf.shape(kernel), dy, [1, 2, 2, 1], "SAME")
    return tf.nn.depth_to_space(dx, 2), dkernel


_STRIDE2_GRADS = {"transpose": "CganStride2Conv2DGradTranspose", "conv": "CganStride2Conv2DGradConv"}
for _route, _name in _STRIDE2_GRADS.items():
    try:
        tf.RegisterGradient(_name)(lambda op, dy, transpose=_route == "transpose":
                                   _stride2_input_grad(op, dy, transpose))
    except KeyError:  # registered already (the module was reloaded)
        pass


def _upsample_conv(x, filters: int, kernel_size: int, activation: str, name: str, fused: bool):
    """UpSampling2D(2) then a 'same' Conv2D named ``name``; ``fused`` computes the
    same thing with :class:`UpsampledConv2D`."""
    if fused:
        return UpsampledConv2D(filters, kernel_size=(kernel_size, kernel_size), activation=activation,
                               padding="same", name=name)(x)
    x = UpSampling2D(size=(2, 2))(x)
    return Conv2D(filters, kernel_size=(kernel_size, kernel_size), activation=activation, padding="same",
                  name=name)(x)


def _scope(scope: str | None):
    return tf.compat.v1.variable_scope(scope) if scope else contextlib.nullcontext()


def build_generator(z, labels=None, settings: Settings = Settings(), scope: str | None = GENERATOR_SCOPE):
    """G(z, label) -> image.

    ``z``: Keras input of shape (None, latent_dim); ``labels``: one-hot (None, num_classes)
    or None. Returns a ``tf_keras.Model`` whose output is (None, 28, 28, 1) in [0, 1].
    Its layers are built under ``tf.compat.v1.variable_scope(scope)``; ``scope=None``
    enters none, for code that opens the scope itself (the notebook).
    """
    inputs = [z] if labels is None else [z, labels]
    rate, bits = settings.dropout_rate, settings.dropout_mask_bits
    fused = settings.fused_upsampling
    # Layers with variables carry the names Keras gave them in the article's graph,
    # so variable names (generator/conv2d/kernel, ...) are the same on either path.
    with _scope(scope):
        x = z if labels is None else concatenate([z, labels])
        x = Dense(7 * 7 * 64, activation="relu", name="dense")(x)
        x = Dropout(rate, bits)(x)
        x = Reshape((7, 7, 64))(x)

        x = _upsample_conv(x, 64, 5, "relu", "conv2d", fused)                      # (14, 14, 64)
        x = Dropout(rate, bits)(x)

        x = Conv2D(32, kernel_size=(3, 3), activation="relu", padding="same", name="conv2d_1")(x)
        x = Dropout(rate, bits)(x)

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


def build_discriminator(img, labels=None, settings: Settings = Settings(),
                        scope: str | None = DISCRIMINATOR_SCOPE):
    """D(image, label) -> probability that the image is real.

    ``img``: Keras input (None, 28, 28, 1) in [0, 1]; ``labels``: one-hot (None, num_classes)
    or None. Returns a ``tf_keras.Model`` whose output is (None, 1) in (0, 1).
    Its layers are built under ``tf.compat.v1.variable_scope(scope)`` (none if ``scope=None``).
    """
    inputs = [img] if labels is None else [img, labels]
    rate, bits = settings.dropout_rate, settings.dropout_mask_bits
    with _scope(scope):
        conv = dict(kernel_size=(7, 7), strides=(2, 2), padding="same", name="conv2d_3")
        if settings.fast_stride2_grad:
            grad = "transpose" if settings.precision == "fp32" else "conv"
            x = Stride2Conv2D(128, input_grad=grad, **conv)(img)                  # (14, 14, 128)
        else:
            x = Conv2D(128, **conv)(img)
        if labels is not None:
            x = add_units_to_conv2d(x, labels)                                     # (14, 14, 138)
        x = LeakyReLU()(x)
        x = Dropout(rate, bits)(x)
        x = MaxPool2D((2, 2), padding="same")(x)                                   # (7, 7, ...)

        x = Conv2D(128, kernel_size=(3, 3), padding="same", name="conv2d_4")(x)
        x = LeakyReLU()(x)
        x = Dropout(rate, bits)(x)

        h = Flatten()(x)
        d = Dense(1, activation="sigmoid", name="dense_1")(h)
    return tf_keras.Model(inputs, d, name="Discriminator")
