"""The fused upsampling convolution equals UpSampling2D + Conv2D: outputs and gradients."""
import numpy as np
import pytest
import tensorflow as tf
import tf_keras

import cgan
from cgan.graph import make_session
from cgan.networks import UpsampledConv2D


@pytest.mark.parametrize("kernel_size, cin, cout", [(5, 64, 64), (5, 32, 1), (3, 4, 6), (7, 3, 2)])
def test_fused_layer_equals_upsampling_then_conv(kernel_size, cin, cout):
    sess = make_session()
    with sess.graph.as_default():
        x = tf_keras.layers.Input(shape=(7, 7, cin))
        fused = UpsampledConv2D(cout, kernel_size, padding="same", activation="relu")
        plain = tf_keras.layers.Conv2D(cout, kernel_size, padding="same", activation="relu")
        y_fused = fused(x)
        y_plain = plain(tf_keras.layers.UpSampling2D(2)(x))
        sess.run(tf.compat.v1.global_variables_initializer())
        kernel = np.random.default_rng(0).standard_normal(plain.kernel.shape).astype("float32") * 0.1
        bias = np.random.default_rng(1).standard_normal(cout).astype("float32") * 0.1
        for layer in (fused, plain):
            layer.kernel.load(kernel, sess)
            layer.bias.load(bias, sess)
        g_fused = tf.gradients(tf.reduce_sum(y_fused ** 2), [fused.kernel, fused.bias, x])
        g_plain = tf.gradients(tf.reduce_sum(y_plain ** 2), [plain.kernel, plain.bias, x])
        xin = np.random.default_rng(2).standard_normal((3, 7, 7, cin)).astype("float32")
        out_f, out_p, gf, gp = sess.run([y_fused, y_plain, g_fused, g_plain], {x: xin})
    assert out_f.shape == out_p.shape == (3, 14, 14, cout)
    np.testing.assert_allclose(out_f, out_p, rtol=1e-4, atol=1e-4)
    for a, b in zip(gf, gp):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-3 * np.abs(b).max())
    sess.close()


def test_both_paths_have_the_same_variables_and_outputs():
    s = cgan.Settings(batch_size=8, seed=0)
    fused, plain = cgan.GANGraph(s), cgan.GANGraph(s.replace(fused_upsampling=False))
    names = ["generator/dense/kernel:0", "generator/dense/bias:0", "generator/conv2d/kernel:0",
             "generator/conv2d/bias:0", "generator/conv2d_1/kernel:0", "generator/conv2d_1/bias:0",
             "generator/conv2d_2/kernel:0", "generator/conv2d_2/bias:0", "discrim/conv2d_3/kernel:0",
             "discrim/conv2d_3/bias:0", "discrim/conv2d_4/kernel:0", "discrim/conv2d_4/bias:0",
             "discrim/dense_1/kernel:0", "discrim/dense_1/bias:0"]
    assert list(fused.variable_values()) == names == list(plain.variable_values())
    for var in plain.generator.weights:  # same weights in both
        var.load(fused.variable_values()[var.name], plain.sess)
    z = np.random.default_rng(0).standard_normal((20, 2))
    labels = np.arange(20) % 10
    np.testing.assert_allclose(fused.generate(z, labels), plain.generate(z, labels), atol=1e-5)
    fused.close()
    plain.close()
