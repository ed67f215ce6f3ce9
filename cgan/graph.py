"""The article's TF1 graph: a session registered with Keras, placeholders as Keras
inputs, the models called on them, the losses, and one RMSProp optimizer per
network on the variables of its scope.

Importing it changes nothing global: every graph lives in its own ``tf.Graph``
with its own session, built inside ``with graph.as_default():``, so TensorFlow's
eager mode stays on for the rest of the process, and the article's TF1 code
(placeholders, ``Input(tensor=...)``, variable scopes, ``tf.compat.v1`` optimizers,
the learning-phase feed) runs in that graph. Building a :class:`GANGraph` leaves
Python's and numpy's global random generators and the v1 Keras session as they were.
"""
from __future__ import annotations

import contextlib
import os
import random
import sys
import warnings
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from ._tf import tf, without_tf_message
import tf_keras  # noqa: E402  (after cgan._tf: TensorFlow first, quietly)
# Keras 2's v1 backend (set_session, learning_phase): tf_keras publishes it only under this path, and
# tf.compat.v1.keras is Keras 3, which has neither.
from tf_keras.api._v1.keras import backend as K  # noqa: E402

from .averaging import key as average_key
from .layers import draw_dropout_seed, dropout_seed
from .networks import DISCRIMINATOR_SCOPE, GENERATOR_SCOPE, build_discriminator, build_generator
from . import checks
from .cpu import cpu_flags
from .data import as_one_hot
from .randomstate import seeded_globals
from .settings import Settings
from .weightfile import (WEIGHTS_DIR, assign_values, average_group, read_weights,  # noqa: F401 (WEIGHTS_DIR: a name of cgan.graph)
                         shipped_generator_path, write_weights)

EPS = 1e-10  # keeps log() finite, as in the article


def session_config(settings: Settings = Settings()) -> tf.compat.v1.ConfigProto:
    """The session options cgan trains with: thread counts, grappler's rewrites and the opt-in precision."""
    config = tf.compat.v1.ConfigProto(intra_op_parallelism_threads=settings.threads,
                                      inter_op_parallelism_threads=settings.threads)
    rewrite = config.graph_options.rewrite_options
    on = type(rewrite).ON  # RewriterConfig.ON
    # Grappler's remapper fails on the discriminator's gradient graph ("remapper failed: ... fanout
    # 'LeakyRelu_grad/LeakyReluGrad' exist for missing node 'conv2d_4/BiasAdd'", a TensorFlow bug) and
    # prints that error on every run. Off, the steps were measured to run as fast; the math is the same.
    rewrite.remapping = type(rewrite).OFF
    if settings.precision == "bf16":
        rewrite.auto_mixed_precision_onednn_bfloat16 = on
        flags = cpu_flags()
        if flags and not flags & {"avx512_bf16", "amx_bf16"}:
            warnings.warn("precision='bf16' on a CPU without AVX512_BF16 or AMX: oneDNN emulates bfloat16 there, "
                          "which is usually slower than fp32", RuntimeWarning, stacklevel=3)
    elif settings.precision == "fp16":
        rewrite.auto_mixed_precision = on
    return config


def seed_everything(seed: int | None) -> None:
    """For a repeatable run in your own code (the notebook's cells call it): seed Python's
    ``random`` (Keras draws initializer seeds from it), numpy's global generator and the
    default graph's TensorFlow seed, and turn on TensorFlow's op determinism. All of these
    are process-wide and stay so. ``None`` does nothing (a fresh random run).
    The package's own runs do not call it (:class:`GANGraph`, :class:`cgan.Trainer`)."""
    if seed is None:
        return
    random.seed(seed)
    np.random.seed(seed)
    tf.compat.v1.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


_DETERMINISM = {"holders": 0, "before": False}  # seeded runs holding op determinism on, and how it was


def hold_op_determinism(hold: bool) -> None:
    """Take (``True``) or give back (``False``) a hold on TensorFlow's op determinism, which is
    process-wide: the first hold switches it on, the last one given back puts it back as it
    was before the first."""
    from tensorflow.python.framework import config  # the switch back off is not in the public API

    if hold:
        if _DETERMINISM["holders"] == 0:
            _DETERMINISM["before"] = config.is_op_determinism_enabled()
            config.enable_op_determinism()
        _DETERMINISM["holders"] += 1
        return
    _DETERMINISM["holders"] -= 1
    if _DETERMINISM["holders"] == 0 and not _DETERMINISM["before"]:
        config.disable_op_determinism()


