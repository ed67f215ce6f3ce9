"""The article's GAN in today's idiom: Keras 3 models, eager TensorFlow, a ``tf.GradientTape``
step under ``tf.function`` per network. No ``tf.compat.v1``. The same layers, losses,
optimizers and k-step loop as the article's TF1 graph (:mod:`cgan.graph`); what replaces what:

=============================================  =================================================
TF1 (the article, :mod:`cgan.graph`)            Keras 3 (here)
=============================================  =================================================
``tf.Session()``, ``K.set_session(sess)``       none: eager TensorFlow, ``tf.function`` per step
placeholders in ``Input(tensor=...)``           ``keras.Input``; the steps take arrays
``variable_scope`` + ``get_collection(scope)``  ``model.trainable_variables``
``K.learning_phase()`` fed 1 / 0                ``training=True`` / ``False``
``RMSPropOptimizer(lr).minimize(loss, var_list)``  :class:`ArticleRMSprop` + ``tape.gradient``
=============================================  =================================================

Keras 3's ``RMSprop`` is not TF1's: its mean square starts at 0 and its epsilon (1e-7) is
larger. :class:`ArticleRMSprop` starts it at 1 with epsilon 1e-10, as
``tf.compat.v1.train.RMSPropOptimizer`` did, so the updates are the article's (a test checks
steps of both against each other). :class:`KerasGAN` has :class:`cgan.GANGraph`'s step and
drawing methods, so :class:`cgan.Trainer`, the run folder, the manifolds and the study use it
as they use the graph (``Settings(idiom="keras3")``). Its generator's weights are the TF1
generator's, in the same order, so its ``generator.npz`` loads into the TF1 graph
(``cgan.load_generator(path=...)``).
"""
from __future__ import annotations

import contextlib
import os
import warnings
from pathlib import Path
from typing import Any, Iterator, NamedTuple

import numpy as np

from ._tf import tf
import keras  # noqa: E402  (after cgan._tf: TensorFlow first, quietly)
from keras import layers  # noqa: E402

from . import checks
from .data import as_one_hot
from .randomstate import seeded_globals
from .settings import Settings

EPS = 1e-10         # keeps log() finite, as in the article
STATE_FILE = "keras3.npz"  # a checkpoint's networks and optimizer slots (KerasGAN.save)


# -- the models ----------------------------------------------------------------------------
def _seeds(seeds, n: int) -> list:
    if not isinstance(seeds, (tuple, list)) or len(seeds) != n or not all(
            s is None or (isinstance(s, int) and not isinstance(s, bool)) for s in seeds):
        raise ValueError(f"seeds must be {n} integers or None (one a Dropout layer), got {seeds!r}")
    return list(seeds)


def build_generator(settings: Settings = Settings(), seeds=(None, None, None)) -> keras.Model:
    """G(z, label) -> image, (None, 28, 28, 1) in [0, 1]: the article's layers (labels left
    out for the plain GAN). ``seeds``: the three Dropout layers' seeds."""
    seeds = _seeds(seeds, 3)
    rate = settings.dropout_rate
    z = keras.Input((settings.latent_dim,), name="z")
    lbl = keras.Input((settings.num_classes,), name="labels")
    x = layers.Concatenate()([z, lbl]) if settings.conditional else z
    x = layers.Dense(7 * 7 * 64, activation="relu", name="dense")(x)
    x = layers.Dropout(rate, seed=seeds[0])(x)
    x = layers.Reshape((7, 7, 64))(x)
    x = layers.UpSampling2D(size=(2, 2))(x)
    x = layers.Conv2D(64, kernel_size=(5, 5), activation="relu", padding="same", name="conv2d")(x)
    x = layers.Dropout(rate, seed=seeds[1])(x)
    x = layers.Conv2D(32, kernel_size=(3, 3), activation="relu", padding="same", name="conv2d_1")(x)
    x = layers.Dropout(rate, seed=seeds[2])(x)
    x = layers.UpSampling2D(size=(2, 2))(x)
    out = layers.Conv2D(1, kernel_size=(5, 5), activation="sigmoid", padding="same", name="conv2d_2")(x)
    return keras.Model([z, lbl] if settings.conditional else z, out, name="generator")


