"""The Keras 3 companion notebook runs end to end on a real Jupyter kernel at tiny sizes; its loop
over cgan.keras3 gives the same bits as ``cgan.train(Settings(idiom="keras3"))``; neither it nor
cgan.keras3 uses tf.compat.v1."""
import ast
import json
from pathlib import Path

import numpy as np
import papermill as pm
import pytest
from PIL import Image

import cgan
from cgan import statefile
from test_notebook import execute_in_a_copy, git

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "cgan_keras3.ipynb"
EXTRA = {"batches_per_period": 2, "save_periods": [0, 1, 3], "grid_size": 3}
TINY_PARAMS = dict(iterations=7, batch_size=16, seed=3, eval_per_label=5, extra_settings=EXTRA)


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The companion executed headless at tiny settings with a seed, in a copy of the checkout's
    tracked files, with the default run and figs folders: (output notebook, run folder, figs folder,
    the copy, `git status` before the run)."""
    out, clone, status_before = execute_in_a_copy(tmp_path_factory.mktemp("notebook-keras3"), NOTEBOOK.name,
                                                  TINY_PARAMS)
    run = clone / "runs" / "notebook-keras3"
    return out, run, run / "figs", clone, status_before


def test_companion_runs_headless_writes_its_figures_and_changes_no_tracked_file(executed):
    out, run, figs, clone, before = executed
    for c in range(10):
        assert (figs / f"manifold_{c}.png").is_file()
        with Image.open(figs / f"manifold_{c}.gif") as im:
            assert im.n_frames == 3  # periods 0, 1 and 3 of 7 iterations at 2 a period
    assert (run / "generator.npz").is_file()
    assert before == "" and git(clone, "status", "--porcelain", "--untracked-files=all") == ""
    nb = json.loads(out.read_text())
    sources = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    for line in ("gan = keras3.KerasGAN(settings)", "run.attach_networks(gan, gan.generate)",
                 "l_d = gan.step_d(b0, b1, zp)", "l_d = gan.step_g(b0, b1, zp)", "if l_d < s.dis_exit_below:",
                 "if l_d > s.gen_exit_above:", "show_source(keras3.train_step)", "reproduction.idiom_table("):
        assert line in sources, line
    shown = "\n".join(o["data"].get("text/plain", "") if isinstance(o["data"].get("text/plain"), str)
                      else "".join(o["data"].get("text/plain", [])) for c in nb["cells"] if c["cell_type"] == "code"
                      for o in c["outputs"] if "data" in o)
    assert "tf.GradientTape()" in shown and "tape.gradient(" in shown  # the step's source, shown
    assert "eager: True" in out.read_text() and "7 iterations" in out.read_text()
    stderr = [o["text"] for c in nb["cells"] if c["cell_type"] == "code" for o in c["outputs"]
              if o.get("name") == "stderr"]
    assert not "".join(stderr).strip(), stderr


def _uses_tf1(source: str) -> list[str]:
    """The TF1 idioms a piece of code uses: attribute chains through ``compat.v1``, and Keras 2
    (``tf_keras``) imports. Strings and comments do not count."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr == "v1" and getattr(node.value, "attr", "") == "compat":
            found.append(ast.unparse(node))
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            found += [n for n in names if n.split(".")[0] == "tf_keras"]
    return found


def test_neither_the_companion_nor_cgan_keras3_uses_tf1():
    assert _uses_tf1("import tf_keras\nx = tf.compat.v1.Session()") == ["tf_keras", "tf.compat.v1"]  # it sees them
    assert _uses_tf1((ROOT / "cgan" / "keras3.py").read_text()) == []
    cells = [c for c in json.loads(NOTEBOOK.read_text())["cells"] if c["cell_type"] == "code"]
    code = "\n".join(line for c in cells for line in "".join(c["source"]).splitlines() if not line.startswith("%"))
    assert _uses_tf1(code) == []


