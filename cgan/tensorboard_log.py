"""The optional TensorBoard log of a training run (``Settings.tensorboard``)."""
from __future__ import annotations

import os

import numpy as np


class TensorBoardLog:
    """TensorBoard summaries of a run (``Settings.tensorboard``), written with
    ``tf.compat.v1.summary.FileWriter``: L_dis (and, from the package's graph, the two
    terms of the losses) and the D and G steps at every iteration, and each label's
    manifold at every snapshot, all at the iteration as step. Events are written when a
    checkpoint is, so the log never runs ahead of what a resumed run restores; a resumed
    run starts with TensorBoard's "session start" event at its iteration, which tells
    TensorBoard to drop anything a killed run logged past it."""

    def __init__(self, logdir: str | os.PathLike, start_step: int):
        from ._tf import tf

        self.tf = tf
        with tf.Graph().as_default():  # FileWriter refuses to start in eager mode; it needs no graph ops
            self.writer = tf.compat.v1.summary.FileWriter(str(logdir))
        self.pending: list = []
        if start_step:
            self.writer.add_session_log(tf.compat.v1.SessionLog(status=tf.compat.v1.SessionLog.START), start_step)

    def _scalars(self, step: int, values: dict) -> None:
        Summary = self.tf.compat.v1.Summary
        self.pending.append((Summary(value=[Summary.Value(tag=k, simple_value=float(v))
                                            for k, v in values.items()]), step))

    def iteration(self, step: int, l_dis: float, d_steps: int, g_steps: int, terms: dict | None = None) -> None:
        self._scalars(step, {"loss/L_dis": l_dis, "steps/discriminator": d_steps, "steps/generator": g_steps,
                             **{f"loss/{k}": v for k, v in (terms or {}).items()}})

    def snapshot(self, step: int, figures: np.ndarray) -> None:
        import io

        from PIL import Image

        Summary = self.tf.compat.v1.Summary
        values = []
        for k, figure in enumerate(figures):
            buf = io.BytesIO()
            Image.fromarray(255 - figure, mode="L").save(buf, format="PNG", compress_level=1)  # dark on white; fast
            image = Summary.Image(height=figure.shape[0], width=figure.shape[1], colorspace=1,
                                  encoded_image_string=buf.getvalue())
            tag = f"manifold/label_{k}" if len(figures) > 1 else "manifold/GAN"
            values.append(Summary.Value(tag=tag, image=image))
        self.pending.append((Summary(value=values), step))

    def flush(self) -> None:
        for summary, step in self.pending:
            self.writer.add_summary(summary, step)
        self.pending = []
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()  # what was logged after the last checkpoint is dropped, as the run will redo it
