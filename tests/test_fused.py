"""The exact reformulations equal the article's layers, outputs and gradients: the fused
upsampling convolution (UpSampling2D + Conv2D) and the stride-2 convolution whose input
gradient goes through space-to-depth."""
import numpy as np
import pytest
import tensorflow as tf
import tf_keras

import cgan
from cgan.weightfile import assign_values
from cgan.graph import make_session
from cgan.layers import Stride2Conv2D, UpsampledConv2D


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
            assign_values(sess, [layer.kernel], [kernel])
            assign_values(sess, [layer.bias], [bias])
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
        assign_values(plain.sess, [var], [fused.variable_values()[var.name]])
    z = np.random.default_rng(0).standard_normal((20, 2))
    labels = np.arange(20) % 10
    np.testing.assert_allclose(fused.generate(z, labels), plain.generate(z, labels), atol=1e-5)
    fused.close()
    plain.close()


@pytest.mark.parametrize("input_grad", ["transpose", "conv"])
@pytest.mark.parametrize("kernel_size, cin, size", [(7, 1, 28), (3, 2, 8), (4, 3, 10), (5, 1, 6), (1, 2, 6)])
def test_stride2_layer_equals_conv2d(kernel_size, cin, size, input_grad):
    sess = make_session()
    with sess.graph.as_default():
        x = tf_keras.layers.Input(shape=(size, size, cin))
        fast = Stride2Conv2D(5, kernel_size, strides=2, padding="same", input_grad=input_grad)
        plain = tf_keras.layers.Conv2D(5, kernel_size, strides=2, padding="same")
        y_fast, y_plain = fast(x), plain(x)
        sess.run(tf.compat.v1.global_variables_initializer())
        rng = np.random.default_rng(kernel_size)
        kernel = rng.standard_normal(plain.kernel.shape).astype("float32")
        bias = rng.standard_normal(5).astype("float32")
        for layer in (fast, plain):
            assign_values(sess, [layer.kernel], [kernel])
            assign_values(sess, [layer.bias], [bias])
        g_fast = tf.gradients(tf.reduce_sum(y_fast ** 2), [fast.kernel, fast.bias, x])
        g_plain = tf.gradients(tf.reduce_sum(y_plain ** 2), [plain.kernel, plain.bias, x])
        xin = rng.standard_normal((3, size, size, cin)).astype("float32")
        out_f, out_p, gf, gp = sess.run([y_fast, y_plain, g_fast, g_plain], {x: xin})
    assert out_f.shape == out_p.shape == (3, size // 2, size // 2, 5)
    np.testing.assert_array_equal(out_f, out_p)  # the forward pass is TensorFlow's own op
    for a, b in zip(gf, gp):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5 * np.abs(b).max())
    sess.close()


def test_stride2_layer_rejects_an_unknown_gradient_route():
    with pytest.raises(ValueError, match="input_grad"):
        Stride2Conv2D(4, 3, strides=2, padding="same", input_grad="fft")


def test_generator_step_is_the_same_through_either_discriminator_layer():
    """One G step back-propagates through D's first layer; with the same weights and
    dropout masks, the space-to-depth gradient gives the same updated generator."""
    s = cgan.Settings(batch_size=16, seed=0)
    fast, plain = cgan.GANGraph(s), cgan.GANGraph(s.replace(fast_stride2_grad=False))
    assert list(fast.variable_values()) == list(plain.variable_values())
    values = fast.variable_values()
    with plain.graph.as_default():
        for var in tf.compat.v1.trainable_variables():
            assign_values(plain.sess, [var], [values[var.name]])
    rng = np.random.default_rng(3)
    image = rng.random((16, 28, 28, 1), dtype=np.float32)
    label = np.eye(10, dtype=np.float32)[np.arange(16) % 10]
    zp = rng.standard_normal((16, 2)).astype("float32")
    l_fast, l_plain = fast.step_g(image, label, zp), plain.step_g(image, label, zp)
    assert l_fast == pytest.approx(l_plain, rel=1e-5)
    after_fast, after_plain = fast.variable_values("generator"), plain.variable_values("generator")
    for name, before in values.items():
        if name.startswith("generator"):
            moved = np.abs(after_plain[name] - before).max()
            assert moved > 0
            np.testing.assert_allclose(after_fast[name], after_plain[name], atol=1e-3 * moved)
    fast.close()
    plain.close()