def test_companion_loop_gives_the_same_bits_as_cgan_train(executed, tmp_path):
    _, run, _, _, _ = executed
    settings = cgan.Settings(idiom="keras3", iterations=7, batch_size=16, seed=3, **EXTRA)
    trainer = cgan.train(settings, tmp_path / "package", progress=False)
    trainer.close()
    ckpt = "checkpoints/ckpt-00000007"
    with np.load(run / ckpt / "keras3.npz") as a, np.load(tmp_path / "package" / ckpt / "keras3.npz") as b:
        assert a.files == b.files and len(a.files) > 30  # weights, dropout seed states, both optimizers' slots
        for name in a.files:
            np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    assert statefile.read(run / ckpt)["history"] == statefile.read(tmp_path / "package" / ckpt)["history"]
    for period in (0, 1, 3):
        with np.load(run / "snapshots" / f"period-{period:05d}.npz") as a, \
                np.load(tmp_path / "package" / "snapshots" / f"period-{period:05d}.npz") as b:
            np.testing.assert_array_equal(a["figures"], b["figures"])


def test_companion_parameters_are_the_documented_ones():
    declared = pm.inspect_notebook(str(NOTEBOOK))
    faithful = pm.inspect_notebook(str(ROOT / "notebooks" / "cgan_gan_tensorflow.ipynb"))
    assert set(declared) == set(faithful) - {"eval_parzen"}
    readme = (NOTEBOOK.parent / "README.md").read_text()
    assert "the faithful notebook's, less `eval_parzen`" in readme and "`../runs/notebook-keras3`" in readme
    for name in ("iterations", "batch_size", "seed", "preset", "figs_dir", "extra_settings", "eval_per_label"):
        assert declared[name]["default"] == faithful[name]["default"], name


def test_committed_companion_is_one_real_full_execution():
    """The committed companion holds one execution from an empty run folder, seed 2017, full length;
    its study table is reproduction.idiom_table of the committed studies; it stays small."""
    import re

    from cgan import reproduction

    assert NOTEBOOK.stat().st_size <= 3 * 1024 * 1024
    nb = json.loads(NOTEBOOK.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert [c["execution_count"] for c in code] == list(range(1, len(code) + 1)), "every code cell ran once, in order"
    injected = [c for c in code if "injected-parameters" in c["metadata"].get("tags", [])]
    assert len(injected) == 1 and "".join(injected[0]["source"]).strip().endswith("seed = 2017")
    params = next(c for c in code if "parameters" in c["metadata"].get("tags", []))
    assert re.search(r"^iterations = 5000\b", "".join(params["source"]), re.M)

    def text(cell):
        return "".join("".join(o.get("text", "")) for o in cell["outputs"])

    training = next(c for c in code if "for i in bar:" in "".join(c["source"]))
    reported = re.search(r"^5000 iterations \((\d+) s in this session\)", text(training), re.M)
    assert reported, "the training cell's own report of a full run"
    assert training["metadata"]["papermill"]["duration"] >= int(reported.group(1)) - 0.5
    assert "resumed" not in "".join(text(c) for c in code[:code.index(training)]), "from an empty run folder"
    meta = nb["metadata"]["papermill"]
    assert meta["parameters"] == {"seed": 2017} and meta["exception"] in (None, False)
    table = next(c for c in code if "idiom_table" in "".join(c["source"]))
    shown = "".join("".join(o["data"]["text/markdown"]) for o in table["outputs"] if "text/markdown" in o.get("data", {}))
    studies = [json.loads((ROOT / "figs" / name / "study.json").read_text()) for name in ("study", "study-keras3")]
    assert shown == reproduction.idiom_table(*studies)
    everything = json.dumps([c["outputs"] for c in code])
    for log_line in ("INFO:tensorflow", "WARNING:tensorflow", "I0000 ", "W0000 ", "E0000 "):
        assert log_line not in everything, f"a TensorFlow log line ({log_line}) in the committed outputs"
