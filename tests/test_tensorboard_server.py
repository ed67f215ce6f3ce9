"""The README's `tensorboard --logdir DIR` opens a run's log: the real TensorBoard server on a
loopback port serves its scalars and manifold images over its HTTP data API."""
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
from PIL import Image

from conftest import TINY_ARGS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, timeout: float = 10) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def test_tensorboard_serves_the_training_log(tmp_path):
    logdir = tmp_path / "tb"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", HOME=str(tmp_path))  # TensorBoard's caches stay in tmp
    train = subprocess.run([sys.executable, "-m", "cgan", "train", "--run-dir", str(tmp_path / "run"), *TINY_ARGS,
                            "--tensorboard", str(logdir)],
                           capture_output=True, text=True, env=env, timeout=300)
    assert train.returncode == 0, train.stderr[-2000:]
    tensorboard = shutil.which("tensorboard", path=str(Path(sys.executable).parent))
    assert tensorboard, "the set-up installs TensorBoard's command"
    port = free_port()
    server = subprocess.Popen([tensorboard, "--logdir", str(logdir), "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}/data/plugin"
    try:
        deadline = time.monotonic() + 120
        tags = {}
        while time.monotonic() < deadline:
            assert server.poll() is None, server.stdout.read().decode()[-2000:]
            try:
                tags = json.loads(get(f"{base}/scalars/tags"))
                if tags.get(".", {}).get("loss/L_dis"):
                    break
            except OSError:
                pass
            time.sleep(0.5)
        scalars = tags["."]
        assert {"loss/L_dis", "loss/L_gen", "loss/log_dis_img", "loss/log_dis_gen_z", "steps/discriminator",
                "steps/generator"} <= set(scalars)
        points = json.loads(get(f"{base}/scalars/scalars?run=.&tag=loss/L_dis"))
        assert [p[1] for p in points] == [0, 1, 2] and all(np.isfinite(p[2]) for p in points)
        images = json.loads(get(f"{base}/images/tags"))["."]
        assert {f"manifold/label_{c}" for c in range(10)} <= set(images)
        series = json.loads(get(f"{base}/images/images?" + urllib.parse.urlencode(
            {"run": ".", "tag": "manifold/label_3", "sample": 0})))
        assert [s["step"] for s in series] == [0, 2]
        png = Image.open(io.BytesIO(get(f"{base}/images/individualImage?{series[-1]['query']}")))
        assert png.size == (3 * 28, 3 * 28)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
