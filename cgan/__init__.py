"""cgan: the Habr article "Autoencoders in Keras, Part 5: GAN and tensorflow"
(conditional GAN on MNIST, TF1 graph style) runnable on today's TensorFlow.

Importing :mod:`cgan` switches TensorFlow to graph mode, as the article's code needs.
"""
from .data import BatchIterator, gen_batch, load_data, load_mnist, one_hot, preprocess
from . import metrics
from .graph import (GANGraph, build_losses, build_train_ops, load_generator, make_inputs, make_session,
                    scope_variables)
from .manifold import draw_manifolds, grid, manifold_digits, manifold_z, plot_manifold, tile, write_gif
from .networks import add_units_to_conv2d, build_discriminator, build_generator
from .settings import ARTICLE_SAVE_PERIODS, Settings
from .train import Trainer, prepare, train

__version__ = "0.1.0"

__all__ = [
    "ARTICLE_SAVE_PERIODS", "BatchIterator", "GANGraph", "Settings", "Trainer", "add_units_to_conv2d",
    "build_discriminator", "build_generator", "build_losses", "build_train_ops", "draw_manifolds",
    "gen_batch", "grid", "load_data", "load_generator", "metrics", "load_mnist", "make_inputs", "make_session",
    "manifold_digits", "manifold_z", "one_hot", "plot_manifold", "prepare", "preprocess", "scope_variables", "tile", "train", "write_gif",
]
