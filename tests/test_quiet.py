"""`import cgan` anywhere: TensorFlow stays eager, nothing but our own output, the CLI's help
without TensorFlow, TensorFlow's start-up lines filtered."""
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from conftest import TINY, TINY_ARGS

ROOT = Path(__file__).resolve().parent.parent
# what TensorFlow's C++ and Python loggers print: "I0000 00:00:...", "W1129 ...", "WARNING:tensorflow:..."
TF_LOG_LINE = re.compile(r"^([IWEF]\d{4} |WARNING:|WARNING: All log messages|.*Warning:|.*tensorflow)", re.M)


def _python(code: str, env_extra: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}  # as a user's fresh shell
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env=env)


def test_import_cgan_and_its_calls_leave_tensorflow_eager(tmp_path):
    proc = _python(f"""
        import numpy as np
        import cgan
        from cgan import tf          # TensorFlow, loaded by cgan (a user's own `import tensorflow` prints its own lines)

        def still_eager(what):
            assert tf.executing_eagerly(), what
            assert float(tf.reduce_sum(tf.ones(3))) == 3.0, what   # eager code runs

        still_eager("import cgan")
        g = cgan.load_generator("cgan")
        still_eager("load_generator")
        images = g.generate(np.zeros((4, 2)), [0, 1, 2, 3])
        still_eager("generate")
        cgan.draw_manifolds(g, labels=[1])
        still_eager("draw_manifolds")
        acc = cgan.metrics.conditional_accuracy(images, np.arange(4))
        still_eager("metrics")
        cgan.train(cgan.{TINY.replace(iterations=2, save_periods=(0, 1))!r}, r"{tmp_path / 'run'}", progress=False)
        still_eager("train")
        np.save(r"{tmp_path / 'eager.npy'}", images)
        print("OK")
    """)
    assert proc.returncode == 0 and "OK" in proc.stdout, proc.stderr[-3000:]
    assert not TF_LOG_LINE.search(proc.stderr), proc.stderr[-3000:]  # and quiet

    graph_mode = _python(f"""
        import numpy as np, tensorflow as tf
        tf.compat.v1.disable_eager_execution()
        import cgan
        g = cgan.load_generator("cgan")
        np.save(r"{tmp_path / 'graph.npy'}", g.generate(np.zeros((4, 2)), [0, 1, 2, 3]))
    """)
    assert graph_mode.returncode == 0, graph_mode.stderr[-3000:]
    np.testing.assert_array_equal(np.load(tmp_path / "eager.npy"), np.load(tmp_path / "graph.npy"))


def test_the_cli_prints_only_our_own_output(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    proc = subprocess.run([sys.executable, "-m", "cgan", "train", "--run-dir", str(tmp_path / "run"), *TINY_ARGS],
                          capture_output=True, text=True, timeout=600, cwd=ROOT, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stderr == "", proc.stderr[-3000:]
    assert proc.stdout.startswith("CGAN: 3 iterations") and "remapper" not in proc.stdout


@pytest.mark.parametrize("args", [["--help"], ["train", "--help"], ["figures", "--help"]])
def test_help_answers_without_importing_tensorflow(args):
    proc = _python(f"""
        import sys
        from cgan.cli import main
        try:
            main({args!r})
        except SystemExit:
            pass
        print("tensorflow imported:", "tensorflow" in sys.modules)
    """)
    assert proc.returncode == 0, proc.stderr
    assert "usage:" in proc.stdout and "tensorflow imported: False" in proc.stdout


def test_fast_preset_says_it_is_not_the_articles_numerics(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "cgan", "train", "--fast", "--run-dir", str(tmp_path / "run"),
                           *TINY_ARGS], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    first = proc.stdout.splitlines()[0]
    assert first.startswith("--fast: dropout_mask_bits=16") and "not the article's numerics" in first
    saved = json.loads((tmp_path / "run" / "settings.json").read_text())
    assert saved["dropout_mask_bits"] == 16
    from cgan.cpu import cpu_flags
    assert saved["precision"] == ("bf16" if cpu_flags() & {"avx512_bf16", "amx_bf16"} else "fp32")


def test_set_cannot_contradict_the_command(tmp_path, capsys):
    from cgan.cli import main
    with pytest.raises(SystemExit):
        main(["train", "--run-dir", str(tmp_path / "run"), "--set", "conditional=False", *TINY_ARGS])
    assert "contradicts the command" in capsys.readouterr().err


ONEDNN = "I0000 00:00:1795977582.195199    4027 port.cc:153] oneDNN custom operations are on. You may see ..."
CUINIT = "E0000 00:00:1795977582.2 4027 cuda_platform.cc:51] failed call to cuInit: INTERNAL: CUDA error"


def test_a_crash_during_the_filtered_import_still_reaches_the_terminal():
    # the filter process drains what was written, even though this process dies without cleaning up
    proc = _python(f"""
        import os
        from cgan._tf import _stderr_filtered, startup_pattern
        with _stderr_filtered(startup_pattern()):
            os.write(2, b"{ONEDNN}\\n" + b"F0000 fatal check failed: the error a user needs\\n")
            os.abort()
    """)
    assert proc.returncode == -signal.SIGABRT
    assert "fatal check failed: the error a user needs" in proc.stderr
    assert "oneDNN custom operations" not in proc.stderr


def test_gpu_lines_are_kept_where_a_gpu_is_expected():
    code = f"""
        import re
        from cgan._tf import gpu_expected, startup_pattern
        print(gpu_expected(), bool(re.match(startup_pattern(), {CUINIT!r})), bool(re.match(startup_pattern(), {ONEDNN!r})))
    """
    on_gpu = _python(code, {"CUDA_VISIBLE_DEVICES": "0"})
    assert on_gpu.stdout.split() == ["True", "False", "True"], on_gpu.stderr[-2000:]  # cuInit shown, oneDNN hidden
    if not Path("/dev/nvidiactl").exists():
        no_gpu = _python(code, {"CUDA_VISIBLE_DEVICES": "-1"})
        assert no_gpu.stdout.split() == ["False", "True", "True"], no_gpu.stderr[-2000:]


def test_cgan_tf_verbose_shows_everything():
    proc = _python("import cgan; from cgan import tf; import os; print(os.environ.get('TF_CPP_MIN_LOG_LEVEL'))",
                   {"CGAN_TF_VERBOSE": "1"})
    assert proc.returncode == 0 and proc.stdout.strip() == "None"
    assert "oneDNN custom operations are on" in proc.stderr


def test_console_script_and_python_m_behave_the_same(tmp_path):
    script = Path(sys.executable).parent / "cgan"
    assert script.is_file(), "pip install -e . installs the cgan command"
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    outs = []
    for command in ([str(script)], [sys.executable, "-m", "cgan"]):
        proc = subprocess.run([*command, "train", "--run-dir", str(tmp_path / f"run{len(outs)}"), *TINY_ARGS],
                              capture_output=True, text=True, timeout=600, env=env)
        assert proc.returncode == 0 and proc.stderr == "", proc.stderr[-3000:]
        outs.append(re.sub(r"run\d|\(\d+ s:.*", "", proc.stdout))
    assert outs[0] == outs[1]