def add_units_to_conv2d(conv2, units):
    """The label one-hot ``units`` (None, c) tiled over the maps ``conv2`` (None, h, w, f) and
    concatenated to them: (None, h, w, f + c)."""
    h, w, c = conv2.shape[1], conv2.shape[2], units.shape[1]
    tiled = layers.Reshape((h, w, c))(layers.RepeatVector(h * w)(units))
    return layers.Concatenate()([conv2, tiled])


def build_discriminator(settings: Settings = Settings(), seeds=(None, None)) -> keras.Model:
    """D(image, label) -> the probability that the image is real, (None, 1): the article's
    layers (labels left out for the plain GAN). ``seeds``: the two Dropout layers' seeds."""
    seeds = _seeds(seeds, 2)
    rate = settings.dropout_rate
    img = keras.Input((28, 28, 1), name="image")
    lbl = keras.Input((settings.num_classes,), name="labels")
    x = layers.Conv2D(128, kernel_size=(7, 7), strides=(2, 2), padding="same", name="conv2d_3")(img)
    if settings.conditional:
        x = add_units_to_conv2d(x, lbl)
    x = layers.LeakyReLU(negative_slope=0.3)(x)  # tf_keras's default slope, as the article's LeakyReLU()
    x = layers.Dropout(rate, seed=seeds[0])(x)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.Conv2D(128, kernel_size=(3, 3), padding="same", name="conv2d_4")(x)
    x = layers.LeakyReLU(negative_slope=0.3)(x)
    x = layers.Dropout(rate, seed=seeds[1])(x)
    d = layers.Dense(1, activation="sigmoid", name="dense_1")(layers.Flatten()(x))
    return keras.Model([img, lbl] if settings.conditional else img, d, name="discriminator")


# -- the optimizer -------------------------------------------------------------------------
class ArticleRMSprop(keras.optimizers.RMSprop):
    """``tf.compat.v1.train.RMSPropOptimizer(learning_rate)`` in Keras 3: decay 0.9, no
    momentum, epsilon 1e-10 and the mean square of the gradients starting at 1 (Keras 3's
    ``RMSprop`` starts it at 0, with epsilon 1e-7: larger first steps)."""

    def __init__(self, learning_rate: float, **kwargs):
        super().__init__(learning_rate, rho=0.9, momentum=0.0, epsilon=1e-10, centered=False, **kwargs)

    def build(self, var_list):
        # RMSprop.build with the mean squares made with ones as their initial value (an assign after
        # RMSprop.build would be lost where the optimizer is built lazily inside a tf.function)
        if self.built:
            return
        keras.optimizers.Optimizer.build(self, var_list)
        self._velocities = self.add_optimizer_variables(var_list, "velocity", initializer="ones")
        self._momentums, self._average_gradients = [], []


# -- the losses ----------------------------------------------------------------------------
class Losses(NamedTuple):
    log_dis_img: Any    # mean -log D(x)
    log_dis_gen_z: Any  # mean -log(1 - D(G(z)))
    L_gen: Any          # -log_dis_gen_z
    L_dis: Any          # (log_dis_gen_z + log_dis_img) / 2


def losses(generator, discriminator, image, labels, z, training: bool = True) -> Losses:
    """The article's losses for a batch (``labels=None`` for the plain GAN)."""
    cond = labels is not None
    generated = generator([z, labels] if cond else z, training=training)
    discr_img = discriminator([image, labels] if cond else image, training=training)
    discr_gen_z = discriminator([generated, labels] if cond else generated, training=training)
    log_dis_img = tf.reduce_mean(-tf.math.log(discr_img + EPS))
    log_dis_gen_z = tf.reduce_mean(-tf.math.log(1. - discr_gen_z + EPS))
    return Losses(log_dis_img, log_dis_gen_z, -log_dis_gen_z, 0.5 * (log_dis_gen_z + log_dis_img))


