import numpy as np
import pytest
from PIL import Image

import cgan
from cgan.weightfile import assign_values
from cgan.checkpoints import checkpoint_dirs
from cgan.history import TrainingDiverged
from conftest import TINY


def test_iteration_follows_the_k_step_rule(small_data, tmp_path):
    t = cgan.prepare(TINY, tmp_path, data=small_data)
    calls = []
    # D keeps losing (L_dis >= 1) for 2 steps, then is good enough; G fools D at its 3rd step.
    d_losses, g_losses = iter([1.5, 1.2, 0.8]), iter([0.3, 0.35, 0.5])
    t.graph.step_d = lambda *a: calls.append("d") or next(d_losses)
    t.graph.step_g = lambda *a: calls.append("g") or next(g_losses)
    assert t.run_iteration() == 0.5
    assert calls == ["d", "d", "d", "g", "g", "g"]
    assert (t.history.d_steps, t.history.g_steps) == ([3], [3])
    # at most k_step of each
    t.graph.step_d = lambda *a: calls.append("d") or 2.0
    t.graph.step_g = lambda *a: calls.append("g") or 0.1
    calls.clear()
    t.run_iteration()
    assert calls == ["d"] * 5 + ["g"] * 5
    t.close()


def test_a_nan_loss_stops_the_run_with_the_articles_advice(small_data, tmp_path):
    t = cgan.prepare(TINY.replace(iterations=10), tmp_path, data=small_data)
    kernel = t.graph.generator.weights[-1]  # the output layer's bias
    assign_values(t.graph.sess, [kernel], [np.full(kernel.shape, np.nan, "float32")])  # a real NaN through the graph
    with pytest.raises(TrainingDiverged, match="L_dis became nan.*slow the discriminator down"):
        t.fit(progress=False)
    assert t.iteration == 0
    t.close()


def test_an_overwhelming_discriminator_is_caught_within_a_few_periods(small_data, tmp_path, capsys):
    s = TINY.replace(iterations=200, batches_per_period=2, save_periods=(), lr_dis=0.01, lr_gen=1e-9,
                     stall_periods=3)
    with pytest.raises(TrainingDiverged, match="discriminator has won for 3 periods.*start again"):
        cgan.train(s, tmp_path, progress=False, data=small_data)
    # stopped cleanly, long before the 200 iterations: its last checkpoint is whole and resumable
    t = cgan.prepare(s, tmp_path, data=small_data)
    assert 6 <= t.iteration < 100
    t.close()


def test_restarts_start_over_with_a_new_seed(small_data, tmp_path):
    s = TINY.replace(iterations=8, batches_per_period=2, save_periods=(0,), stall_periods=1, stall_loss=10.0,
                     gen_exit_above=100.0)  # G always takes k_step steps: every check sees a stall
    with pytest.warns(UserWarning, match="Starting over.*with seed"):
        with pytest.raises(TrainingDiverged):
            cgan.train(s, tmp_path, progress=False, data=small_data, restarts=1)
    assert cgan.Settings.from_dict(__import__("json").loads((tmp_path / "settings.json").read_text())
                                   | {"save_periods": (0,)}).seed != s.seed


def test_train_writes_snapshots_checkpoints_and_figures(small_data, tmp_path):
    figs = tmp_path / "figs"
    t = cgan.train(TINY, tmp_path / "run", figs_dir=figs, progress=False, data=small_data)
    assert t.iteration == 3 and t.periods == [0, 2]
    assert sorted(p.name for p in (tmp_path / "run" / "snapshots").iterdir()) == ["period-00000.npz",
                                                                                 "period-00002.npz"]
    names = sorted(p.name for p in figs.iterdir())
    assert names == sorted([f"manifold_{c}.png" for c in range(10)] + [f"manifold_{c}.gif" for c in range(10)])
    with Image.open(figs / "manifold_5.gif") as im:
        assert im.n_frames == 2
    assert (tmp_path / "run" / "generator.npz").is_file()
    t.close()


def test_gif_every_keeps_every_nth_snapshot_and_the_last(small_data, tmp_path):
    settings = TINY.replace(iterations=5, save_periods=(0, 1, 2, 3, 4), gif_every=3)
    t = cgan.train(settings, tmp_path / "run", figs_dir=tmp_path / "figs", progress=False, data=small_data)
    t.close()
    with Image.open(tmp_path / "figs" / "manifold_5.gif") as im:
        assert im.n_frames == 3  # snapshots 0, 3 and the last, 4
        frames = []
        for k in range(im.n_frames):
            im.seek(k)
            frames.append(np.asarray(im.convert("L")))
    # the same frames as the GIF of every snapshot, written again from the finished run folder
    t = cgan.train(settings.replace(gif_every=1), tmp_path / "run", figs_dir=tmp_path / "all", progress=False,
                   data=small_data)
    assert t.iteration == 5
    t.close()
    with Image.open(tmp_path / "all" / "manifold_5.gif") as im:
        assert im.n_frames == 5
        for k, frame in zip((0, 3, 4), frames):
            im.seek(k)
            np.testing.assert_array_equal(np.asarray(im.convert("L")), frame)


