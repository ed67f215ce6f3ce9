"""cgan: the Habr article "Autoencoders in Keras, Part 5: GAN and tensorflow"
(conditional GAN on MNIST, TF1 graph style) runnable on today's TensorFlow.

Importing :mod:`cgan` changes nothing global: TensorFlow's execution mode stays
as it is (eager by default), and every graph cgan builds lives in its own
``tf.Graph`` with its own session. The names below load on first use, so
``import cgan`` (and ``python -m cgan --help``) does not import TensorFlow yet.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> the submodule that defines it
_EXPORTS = {
    "BatchIterator": "data", "gen_batch": "data", "load_data": "data", "load_mnist": "data", "one_hot": "data",
    "preprocess": "data",
    "GANGraph": "graph", "build_losses": "graph", "build_train_ops": "graph", "load_generator": "graph",
    "make_inputs": "graph", "make_session": "graph", "scope_variables": "graph",
    "draw_manifolds": "manifold", "grid": "manifold", "manifold_digits": "manifold", "manifold_z": "manifold",
    "plot_manifold": "manifold", "tile": "manifold", "write_gif": "manifold",
    "add_units_to_conv2d": "networks", "build_discriminator": "networks", "build_generator": "networks",
    "ARTICLE_SAVE_PERIODS": "settings", "PRESETS": "settings", "PRESET_ALIASES": "settings",
    "Settings": "settings", "preset_name": "settings",
    "Run": "run", "open_run": "runfolder", "read_snapshots": "snapshots", "TrainingDiverged": "history",
    "RunFolderFull": "files",
    "Trainer": "training", "prepare": "training", "train": "training",
    "RunFolderInUse": "runlock",
    "RunFolderUnlockable": "runlock",
    "session_config": "graph", "seed_everything": "graph", "save_generator": "graph",
    "tf": "_tf", "without_tf_message": "_tf",
}
_SUBMODULES = {"averaging", "checkpoints", "checks", "classifier", "cli", "cpu", "data", "diagrams", "display",
               "evaluation", "evaluation_report", "explore", "files", "graph", "history", "layers", "manifold",
               "metrics", "networks", "readback", "run", "runfolder", "runlock", "settings", "snapshots", "streams",
               "study", "study_report", "study_tables", "tensorboard_log", "training", "web", "weightfile", "keras3"}

__all__ = sorted([*_EXPORTS, "metrics", "evaluation", "evaluation_report"])


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'cgan' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))

