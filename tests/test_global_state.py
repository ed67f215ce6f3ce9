"""Every public entry point leaves the process's global state as it found it: Python's and numpy's
random generators, TensorFlow's global seed, op determinism, eager mode and default graph, the v1
Keras session, environment variables, warnings filters, logging levels, matplotlib's rcParams, and
TensorFlow's optimizer options and thread pools (cgan.keras3 turns grappler's remapper off while
its steps run).
(Importing TensorFlow through cgan sets TF_CPP_MIN_LOG_LEVEL=1 when it was unset: the README names
it; the snapshot is taken after that import.)"""
import json
import os
import subprocess
import sys

from conftest import TINY

PROBE = r'''
import hashlib, json, logging, os, pickle, random, sys, warnings
import numpy as np
import matplotlib
import cgan
from cgan import tf
from tensorflow.python.eager import context
from tensorflow.python.framework import config

random.seed(123); np.random.seed(123)

def state():
    import tf_keras.src.backend as kb
    loggers = {name: getattr(logger, "level", None) for name, logger in logging.root.manager.loggerDict.items()}
    return {
        "python random": hashlib.sha256(pickle.dumps(random.getstate())).hexdigest(),
        "numpy random": hashlib.sha256(pickle.dumps(np.random.get_state())).hexdigest(),
        "tensorflow global seed": context.global_seed(),
        "default graph seed": tf.compat.v1.get_default_graph().seed,
        "op determinism": config.is_op_determinism_enabled(),
        "eager": tf.executing_eagerly(),
        "default graph": id(tf.compat.v1.get_default_graph()),
        "keras v1 session": id(getattr(kb._SESSION, "session", None)),
        "environment": dict(os.environ),
        "warnings filters": [repr(f) for f in warnings.filters],
        "root log level": logging.root.level,
        "log levels": loggers,
        "rcParams": {k: repr(v) for k, v in matplotlib.rcParams.items()},
        "tensorflow optimizer options": tf.config.optimizer.get_experimental_options(),
        "tensorflow threads": (tf.config.threading.get_intra_op_parallelism_threads(),
                               tf.config.threading.get_inter_op_parallelism_threads()),
    }

def diff(before, after):
    out = {}
    for key in before:
        if key == "log levels":  # loggers made on first use are new, not changed
            changed = {n: (lvl, after[key].get(n)) for n, lvl in before[key].items() if after[key].get(n) != lvl}
        elif isinstance(before[key], dict):
            changed = {k: (before[key].get(k), after[key].get(k)) for k in set(before[key]) | set(after[key])
                       if before[key].get(k) != after[key].get(k)}
        else:
            changed = before[key] != after[key] and (before[key], after[key])
        if changed:
            out[key] = str(changed)[:300]
    return out

TMP = sys.argv[1]
data = cgan.load_data()
small = data._replace(x_train=data.x_train[:512], y_train_cat=data.y_train_cat[:512], y_train=data.y_train[:512])
calls = {}
def check(name, fn):
    before = state()
    result = fn()
    calls[name] = diff(before, state())
    return result

g = check("load_generator", lambda: cgan.load_generator("cgan"))
gan = check("load_generator('gan')", lambda: cgan.load_generator("gan"))
check("GANGraph.from_generator_file", lambda: cgan.GANGraph.from_generator_file(cgan.graph.WEIGHTS_DIR / "cgan_generator.npz").close())
check("GANGraph(seed)", lambda: cgan.GANGraph(cgan.Settings(seed=5, batch_size=16)).close())
check("generate", lambda: g.generate(np.zeros((3, 2)), [1, 2, 3]))
check("draw_manifolds", lambda: cgan.draw_manifolds(g))
check("plot_manifold", lambda: cgan.plot_manifold(cgan.draw_manifolds(g)[0], os.path.join(TMP, "m.png"), title="x"))
check("write_gif", lambda: cgan.write_gif([np.zeros((8, 8))] * 2, [["a"], ["b"]], os.path.join(TMP, "a.gif")))
check("evaluation.evaluate", lambda: cgan.evaluation.evaluate(g, data, per_label=5, with_parzen=False))
check("evaluation.evaluate (GAN)", lambda: cgan.evaluation.evaluate(gan, data, per_label=5, with_parzen=False))
check("evaluation.evaluate_real", lambda: cgan.evaluation.evaluate_real(data, 50, with_parzen=False))
check("explore.sliders", lambda: cgan.explore.sliders(g, display_it=False))
check("explore.static_grid", lambda: cgan.explore.static_grid(g))
check("explore.style_grid", lambda: cgan.explore.style_grid(g, n_styles=2))
check("explore.latent_walk", lambda: cgan.explore.latent_walk(g, 3, steps=3, path=os.path.join(TMP, "w.gif")))
for name in ("gan_scheme", "learning_picture", "cgan_scheme"):
    check(f"diagrams.{name}", getattr(cgan.diagrams, name))
check("diagrams.gradient_flow", lambda: cgan.diagrams.gradient_flow("d"))
tiny = cgan.Settings.from_dict(json.loads(sys.argv[2]))  # conftest.TINY
t = check("train (seeded)", lambda: cgan.train(tiny, os.path.join(TMP, "run"), progress=False, data=small))
check("train (ema, unseeded)", lambda: cgan.train(tiny.replace(seed=None, ema_decay=0.9), os.path.join(TMP, "run2"),
                                                  progress=False, data=small))
check("evaluation.snapshot_curves", lambda: cgan.evaluation.snapshot_curves(os.path.join(TMP, "run"), data=data))
from cgan import keras3
k3 = check("keras3.KerasGAN(seed)", lambda: keras3.KerasGAN(tiny.replace(idiom="keras3")))
check("KerasGAN.step_d, step_g", lambda: (k3.step_d(small.x_train[:16], small.y_train_cat[:16], np.zeros((16, 2), "float32")),
                                          k3.step_g(small.x_train[:16], small.y_train_cat[:16], np.zeros((16, 2), "float32"))))
check("KerasGAN.generate", lambda: k3.generate(np.zeros((3, 2)), [1, 2, 3]))
check("train (keras3, seeded)", lambda: cgan.train(tiny.replace(idiom="keras3"), os.path.join(TMP, "run3"),
                                                   progress=False, data=small).close())
print("RESULT " + json.dumps(calls))
'''


def test_public_entry_points_change_no_global_state(tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path), json.dumps(TINY.to_dict())],
                          capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    calls = json.loads(proc.stdout.split("RESULT ", 1)[1])
    assert len(calls) >= 20
    changed = {name: diff for name, diff in calls.items() if diff}
    assert not changed, changed
