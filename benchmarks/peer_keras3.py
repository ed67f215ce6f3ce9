"""The peer for benchmarks/bench.py: the same model trained the way one writes it today, the
Keras 3 code of ``cgan.keras3`` (Keras 3 models, a ``tf.function`` + ``GradientTape`` step per
network, in eager TensorFlow), in a process of its own so that its TensorFlow runtime and thread
pools are its own.

Protocol: reads lines "N" on stdin, runs N D steps and N G steps (``KerasGAN.step_d`` /
``step_g``, as training calls them), and prints one JSON line {"d": [seconds...], "g": [seconds...]};
"quit" ends it.
"""
import json
import sys
import time

import numpy as np

import cgan
from cgan.keras3 import KerasGAN


def main():
    mnist, batch_size = sys.argv[1], int(sys.argv[2])
    data = cgan.load_data(mnist)
    x, y = data.x_train[:batch_size], data.y_train_cat[:batch_size]
    z = np.random.default_rng(0).standard_normal((batch_size, 2)).astype("float32")
    gan = KerasGAN(cgan.Settings(idiom="keras3", batch_size=batch_size, seed=0))
    for _ in range(2):  # trace and warm up
        gan.step_d(x, y, z)
        gan.step_g(x, y, z)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if line.strip() == "quit":
            break
        n = int(line)
        out = {"d": [], "g": []}
        for key, step in (("d", gan.step_d), ("g", gan.step_g)):
            for _ in range(n):
                t = time.perf_counter()
                step(x, y, z)  # returns L_dis as a float: the step has finished
                out[key].append(time.perf_counter() - t)
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
