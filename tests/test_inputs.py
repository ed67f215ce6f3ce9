"""Bad input gets a clear error naming what was wrong and what is accepted."""
import warnings

import numpy as np
import pytest

import cgan
from cgan.cli import main


@pytest.mark.parametrize("labels", [10, -1, [0] * 15 + [10], np.full(16, 3.0), np.zeros((16, 9), "float32"),
                                    "seven"])
def test_generate_rejects_bad_labels(cgan_graph, labels):
    with pytest.raises(ValueError, match="labels"):
        cgan_graph.generate(np.zeros((16, 2)), labels)


def test_generate_needs_labels_only_when_conditional(cgan_graph, gan_graph):
    with pytest.raises(ValueError, match="required"):
        cgan_graph.generate(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="takes no labels"):
        gan_graph.generate(np.zeros((2, 2)), [1, 2])


@pytest.mark.parametrize("z", [np.zeros((4, 3)), np.zeros(2), np.zeros((4, 1)), [[0.0, np.nan]]])
def test_generate_rejects_bad_z(cgan_graph, z):
    with pytest.raises(ValueError, match="z must"):
        cgan_graph.generate(z, 1)


def test_generate_accepts_every_label_form(cgan_graph):
    z = np.zeros((3, 2))
    a = cgan_graph.generate(z, 4)
    b = cgan_graph.generate(z, [4, 4, 4])
    c = cgan_graph.generate(z, np.eye(10, dtype="float32")[[4, 4, 4]])
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize("changes, match", [
    ({"batch_sise": 3}, "unknown setting.*batch_sise.*accepted"),
    ({"batch_size": 0}, "batch_size=0"),
    ({"latent_dim": 1}, "latent_dim"),
    ({"dropout_rate": 1.5}, "dropout_rate"),
    ({"grid_high": 0.01}, "grid_high"),
    ({"seed": -1}, "seed"),
    ({"conditional": "yes"}, "conditional"),
    ({"precision": "fp8"}, "precision"),
])
def test_settings_reject_bad_values(changes, match):
    with pytest.raises(ValueError, match=match):
        cgan.Settings.from_dict(changes)


def test_settings_defaults_are_the_articles():
    s = cgan.Settings()
    assert (s.batch_size, s.latent_dim, s.num_classes, s.dropout_rate) == (256, 2, 10, 0.3)
    assert (s.lr_gen, s.lr_dis, s.iterations, s.k_step, s.batches_per_period) == (3e-4, 1e-4, 5000, 5, 20)
    assert s.save_periods == tuple(range(100)) + tuple(range(100, 1000, 10))
    assert (s.dis_exit_below, s.gen_exit_above, s.grid_size, s.gif_frame_ms) == (1.0, 0.4, 15, 100)


def test_cli_rejects_unknown_options_and_settings(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train", "--iterashuns", "3"])
    assert exc.value.code == 2 and "--iterashuns" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["train", "--set", "nope=1", "--run-dir", "unused"])
    assert exc.value.code == 2 and "unknown setting" in capsys.readouterr().err


def test_generator_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="generator weights not found"):
        cgan.GANGraph.from_generator_file(tmp_path / "none.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a generator file"):
        cgan.GANGraph.from_generator_file(bad)


def test_bf16_on_a_cpu_without_bf16_units_warns(monkeypatch):
    import cgan.graph

    monkeypatch.setattr(cgan.graph, "cpu_flags", lambda: {"fpu", "avx2", "avx512f"})
    with pytest.warns(RuntimeWarning, match="AVX512_BF16"):
        cgan.graph.make_session(cgan.Settings(precision="bf16")).close()
    monkeypatch.setattr(cgan.graph, "cpu_flags", lambda: {"avx512f", "avx512_bf16"})
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        cgan.graph.make_session(cgan.Settings(precision="bf16")).close()
