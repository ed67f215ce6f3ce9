"""The peer baseline for benchmarks/bench.py: the same model trained the modern way,
Keras 3 layers with a ``tf.function`` + ``GradientTape`` train step per network (as
keras.io's conditional GAN trains), in eager TensorFlow. Deliberately does not import
``cgan`` (which switches TensorFlow to graph mode).

Protocol: reads lines "N" on stdin, runs N D steps and N G steps, and prints one
JSON line {"d": [seconds...], "g": [seconds...]}; "quit" ends it.
"""
import json
import sys
import time

import numpy as np
import tensorflow as tf
import keras
from keras import layers


def build(num_classes=10, latent_dim=2, rate=0.3):
    z = keras.Input((latent_dim,))
    lbl = keras.Input((num_classes,))
    x = layers.Concatenate()([z, lbl])
    x = layers.Dense(7 * 7 * 64, activation="relu")(x)
    x = layers.Dropout(rate)(x)
    x = layers.Reshape((7, 7, 64))(x)
    x = layers.UpSampling2D(2)(x)
    x = layers.Conv2D(64, 5, activation="relu", padding="same")(x)
    x = layers.Dropout(rate)(x)
    x = layers.Conv2D(32, 3, activation="relu", padding="same")(x)
    x = layers.Dropout(rate)(x)
    x = layers.UpSampling2D(2)(x)
    out = layers.Conv2D(1, 5, activation="sigmoid", padding="same")(x)
    gen = keras.Model([z, lbl], out)

    img = keras.Input((28, 28, 1))
    lbl2 = keras.Input((num_classes,))
    x = layers.Conv2D(128, 7, strides=2, padding="same")(img)
    u = layers.RepeatVector(14 * 14)(lbl2)
    u = layers.Reshape((14, 14, num_classes))(u)
    x = layers.Concatenate()([x, u])
    x = layers.LeakyReLU(negative_slope=0.3)(x)
    x = layers.Dropout(rate)(x)
    x = layers.MaxPooling2D(2, padding="same")(x)
    x = layers.Conv2D(128, 3, padding="same")(x)
    x = layers.LeakyReLU(negative_slope=0.3)(x)
    x = layers.Dropout(rate)(x)
    d = layers.Dense(1, activation="sigmoid")(layers.Flatten()(x))
    dis = keras.Model([img, lbl2], d)
    return gen, dis


def main():
    mnist, batch_size = sys.argv[1], int(sys.argv[2])
    with np.load(mnist) as f:
        x = (f["x_train"][:batch_size].astype("float32") / 255.0)[..., None]
        y = np.eye(10, dtype="float32")[f["y_train"][:batch_size]]
    z = np.random.default_rng(0).standard_normal((batch_size, 2)).astype("float32")
    gen, dis = build()
    opt_g, opt_d = keras.optimizers.RMSprop(3e-4), keras.optimizers.RMSprop(1e-4)

    def losses(x, y, z):
        fake = gen([z, y], training=True)
        d_real, d_fake = dis([x, y], training=True), dis([fake, y], training=True)
        log_img = tf.reduce_mean(-tf.math.log(d_real + 1e-10))
        log_gen = tf.reduce_mean(-tf.math.log(1.0 - d_fake + 1e-10))
        return -log_gen, 0.5 * (log_gen + log_img)

    def train_step(which, model, optimizer):
        """A tf.function step minimising losses()[which] over ``model``'s weights; returns L_dis."""
        @tf.function
        def step(x, y, z):
            with tf.GradientTape() as tape:
                loss = losses(x, y, z)
            grads = tape.gradient(loss[which], model.trainable_weights)
            optimizer.apply_gradients(zip(grads, model.trainable_weights))
            return loss[1]
        return step

    d_step, g_step = train_step(1, dis, opt_d), train_step(0, gen, opt_g)

    x, y, z = tf.constant(x), tf.constant(y), tf.constant(z)
    for _ in range(2):  # trace and warm up
        float(d_step(x, y, z))
        float(g_step(x, y, z))
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if line.strip() == "quit":
            break
        n = int(line)
        out = {"d": [], "g": []}
        for key, step in (("d", d_step), ("g", g_step)):
            for _ in range(n):
                t = time.perf_counter()
                float(step(x, y, z))  # float() waits for the result
                out[key].append(time.perf_counter() - t)
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