def _keras_session():
    """The session registered with the v1 Keras backend, or None (without making one)."""
    return getattr(sys.modules["tf_keras.src.backend"]._SESSION, "session", None)


@contextlib.contextmanager
def global_state_kept(seed: int | None = None):
    """Run the block with Python's ``random`` and numpy's global generator seeded with ``seed``
    (:func:`cgan.randomstate.seeded_globals`: Keras draws its initializer seeds from them; None:
    fresh seeds from the OS, so unseeded graphs differ), then put both back as they were, and the
    v1 Keras session too."""
    keras_session = _keras_session()
    try:
        with seeded_globals(seed):
            yield
    finally:
        K.set_session(keras_session)


def make_session(settings: Settings = Settings()) -> tf.compat.v1.Session:
    """A new graph and a session on it, registered with Keras (the article's
    ``sess = tf.Session(); K.set_session(sess)``, which is process-wide), so Keras
    creates its variables there. With ``settings.seed`` the new graph gets that seed.

    Call the rest of the graph building inside ``with sess.graph.as_default():``.
    :class:`GANGraph` calls it inside :func:`global_state_kept`, which puts the Keras
    session back afterwards.
    """
    graph = tf.Graph()
    config = session_config(settings)
    with graph.as_default():
        if settings.seed is not None:
            tf.compat.v1.set_random_seed(settings.seed)
        sess = tf.compat.v1.Session(graph=graph, config=config)
        K.set_session(sess)
    return sess


class Inputs(NamedTuple):
    x_: tf.Tensor   # placeholder (None, 28, 28, 1): images in [0, 1]
    y_: tf.Tensor   # placeholder (None, num_classes): one-hot labels
    z_: tf.Tensor   # placeholder (None, latent_dim): z ~ N(0, I)
    img: Any        # the same placeholders wrapped as Keras inputs
    lbl: Any
    z: Any


def make_inputs(settings: Settings = Settings()) -> Inputs:
    """Placeholders for images, labels and z, each wrapped in ``Input(tensor=...)``."""
    x_ = tf.compat.v1.placeholder(tf.float32, shape=(None, 28, 28, 1), name="image")
    y_ = tf.compat.v1.placeholder(tf.float32, shape=(None, settings.num_classes), name="labels")
    z_ = tf.compat.v1.placeholder(tf.float32, shape=(None, settings.latent_dim), name="z")
    img = tf_keras.layers.Input(tensor=x_)
    lbl = tf_keras.layers.Input(tensor=y_)
    z = tf_keras.layers.Input(tensor=z_)
    return Inputs(x_, y_, z_, img, lbl, z)


class Losses(NamedTuple):
    log_dis_img: tf.Tensor    # mean -log D(x): D's error on real images
    log_dis_gen_z: tf.Tensor  # mean -log(1 - D(G(z))): D's error on generated images
    L_gen: tf.Tensor          # generator loss = -log_dis_gen_z
    L_dis: tf.Tensor          # discriminator loss = (log_dis_gen_z + log_dis_img) / 2


def build_losses(discr_img, discr_gen_z) -> Losses:
    """The article's losses from D's outputs on real and on generated images."""
    log_dis_img = tf.reduce_mean(-tf.math.log(discr_img + EPS))
    log_dis_gen_z = tf.reduce_mean(-tf.math.log(1. - discr_gen_z + EPS))
    L_gen = -log_dis_gen_z
    L_dis = 0.5 * (log_dis_gen_z + log_dis_img)
    return Losses(log_dis_img, log_dis_gen_z, L_gen, L_dis)


def scope_variables(scope: str) -> list:
    """The trainable variables created under ``scope``, as the article takes them."""
    return tf.compat.v1.get_collection(tf.compat.v1.GraphKeys.TRAINABLE_VARIABLES, scope)


def build_train_ops(losses: Losses, settings: Settings = Settings()):
    """One RMSProp optimizer per network, each minimising its loss over its own
    scope's variables only. Returns ``(step_gen, step_dis)``."""
    optimizer_gen = tf.compat.v1.train.RMSPropOptimizer(settings.lr_gen)
    optimizer_dis = tf.compat.v1.train.RMSPropOptimizer(settings.lr_dis)
    generator_vars = scope_variables(GENERATOR_SCOPE)
    discrim_vars = scope_variables(DISCRIMINATOR_SCOPE)
    # RMSProp's slot initializer calls a deprecated TensorFlow API inside TensorFlow itself
    with without_tf_message("calling Ones.__init__ (from tensorflow.python.ops.init_ops) with dtype is deprecated"):
        step_gen = optimizer_gen.minimize(losses.L_gen, var_list=generator_vars)
        step_dis = optimizer_dis.minimize(losses.L_dis, var_list=discrim_vars)
    return step_gen, step_dis


