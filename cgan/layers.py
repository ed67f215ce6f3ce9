"""Our layers: exact rewrites of the article's (the same math, faster on a CPU) and the
seeded dropout (the same rate and scaling, repeatable), swapped in for the article's layers by
:func:`article_layers` according to the settings. :mod:`cgan.networks` builds the article's
models with the layers it returns, so the models read like the article's cell.

- :class:`Dropout`: Keras's dropout, its masks drawn from a seed fed at every step
  (:func:`dropout_seed`), so a resumed or repeated run draws the same masks.
- :class:`UpsampledConv2D`: ``UpSampling2D(2)`` then a 'same' ``Conv2D`` as one smaller
  convolution (``Settings.fused_upsampling``).
- :class:`Stride2Conv2D`: a stride-2 ``Conv2D`` whose input gradient goes through
  space-to-depth (``Settings.fast_stride2_grad``).
"""
from __future__ import annotations

import weakref
from typing import Callable, NamedTuple

import numpy as np
from ._tf import tf
import tf_keras
from tf_keras.layers import Conv2D, UpSampling2D

from .settings import Settings

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


class _Upsampled(NamedTuple):
    """What ``UpSampling2D(2)`` gives when the next ``Conv2D`` fuses with it: the input, not
    yet upsampled."""

    x: object


class ArticleLayers(NamedTuple):
    """The article's ``Dropout``, ``UpSampling2D`` and ``Conv2D``, as the settings build them."""

    Dropout: Callable
    UpSampling2D: Callable
    Conv2D: Callable


def article_layers(settings: Settings = Settings()) -> ArticleLayers:
    """The layers :mod:`cgan.networks` builds the article's models with: our seeded
    :class:`Dropout` (``settings.dropout_mask_bits``); the article's ``UpSampling2D`` and
    ``Conv2D``, or with ``settings.fused_upsampling`` an ``UpSampling2D(2)`` whose following
    ``Conv2D`` computes both as one :class:`UpsampledConv2D`, and with
    ``settings.fast_stride2_grad`` a stride-2 ``Conv2D`` as :class:`Stride2Conv2D`. Every
    choice computes the article's math; layers with weights keep the name given."""
    def dropout(rate):
        return Dropout(rate, settings.dropout_mask_bits)

    def upsampling(size=(2, 2)):
        if not settings.fused_upsampling:
            return UpSampling2D(size=size)
        if tuple(size) != (2, 2):
            raise ValueError(f"the fused upsampling takes size=(2, 2), got {size!r}")
        return _Upsampled

    def conv(filters, kernel_size, strides=(1, 1), **kwargs):
        strides = (strides, strides) if isinstance(strides, int) else tuple(strides)

        def apply(x):
            if isinstance(x, _Upsampled):
                if strides != (1, 1):
                    raise ValueError(f"a Conv2D after the fused UpSampling2D takes strides=(1, 1), got {strides}")
                return UpsampledConv2D(filters, kernel_size=kernel_size, **kwargs)(x.x)
            if strides == (2, 2) and settings.fast_stride2_grad:
                grad = "transpose" if settings.precision == "fp32" else "conv"
                return Stride2Conv2D(filters, kernel_size=kernel_size, strides=strides, input_grad=grad, **kwargs)(x)
            return Conv2D(filters, kernel_size=kernel_size, strides=strides, **kwargs)(x)
        return apply

    return ArticleLayers(dropout, upsampling, conv)
