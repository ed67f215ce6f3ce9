import numpy as np
import pytest

import cgan
from cgan.data import BatchIterator

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_load_mnist_is_keras_layout():
    (x_train, y_train), (x_test, y_test) = cgan.load_mnist()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert np.bincount(y_train).tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(y_test).tolist() == MNIST_TEST_COUNTS
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert y_test[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def test_load_data_preprocesses_as_the_article(mnist):
    assert mnist.x_train.shape == (60000, 28, 28, 1) and mnist.x_train.dtype == np.float32
    assert mnist.x_test.shape == (10000, 28, 28, 1)
    assert mnist.x_train.min() == 0.0 and mnist.x_train.max() == 1.0
    assert mnist.y_train_cat.shape == (60000, 10) and mnist.y_train_cat.dtype == np.float32
    np.testing.assert_array_equal(mnist.y_train_cat.argmax(1), mnist.y_train)
    assert mnist.y_test_cat.sum(0).tolist() == MNIST_TEST_COUNTS


def test_missing_file_is_a_clear_error(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="MNIST file not found.*CGAN_MNIST"):
        cgan.load_mnist(tmp_path / "nope.npz")
    monkeypatch.setenv("CGAN_MNIST", str(tmp_path / "also-missing.npz"))
    with pytest.raises(FileNotFoundError, match="also-missing"):
        cgan.load_data()


def test_corrupt_or_wrong_file_is_a_clear_error(tmp_path):
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(cgan.data.SHIPPED_PATH.read_bytes()[:100000])
    with pytest.raises(ValueError, match="corrupt"):
        cgan.load_mnist(truncated)
    (x_train, y_train), (x_test, y_test) = cgan.load_mnist()
    altered = tmp_path / "altered.npz"
    x_train = x_train.copy()
    x_train[0, 0, 0] = 1
    np.savez(altered, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    with pytest.raises(ValueError, match="does not hold the MNIST arrays"):
        cgan.load_mnist(altered)
    np.savez(altered, x_train=x_train)
    with pytest.raises(ValueError, match="lacks the arrays"):
        cgan.load_mnist(altered)


def test_another_copy_via_env_var(tmp_path, monkeypatch):
    (x_train, y_train), (x_test, y_test) = cgan.load_mnist()
    copy = tmp_path / "copy.npz"
    np.savez_compressed(copy, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    monkeypatch.setenv("CGAN_MNIST", str(copy))
    assert cgan.data.mnist_path() == copy
    (x2, _), _ = cgan.load_mnist()
    np.testing.assert_array_equal(x2, x_train)


def test_batches_cover_every_sample_once_per_pass_and_reshuffle():
    n, bs = 100, 10
    x = np.arange(n).reshape(n, 1)
    it = cgan.gen_batch(x, x.copy(), batch_size=bs, rng=np.random.default_rng(0))
    passes = [np.concatenate([next(it)[0][:, 0] for _ in range(n // bs)]) for _ in range(3)]
    np.testing.assert_array_equal(passes[0], np.arange(n))  # the first pass in the data's order
    for p in passes:
        assert sorted(p.tolist()) == list(range(n))
    assert not np.array_equal(passes[1], passes[2]) and not np.array_equal(passes[0], passes[1])


def test_batches_keep_images_and_labels_together_and_skip_the_remainder():
    x = np.arange(25)
    it = BatchIterator(x, x * 10, batch_size=4, rng=np.random.default_rng(1))
    seen = []
    for _ in range(12):  # 2 passes of 6 batches; one sample per pass is left out
        bx, by = next(it)
        assert bx.shape == (4,)
        np.testing.assert_array_equal(by, bx * 10)
        seen.append(bx)
    first, second = np.concatenate(seen[:6]), np.concatenate(seen[6:])
    assert len(set(first.tolist())) == 24 and len(set(second.tolist())) == 24


def test_iterator_state_round_trips():
    x = np.arange(50)
    a = BatchIterator(x, x, batch_size=7, rng=np.random.default_rng(3))
    for _ in range(9):
        next(a)
    b = BatchIterator(x, x, batch_size=7, rng=np.random.default_rng(99))
    b.load_state_dict(a.state_dict())
    for _ in range(20):
        np.testing.assert_array_equal(next(a)[0], next(b)[0])


@pytest.mark.parametrize("kwargs, match", [
    ({"batch_size": 0}, "batch_size"), ({"batch_size": 1000}, "batch_size"), ({"batch_size": 2.5}, "batch_size")])
def test_iterator_rejects_bad_batch_size(kwargs, match):
    with pytest.raises(ValueError, match=match):
        BatchIterator(np.zeros(10), np.zeros(10), **kwargs)


def test_one_hot_rejects_labels_out_of_range():
    np.testing.assert_array_equal(cgan.one_hot([0, 9]), np.eye(10)[[0, 9]])
    with pytest.raises(ValueError, match=r"0\.\.9.*\[10\]"):
        cgan.one_hot([3, 10])
    with pytest.raises(ValueError, match="integers"):
        cgan.one_hot([0.5])