class GANGraph:
    """The whole article graph in one object: session, inputs, models, losses,
    train ops, and the step functions the training loop calls.

    ``step_d`` / ``step_g`` run one discriminator / generator update with the
    Keras learning phase fed 1 (dropout on) and return ``L_dis`` as computed in
    that run; ``generate`` runs G with the learning phase fed 0 (dropout off).
    The dropout masks of each step come from ``dropout_rng`` (default: seeded
    from ``settings.seed``), so a seeded run is repeatable. Building it changes no
    global state (:func:`global_state_kept`).
    """

    def __init__(self, settings: Settings = Settings(), dropout_rng: np.random.Generator | None = None):
        self.settings = settings
        self.dropout_rng = dropout_rng if dropout_rng is not None else np.random.default_rng(settings.seed)
        self.last_terms: dict[str, float] = {}  # the loss terms of the last step (for the TensorBoard log)
        with global_state_kept(settings.seed):
            self.sess = make_session(settings)
            self.graph = self.sess.graph
            self._build(settings)
        self.graph.finalize()  # nothing may add ops after this: no leaks in the hot loop

    def _build(self, settings: Settings) -> None:
        with self.graph.as_default():
            self.inputs = x_, y_, z_, img, lbl, z = make_inputs(settings)
            cond = settings.conditional
            self.generator = build_generator(z, lbl if cond else None, settings)
            self.discrim = build_discriminator(img, lbl if cond else None, settings)

            self.generated_z = self.generator([z, lbl] if cond else [z])
            self.discr_img = self.discrim([img, lbl] if cond else [img])
            self.discr_gen_z = self.discrim([self.generated_z, lbl] if cond else [self.generated_z])

            self.losses = build_losses(self.discr_img, self.discr_gen_z)
            self.step_gen, self.step_dis = build_train_ops(self.losses, settings)
            self.learning_phase = K.learning_phase()
            self.dropout_seed = dropout_seed()
            self.saver = tf.compat.v1.train.Saver(max_to_keep=None)
            self.sess.run(tf.compat.v1.global_variables_initializer())

    # -- the step functions -------------------------------------------------------
    def _feed(self, image, label, zp, phase: int) -> dict:
        feed = {self.inputs.x_: image, self.inputs.z_: zp, self.learning_phase: phase,
                self.dropout_seed: draw_dropout_seed(self.dropout_rng)}
        if self.settings.conditional:
            feed[self.inputs.y_] = label
        return feed

    def _step(self, train_op, image, label, zp) -> float:
        l_dis, log_dis_img, log_dis_gen_z, _ = self.sess.run(
            [self.losses.L_dis, self.losses.log_dis_img, self.losses.log_dis_gen_z, train_op],
            self._feed(image, label, zp, 1))
        self.last_terms = {"log_dis_img": float(log_dis_img), "log_dis_gen_z": float(log_dis_gen_z),
                           "L_gen": -float(log_dis_gen_z)}
        return float(l_dis)

    def step_d(self, image: np.ndarray, label: np.ndarray, zp: np.ndarray) -> float:
        """One discriminator step; returns L_dis (and keeps the loss terms in ``last_terms``)."""
        return self._step(self.step_dis, image, label, zp)

    def step_g(self, image: np.ndarray, label: np.ndarray, zp: np.ndarray) -> float:
        """One generator step; returns L_dis (and keeps the loss terms in ``last_terms``)."""
        return self._step(self.step_gen, image, label, zp)

    # -- drawing --------------------------------------------------------------------
    def check_z(self, z: Any) -> np.ndarray:
        return checks.latent("z", z, self.settings.latent_dim)

    def generate(self, z: Any, labels: Any = None, batch_size: int = 4096) -> np.ndarray:
        """Images G(z, labels), float32 (N, 28, 28, 1) in [0, 1], dropout off.

        ``z``: (N, latent_dim). ``labels`` (CGAN only): one integer, N integers in
        0..num_classes-1, or N one-hot rows.
        """
        z = self.check_z(z)
        checks.integer("batch_size", batch_size, 1)
        if self.settings.conditional:
            if labels is None:
                raise ValueError("labels are required by the conditional generator")
            onehot = as_one_hot(labels, len(z), self.settings.num_classes)
        elif labels is not None:
            raise ValueError("the unconditional generator takes no labels; pass labels=None")
        out = []
        for start in range(0, len(z), batch_size):
            feed = {self.inputs.z_: z[start:start + batch_size], self.learning_phase: 0}
            if self.settings.conditional:
                feed[self.inputs.y_] = onehot[start:start + batch_size]
            out.append(self.sess.run(self.generated_z, feed))
        return np.concatenate(out) if out else np.zeros((0, 28, 28, 1), "float32")

    # -- variables, saving and loading ---------------------------------------------------
    def variable_values(self, scope: str = "") -> dict[str, np.ndarray]:
        """Current values of the trainable variables under ``scope`` (all if empty)."""
        with self.graph.as_default():
            variables = scope_variables(scope) if scope else tf.compat.v1.trainable_variables()
        return dict(zip([v.name for v in variables], self.sess.run(variables)))

    def save_generator(self, path: str | os.PathLike) -> Path:
        """Write the generator's weights and settings to an ``.npz`` file (atomically)."""
        return save_generator(path, self.sess, self.generator.weights, self.settings)

    @classmethod
    def from_generator_file(cls, path: str | os.PathLike, averaged: bool | float = False) -> "GANGraph":
        """A graph whose generator holds the weights written by :meth:`save_generator` (or
        :meth:`cgan.Run.finish`). ``averaged``: ``False`` the trained weights; ``True`` the
        moving average the file holds (its first, if it holds several); a decay (``0.999``)
        that average (see :mod:`cgan.averaging`)."""
        values, weights = read_weights(path, "settings", "generator", "GANGraph.save_generator",
                                       group=average_group(path, averaged))
        graph = cls(Settings.from_dict(values))
        shapes = [tuple(v.shape) for v in graph.generator.weights]
        if [w.shape for w in weights] != shapes:
            raise ValueError(f"{path} holds weights of shapes {[w.shape for w in weights]}, expected {shapes}")
        assign_values(graph.sess, graph.generator.weights, weights)
        return graph

    def close(self) -> None:
        self.sess.close()


