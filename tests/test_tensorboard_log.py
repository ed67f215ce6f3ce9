"""TensorBoard summaries on request (cgan.tensorboard_log): losses, step counts and manifolds,
each iteration once even across a resume; nothing written when off."""
from pathlib import Path

import numpy as np

import cgan
from conftest import TINY


def _events(logdir: Path):
    import tensorflow as tf

    scalars, images, starts = {}, {}, []
    for path in sorted(logdir.glob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            if event.HasField("session_log"):
                starts.append(event.step)
            for value in event.summary.value:
                if value.HasField("image"):
                    images.setdefault(value.tag, []).append((event.step, value.image))
                else:
                    scalars.setdefault(value.tag, []).append((event.step, value.simple_value))
    return scalars, images, starts


def test_tensorboard_log_holds_losses_steps_and_manifolds_and_a_resumed_run_repeats_no_step(tmp_path, small_data):
    from cgan.training import prepare

    logdir = tmp_path / "tb"
    settings = TINY.replace(iterations=4, batches_per_period=2, save_periods=(0, 1, 2), tensorboard=str(logdir))
    first = prepare(settings, tmp_path / "run", data=small_data)
    first.fit(progress=False)  # iterations 0-3, checkpoints after iterations 0 and 2: iteration 3 is logged
    del first                  # but not checkpointed when the process "dies" (no close, nothing flushed)
    second = prepare(settings.replace(iterations=6), tmp_path / "run", data=small_data)
    assert second.iteration == 3
    second.fit(progress=False)
    second.finish()
    scalars, images, starts = _events(logdir)
    for tag in ("loss/L_dis", "loss/L_gen", "loss/log_dis_img", "loss/log_dis_gen_z", "steps/discriminator",
                "steps/generator"):
        assert [step for step, _ in scalars[tag]] == list(range(6)), tag  # every iteration once
    np.testing.assert_allclose([v for _, v in scalars["loss/L_dis"]], second.history.l_dis, rtol=1e-6)
    assert [s for s, _ in scalars["steps/discriminator"]] == list(range(6))
    assert starts == [3]  # the resumed run told TensorBoard where it went on from
    assert sorted(images) == [f"manifold/label_{c}" for c in range(10)]
    assert [step for step, _ in images["manifold/label_0"]] == [0, 2, 4]
    from PIL import Image
    import io
    picture = Image.open(io.BytesIO(images["manifold/label_0"][0][1].encoded_image_string))
    assert picture.size == (84, 84) and picture.mode == "L"


def test_tensorboard_costs_nothing_when_off(tmp_path, small_data):
    t = cgan.train(TINY.replace(iterations=2, save_periods=(0,)), tmp_path / "run", data=small_data, progress=False)
    assert t.log is None and not list(tmp_path.rglob("events.out.tfevents.*"))