def test_saved_generator_reloads(small_data, tmp_path):
    t = cgan.train(TINY, tmp_path / "run", progress=False, data=small_data)
    z = np.random.default_rng(0).standard_normal((5, 2))
    expected = t.graph.generate(z, [0, 1, 2, 3, 4])
    loaded = cgan.GANGraph.from_generator_file(tmp_path / "run" / "generator.npz")
    np.testing.assert_allclose(loaded.generate(z, [0, 1, 2, 3, 4]), expected, atol=1e-6)
    assert loaded.settings == TINY
    t.close()
    loaded.close()


def test_resume_continues_from_the_last_checkpoint(small_data, tmp_path):
    s = TINY.replace(iterations=4, checkpoints_kept=2)
    first = cgan.train(s.replace(iterations=2), tmp_path / "run", progress=False, data=small_data)
    first.close()
    drawn = []
    again = cgan.train(s, tmp_path / "run", progress=False, data=small_data, on_snapshot=lambda p, f: drawn.append(p))
    assert drawn == [2]  # period 0 was drawn before the stop and is not drawn again
    assert again.iteration == 4 and len(again.history.l_dis) == 4
    assert again.history.l_dis[:2] == first.history.l_dis
    assert again.periods == [0, 2]
    assert len(checkpoint_dirs(again.run_dir)) == 2
    straight = cgan.train(s, tmp_path / "straight", progress=False, data=small_data)
    assert again.history == straight.history and again.streams.batches.position == straight.streams.batches.position
    straight.close()
    again.close()


def test_another_runs_folder_is_not_mixed(small_data, tmp_path):
    cgan.train(TINY, tmp_path, progress=False, data=small_data).close()
    with pytest.raises(ValueError, match="settings differ"):
        cgan.train(TINY.replace(lr_dis=5e-5), tmp_path, progress=False, data=small_data)
    with pytest.raises(ValueError, match="already holds"):
        cgan.train(TINY, tmp_path, resume=False, progress=False, data=small_data)
    # settings that leave the math alone may change between sessions of one run
    t = cgan.train(TINY.replace(iterations=4, fused_upsampling=False, threads=1), tmp_path, progress=False,
                   data=small_data)
    assert t.iteration == 4
    t.close()
    # overwrite=True starts over: nothing of the old run (its generator, a study's judgement of it) is left
    (tmp_path / "evaluation.json").write_text("{}")
    assert (tmp_path / "generator.npz").is_file()
    run = cgan.open_run(TINY.replace(lr_dis=5e-5), tmp_path, overwrite=True, data=small_data)
    assert not any((tmp_path / name).exists() for name in ("generator.npz", "evaluation.json", "checkpoints",
                                                           "snapshots"))
    assert cgan.runfolder.saved_settings(tmp_path).lr_dis == 5e-5
    run.close()


def test_unconditional_run_writes_gan_figures(small_data, tmp_path):
    t = cgan.train(TINY.replace(conditional=False), tmp_path / "run", figs_dir=tmp_path, progress=False,
                   data=small_data)
    assert (tmp_path / "GAN_manifold.png").is_file() and (tmp_path / "GAN_manifold.gif").is_file()
    t.close()


def test_unseeded_graphs_start_from_different_weights():
    a, b = (cgan.GANGraph(cgan.Settings(batch_size=16)) for _ in range(2))
    va, vb = a.variable_values("generator"), b.variable_values("generator")
    assert any(not np.array_equal(va[k], vb[k]) for k in va)
    a.close()
    b.close()


def test_op_determinism_is_held_while_any_seeded_trainer_is_open(small_data, tmp_path):
    from tensorflow.python.framework import config

    before = config.is_op_determinism_enabled()  # off, unless an earlier test left a trainer open
    first = cgan.prepare(TINY, tmp_path / "a", data=small_data)
    second = cgan.prepare(TINY.replace(seed=1), tmp_path / "b", data=small_data)
    assert config.is_op_determinism_enabled()
    first.close()
    assert config.is_op_determinism_enabled()  # the second still trains
    second.close()
    assert config.is_op_determinism_enabled() == before
    for t in (first, second):
        t.close()