def save_generator(path: str | os.PathLike, sess, weights: list, settings: Settings,
                   averages: dict[float, list[np.ndarray]] | None = None) -> Path:
    """Write a generator's ``weights`` (its variables, read in ``sess``) and the run's
    ``settings`` to an ``.npz`` file (atomically), for :meth:`GANGraph.from_generator_file`;
    ``averages`` (decay -> arrays, :mod:`cgan.averaging`) are stored beside them."""
    return write_generator(path, sess.run(list(weights)), settings, averages)


def write_generator(path: str | os.PathLike, values: list[np.ndarray], settings: Settings,
                    averages: dict[float, list[np.ndarray]] | None = None) -> Path:
    """:func:`save_generator` for weights already read as arrays (``values``)."""
    groups = {average_key(d): arrays for d, arrays in (averages or {}).items()}
    return write_weights(path, values, "settings", settings.to_dict(), groups)


def load_generator(kind: str = "cgan", path: str | os.PathLike | None = None,
                   averaged: bool | float = False) -> GANGraph:
    """A trained generator: by default the one shipped with the package, trained by
    ``python -m cgan figures`` at the article's settings (``kind`` "cgan" or "gan"),
    or the ``generator.npz`` of any run (``path``). Draw with ``.generate(z, labels)``.
    ``averaged=True`` (or a decay) loads the moving average of the weights instead, where
    the file holds one (:mod:`cgan.averaging`; ours, not the article's); for the shipped
    generators that is ``<kind>_generator_averaged.npz``, from the seed study's run.
    Changes no global state.
    """
    if path is None:
        if kind not in ("cgan", "gan"):
            raise ValueError(f"kind={kind!r} is invalid; accepted: 'cgan' or 'gan'")
        path = shipped_generator_path(kind, averaged)
        if averaged is not False and not path.is_file():
            raise FileNotFoundError(f"no averaged {kind} generator ships with cgan ({path.name}); train one with "
                                    "Settings(ema_decay=...) and load it with path=..., averaged=True")
    return GANGraph.from_generator_file(path, averaged)