def train_step(generator, discriminator, model, optimizer, loss: str, training: bool = True):
    """One update of ``model``'s weights down ``loss`` ("L_dis" or "L_gen") by ``optimizer``,
    as a ``tf.function`` of ``(image, labels, z)`` that returns the four losses as computed
    before the update (the TF1 step's ``sess.run([L_dis, ..., train_op])``)."""
    if loss not in ("L_dis", "L_gen"):
        raise ValueError(f"loss={loss!r} is invalid; accepted: 'L_dis' (the discriminator's) or 'L_gen'")

    @tf.function
    def step(image, labels, z):
        with tf.GradientTape() as tape:
            terms = losses(generator, discriminator, image, labels, z, training)
        variables = model.trainable_variables
        optimizer.apply_gradients(zip(tape.gradient(getattr(terms, loss), variables), variables))
        return terms
    return step


@contextlib.contextmanager
def remapper_off() -> Iterator[None]:
    """Grappler's remapper off for the block, then TensorFlow's optimizer options back as they
    were. The remapper fails on the discriminator's gradient graph (a TensorFlow bug: "remapper
    failed: ... fanout 'LeakyReluGrad' exist for missing node 'BiasAdd'", printed at each new
    step function) and then leaves that graph as it was; the TF1 graph turns it off too
    (:func:`cgan.graph.session_config`)."""
    from tensorflow.python.eager import context

    ctx = context.context()
    before = dict(ctx._optimizer_experimental_options)  # tf.config.optimizer has no way to unset an option
    tf.config.optimizer.set_experimental_options({"remapping": False})
    try:
        yield
    finally:
        ctx._optimizer_experimental_options.clear()
        ctx.set_optimizer_experimental_options(before)


def use_threads(threads: int) -> None:
    """Run TensorFlow's ops on ``threads`` threads: its thread pools are the process's, and can be
    set only before TensorFlow's first op; after that, a warning says they stay as they are."""
    checks.integer("threads", threads, 1)
    pools = tf.config.threading
    if (pools.get_intra_op_parallelism_threads(), pools.get_inter_op_parallelism_threads()) == (threads, threads):
        return
    try:
        pools.set_intra_op_parallelism_threads(threads)
        pools.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        warnings.warn(f"threads={threads} not applied: TensorFlow has run ops in this process already, and its "
                      "thread pools are fixed from then on (set threads in a new process)", RuntimeWarning,
                      stacklevel=3)


# -- the whole GAN, with GANGraph's interface ----------------------------------------------
class KerasGAN:
    """Both models, both optimizers and both steps, for ``settings`` with ``idiom="keras3"``;
    :class:`cgan.GANGraph`'s step and drawing methods:
    ``step_d`` / ``step_g`` (one update, dropout on; return L_dis, keep the terms in
    ``last_terms``), ``generate`` (dropout off), the generator's ``weights``, and
    ``save`` / ``restore`` of everything a checkpoint holds. With ``settings.seed`` the weights
    and dropout masks are repeatable; ``settings.threads`` sets TensorFlow's thread pools
    (:func:`use_threads`)."""

    def __init__(self, settings: Settings = Settings()):
        if not isinstance(settings, Settings) or settings.idiom != "keras3":
            raise ValueError("KerasGAN trains cgan.Settings with idiom='keras3' (settings.replace(idiom='keras3')), "
                             f"got {settings!r}"[:300])
        self.settings = settings
        self.last_terms: dict[str, float] = {}
        if settings.threads:
            use_threads(settings.threads)
        seeds = [int(s) for s in np.random.SeedSequence(settings.seed).generate_state(5)]
        with seeded_globals(settings.seed):  # Keras 3 draws initializer seeds from Python's random
            self.generator = build_generator(settings, seeds[:3])
            self.discrim = build_discriminator(settings, seeds[3:])
        self.optimizer_gen, self.optimizer_dis = ArticleRMSprop(settings.lr_gen), ArticleRMSprop(settings.lr_dis)
        self.optimizer_gen.build(self.generator.trainable_variables)
        self.optimizer_dis.build(self.discrim.trainable_variables)
        parts = self.generator, self.discrim
        self._step_dis = train_step(*parts, self.discrim, self.optimizer_dis, "L_dis")
        self._step_gen = train_step(*parts, self.generator, self.optimizer_gen, "L_gen")

    @property
    def weights(self) -> list:
        """The generator's weights (kernels and biases, in the TF1 generator's order)."""
        return self.generator.trainable_variables

    def _step(self, step, image, label, zp) -> float:
        with remapper_off():
            terms = step(tf.constant(image, tf.float32), None if label is None or not self.settings.conditional
                         else tf.constant(label, tf.float32), tf.constant(zp, tf.float32))
        self.last_terms = {"log_dis_img": float(terms.log_dis_img), "log_dis_gen_z": float(terms.log_dis_gen_z),
                           "L_gen": float(terms.L_gen)}
        return float(terms.L_dis)

    def step_d(self, image: np.ndarray, label: np.ndarray, zp: np.ndarray) -> float:
        """One discriminator step; returns L_dis."""
        return self._step(self._step_dis, image, label, zp)

    def step_g(self, image: np.ndarray, label: np.ndarray, zp: np.ndarray) -> float:
        """One generator step; returns L_dis."""
        return self._step(self._step_gen, image, label, zp)

    def generate(self, z: Any, labels: Any = None, batch_size: int = 4096) -> np.ndarray:
        """Images G(z, labels), float32 (N, 28, 28, 1) in [0, 1], dropout off (as
        :meth:`cgan.GANGraph.generate`)."""
        z = checks.latent("z", z, self.settings.latent_dim)
        checks.integer("batch_size", batch_size, 1)
        if self.settings.conditional:
            if labels is None:
                raise ValueError("labels are required by the conditional generator")
            onehot = as_one_hot(labels, len(z), self.settings.num_classes)
        elif labels is not None:
            raise ValueError("the unconditional generator takes no labels; pass labels=None")
        out = []
        for start in range(0, len(z), batch_size):
            part = z[start:start + batch_size]
            inputs = [part, onehot[start:start + batch_size]] if self.settings.conditional else part
            out.append(np.asarray(self.generator(inputs, training=False)))
        return np.concatenate(out) if out else np.zeros((0, 28, 28, 1), "float32")

    # -- checkpoints -----------------------------------------------------------------------
    def _variables(self) -> list:
        """Everything a checkpoint holds: both models' variables (with the dropout layers'
        seed states) and both optimizers' (step counts, learning rates and mean squares)."""
        return [*self.generator.variables, *self.discrim.variables,
                *self.optimizer_gen.variables, *self.optimizer_dis.variables]

    def generator_values(self) -> list[np.ndarray]:
        """The generator's weights as arrays."""
        return [np.asarray(v) for v in self.weights]

    def save(self, folder: str | os.PathLike) -> None:
        """Write every variable into ``folder/keras3.npz``."""
        np.savez(Path(folder) / STATE_FILE, **{f"{i:04d}": np.asarray(v) for i, v in enumerate(self._variables())})

    def restore(self, folder: str | os.PathLike) -> None:
        """Load the variables :meth:`save` wrote into ``folder``."""
        variables = self._variables()
        with np.load(Path(folder) / STATE_FILE) as npz:
            values = [npz[f"{i:04d}"] for i in range(len(npz.files))]
        expected = [(tuple(v.shape), np.dtype(v.dtype).str) for v in variables]
        held = [(v.shape, v.dtype.str) for v in values]
        if held != expected:
            i = next((i for i, (h, e) in enumerate(zip(held, expected)) if h != e), min(len(held), len(expected)))
            first = (f"variable {i} is {held[i]} (shape, type), expected {expected[i]}"
                     if i < min(len(held), len(expected)) else "the rest match")
            raise ValueError(f"{Path(folder) / STATE_FILE} holds {len(held)} variables, this KerasGAN has "
                             f"{len(expected)}; {first}: a checkpoint of other settings")
        for variable, value in zip(variables, values):
            variable.assign(value)

    def close(self) -> None:
        """Nothing to close (no session): :class:`cgan.Trainer` calls it as for a graph."""
