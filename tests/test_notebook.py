"""The notebook runs end to end on a real Jupyter kernel; its own copy of the article's graph
and loop gives the same bits as ``cgan.train``; the committed notebook holds a full run whose
pictures are those in figs/; the figures command works."""
import base64
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import papermill as pm
import pytest
import tensorflow as tf
import tf_keras
from PIL import Image

import cgan
from cgan import statefile, study_report, sweep_report
from cgan.cli import main
from conftest import TINY, TINY_ARGS

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "cgan_gan_tensorflow.ipynb"
EXTRA = {"batches_per_period": 2, "save_periods": [0, 1, 3], "grid_size": 3}
TINY_PARAMS = dict(iterations=7, batch_size=16, seed=3, eval_per_label=5, eval_parzen=False, extra_settings=EXTRA)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=test", "-c", "user.email=test@localhost", *args],
                          check=True, capture_output=True, text=True).stdout


def execute_in_a_copy(tmp: Path, notebook: str, parameters: dict) -> tuple[Path, Path, str]:
    """Execute notebooks/<notebook> headless in a copy of the checkout (its tracked files, committed in
    a new git repository under tmp): (output notebook, the copy, `git status` before the run)."""
    clone = tmp / "clone"
    for name in git(ROOT, "ls-files", "-z").split("\0"):
        if name and (ROOT / name).is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, clone / name)
    git(clone, "init", "-q")
    git(clone, "add", "-A")
    git(clone, "commit", "-q", "-m", "the checkout's tracked files")
    status_before = git(clone, "status", "--porcelain", "--untracked-files=all")
    out = tmp / "out.ipynb"  # the executed notebook goes outside the clone, as a frontend's save would not count
    pm.execute_notebook(str(clone / "notebooks" / notebook), str(out), cwd=str(clone / "notebooks"),
                        kernel_name="python3", parameters=parameters, progress_bar=False)
    return out, clone, status_before


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The notebook executed headless at tiny settings with a seed, in a copy of the checkout, with
    the default run and figs folders: (output notebook, its run and figs folders, the copy, `git status`
    before the run)."""
    out, clone, status_before = execute_in_a_copy(tmp_path_factory.mktemp("notebook"), NOTEBOOK.name, TINY_PARAMS)
    return out, clone / "runs" / "notebook", clone / "runs" / "notebook" / "figs", clone, status_before


def test_run_all_with_the_defaults_changes_no_tracked_file(executed):
    _, run, _, clone, before = executed
    assert (run / "generator.npz").is_file()  # it did train, in the ignored runs/
    assert before == "" and git(clone, "status", "--porcelain", "--untracked-files=all") == ""
    assert "runs/" in git(clone, "status", "--porcelain", "--ignored")


def test_notebook_runs_headless_and_writes_its_figures(executed):
    out, run, figs, _, _ = executed
    for c in range(10):
        assert (figs / f"manifold_{c}.png").is_file()
        with Image.open(figs / f"manifold_{c}.gif") as im:
            assert im.n_frames == 3  # periods 0, 1 and 3 of 7 iterations at 2 a period
    assert (run / "generator.npz").is_file() and (figs / "latent_walk_3.gif").is_file()
    nb = json.loads(out.read_text())
    text = out.read_text()
    sources = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    # the lesson's code stands in the cells
    for line in ("sess = tf.compat.v1.Session(", "K.set_session(sess)", "Input(tensor=x_)",
                 "tf.compat.v1.variable_scope('generator')", "log_dis_gen_z = tf.reduce_mean(",
                 "get_collection(tf.compat.v1.GraphKeys.TRAINABLE_VARIABLES, 'discrim')",
                 "tf.compat.v1.train.RMSPropOptimizer(", "K.learning_phase(): 1", "if l_d < s.dis_exit_below:",
                 "if l_d > s.gen_exit_above:", "tf.compat.v1.disable_eager_execution()"):
        assert line in sources, line
    assert "7 iterations" in text
    assert "real test digits (ceiling)" in text and "untrained CGAN (floor)" in text  # the metrics table
    # the sliders: one output carrying the widget view and its static picture, whatever started the kernel
    sliders = next(c for c in nb["cells"] if "cgan.explore.sliders(" in "".join(c["source"]))
    assert [sorted(o["data"]) for o in sliders["outputs"]] == [
        ["application/vnd.jupyter.widget-view+json", "image/png", "text/plain"]]
    assert (figs / "metrics_over_training.png").is_file()
    # only our own output: no TensorFlow log lines or warnings on stderr
    stderr = [o["text"] for c in nb["cells"] if c["cell_type"] == "code" for o in c["outputs"]
              if o.get("name") == "stderr"]
    assert not "".join(stderr).strip(), stderr


def test_notebook_loop_gives_the_same_bits_as_cgan_train(executed, tmp_path):
    _, run, _, _, _ = executed
    settings = cgan.Settings(iterations=7, batch_size=16, seed=3, **EXTRA)
    trainer = cgan.train(settings, tmp_path / "package", progress=False)
    reader = tf.train.load_checkpoint(str(run / "checkpoints" / "ckpt-00000007" / "model"))
    names = [n for n in reader.get_variable_to_shape_map() if n.startswith(("generator/", "discrim/"))]
    assert any("RMSProp" in n for n in names) and len(names) > 28  # weights and both optimizers' slots
    package = tf.train.load_checkpoint(str(tmp_path / "package" / "checkpoints" / "ckpt-00000007" / "model"))
    for name in names:
        np.testing.assert_array_equal(reader.get_tensor(name), package.get_tensor(name), err_msg=name)
    history = statefile.read(run / "checkpoints" / "ckpt-00000007")["history"]
    assert history["d_steps"] == trainer.history.d_steps and history["g_steps"] == trainer.history.g_steps
    assert history["l_dis"] == trainer.history.l_dis
    # the snapshots are the same pixels too
    for period in (0, 1, 3):
        with np.load(run / "snapshots" / f"period-{period:05d}.npz") as a, \
                np.load(tmp_path / "package" / "snapshots" / f"period-{period:05d}.npz") as b:
            np.testing.assert_array_equal(a["figures"], b["figures"])


def test_notebook_parameters_are_the_documented_ones():
    # papermill warns about a name the parameters cell does not declare; these are the ones it declares
    declared = pm.inspect_notebook(str(NOTEBOOK))
    assert set(declared) == {"iterations", "batch_size", "seed", "preset", "run_dir", "figs_dir", "extra_settings",
                             "eval_per_label", "eval_parzen"}
    # notebooks/README.md's table lists each, with its default as the cell declares it
    rows = dict(re.findall(r"^\| `(\w+)` \| (.+?) \|", (NOTEBOOK.parent / "README.md").read_text(), re.M))
    assert set(rows) == set(declared)
    for name, spec in declared.items():
        assert rows[name].strip("`") == spec["default"], name


@pytest.mark.parametrize("preset", ["printed", "figure-time", "published"])
def test_the_notebooks_preset_parameter_gives_that_presets_settings(preset):
    # the parameters cell, papermill's override of it, then the cell that makes the settings, run as the kernel would
    code = [c for c in json.loads(NOTEBOOK.read_text())["cells"] if c["cell_type"] == "code"]
    params = next(c for c in code if "parameters" in c["metadata"].get("tags", []))
    makes = next(c for c in code if "".join(c["source"]).startswith("settings = "))
    scope = {"cgan": cgan}
    exec("".join(params["source"]), scope)
    exec(f"preset = {preset!r}\nseed = 2017", scope)
    exec("".join(makes["source"]), scope)
    assert scope["settings"] == cgan.Settings.preset(preset).replace(seed=2017)
    assert (scope["settings"].lr_dis, scope["settings"].k_step) == ((1e-4, 5) if preset == "printed" else (1e-3, 10))


def _code_cells(*starts: str) -> list[str]:
    """The committed notebook's code cells that begin with each of ``starts``, in that order."""
    code = ["".join(c["source"]) for c in json.loads(NOTEBOOK.read_text())["cells"] if c["cell_type"] == "code"]
    return [next(c for c in code if c.startswith(start)) for start in starts]


def test_a_figure_time_run_after_a_printed_run_opens_its_own_run_folder(small_data, tmp_path, monkeypatch):
    """`papermill -p preset figure-time` (or its old name, published) after a printed Run All: the
    notebook's own cells pick the preset's run folder, so open_run does not refuse the printed run's."""
    params, makes, opens = _code_cells("# Parameters", "settings = ", "run = cgan.open_run(")
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")  # the kernel's working folder: ../runs is tmp_path/runs

    def run_cells(injected: str) -> dict:
        scope = {"cgan": cgan, "data": small_data}
        for cell in (params, injected, makes, opens):  # as papermill runs them, its injected cell second
            exec(cell, scope)
        scope["run"].close()
        return scope

    printed = run_cells("iterations = 3\nseed = 1")
    for preset in ("published", "figure-time"):
        later = run_cells(f"iterations = 3\nseed = 1\npreset = {preset!r}")
        assert Path(later["run_dir"]) == Path("../runs/notebook-figure-time")
        assert later["figs_dir"] == "../runs/notebook-figure-time/figs"
        assert (later["settings"].lr_dis, later["settings"].k_step) == (1e-3, 10)
    assert Path(printed["run_dir"]) == Path("../runs/notebook") and printed["settings"].k_step == 5
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["notebook", "notebook-figure-time"]
    # a run folder named by hand is still checked: the printed run's folder refuses the preset
    with pytest.raises(ValueError, match="k_step"):
        run_cells("iterations = 3\nseed = 1\npreset = 'figure-time'\nrun_dir = '../runs/notebook'")


ARTICLE_NAMES = ("Dense", "Dropout", "Reshape", "UpSampling2D", "Conv2D", "RepeatVector", "LeakyReLU", "MaxPool2D",
                 "Flatten", "concatenate")


def test_the_quoted_article_code_builds_cgans_networks():
    """The notebook's quote of the article's generator and discriminator cells, run with Keras's own
    layers, has cgan's layers and variables and, given the same weights, draws the same digits and
    judges them the same with dropout off (cgan's default: the exact fast rewrites)."""
    from cgan.graph import make_inputs, make_session

    markdown = "".join("".join(c["source"]) for c in json.loads(NOTEBOOK.read_text())["cells"]
                       if c["cell_type"] == "markdown" and "with tf.variable_scope('generator'):" in "".join(c["source"]))
    listings = re.findall(r"```python\n(.*?)```", markdown, re.S)
    assert len(listings) == 2 and "RepeatVector(repeat_n)(lbl)" in listings[1]  # quoted as printed, bug and all
    settings = cgan.Settings(seed=0)
    sess = make_session(settings)
    with sess.graph.as_default():
        inputs = make_inputs(settings)
        scope = {name: getattr(tf_keras.layers, name) for name in ARTICLE_NAMES}
        scope.update(tf=tf.compat.v1, Model=tf_keras.Model, z=inputs.z, lbl=inputs.lbl, img=inputs.img,
                     dropout_rate=settings.dropout_rate)
        for listing in listings:
            exec(listing, scope)
        generator, discrim, generated, judged = (scope[name] for name in ("generator", "discrim", "generated", "d"))
        sess.run(tf.compat.v1.global_variables_initializer())
    ours = cgan.GANGraph(settings)
    theirs = dict(zip([v.name for v in generator.weights + discrim.weights],
                      sess.run(generator.weights + discrim.weights)))
    mine = ours.variable_values()
    assert list(theirs) == list(mine)  # the same variables, named the same, in the same order
    assert all(theirs[name].shape == mine[name].shape for name in mine)
    plain = [type(layer).__name__ for layer in generator.layers + discrim.layers]
    assert plain.count("Conv2D") == 5 and plain.count("Dropout") == 5 and plain.count("UpSampling2D") == 2
    with sess.graph.as_default():
        for var in generator.weights + discrim.weights:
            var.load(mine[var.name], sess)
    rng = np.random.default_rng(0)
    z = rng.standard_normal((20, 2)).astype("float32")
    labels = cgan.one_hot(np.arange(20) % 10, 10)
    images = rng.random((20, 28, 28, 1)).astype("float32")
    x_, y_, z_ = inputs.x_, inputs.y_, inputs.z_
    theirs_g, theirs_d = sess.run([generated, judged], {z_: z, y_: labels, x_: images})
    np.testing.assert_allclose(ours.generate(z, labels), theirs_g, atol=1e-5)
    ours_d = ours.sess.run(ours.discr_img, {ours.inputs.x_: images, ours.inputs.y_: labels, ours.learning_phase: 0})
    np.testing.assert_allclose(ours_d, theirs_d, atol=1e-5)
    ours.close()
    sess.close()


def _png_pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("L"))


def test_committed_notebook_holds_a_full_run_whose_manifolds_are_figs():
    assert NOTEBOOK.stat().st_size <= 3 * 1024 * 1024
    nb = json.loads(NOTEBOOK.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    params = next(c for c in code if "parameters" in c["metadata"].get("tags", []))
    assert re.search(r"^iterations = 5000\b", "".join(params["source"]), re.M)
    texts = "".join(o.get("text", "") if isinstance(o.get("text", ""), str) else "".join(o["text"])
                    for c in code for o in c["outputs"])
    assert re.search(r"^5000 iterations \(", texts, re.M), "the training cell's output of a full run"
    assert "100%" in texts and "5000/5000" in texts
    # every label's manifold is in the outputs, pixel for pixel the PNG in figs/
    shown = next(c for c in code if "manifold_{c}.png" in "".join(c["source"]))
    pngs = [base64.b64decode(o["data"]["image/png"]) for o in shown["outputs"] if "image/png" in o.get("data", {})]
    assert len(pngs) == 10
    for c, data in enumerate(pngs):
        np.testing.assert_array_equal(_png_pixels(data), _png_pixels((ROOT / "figs" / f"manifold_{c}.png").read_bytes()))
    # GIFs are linked from figs/, not embedded
    assert not any("image/gif" in o.get("data", {}) for c in code for o in c["outputs"])
    assert "../figs/manifold_0.gif" in texts or any("../figs/manifold_0.gif" in json.dumps(o)
                                                   for c in code for o in c["outputs"])
    # the results section quotes the committed seed study's CGAN part, word for word
    quoting = next(c for c in code if "study_report.quote" in "".join(c["source"]))
    shown = "".join("".join(o["data"]["text/markdown"])
                    for o in quoting["outputs"] if "text/markdown" in o.get("data", {}))
    study = json.loads((ROOT / "figs" / "study" / "study.json").read_text())
    assert shown == study_report.quote(study, kinds=["cgan"])
    # the closing shows the committed stability map's table, and links the Keras 3 companion
    mapping = next(c for c in code if "sweep_report.markdown" in "".join(c["source"]))
    shown = "".join("".join(o["data"]["text/markdown"])
                    for o in mapping["outputs"] if "text/markdown" in o.get("data", {}))
    stability = json.loads((ROOT / "figs" / "stability" / "stability.json").read_text())
    assert shown == sweep_report.markdown(stability)
    prose = " ".join(" ".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown").split()
    prose = " ".join(prose)
    cells = {(c["cell"]["lr_dis"], c["cell"]["k_step"]): c for c in stability["cells"]}
    printed, published = cells[(1e-4, 5)], cells[(1e-3, 10)]
    assert printed["presets"] == ["printed"] and published["presets"] == ["figure-time"]
    percent = lambda cell: "–".join(str(round(100 * x)) for x in cell["wilson95"]) + "%"  # noqa: E731
    assert printed["diverged"] == 0 and cells[(1e-4, 10)]["diverged"] == 0
    assert f"none of {printed['seeds']} seeds diverged there (95% Wilson interval {percent(printed)})" in prose
    assert f"{published['diverged']} of {published['seeds']} diverged ({percent(published)})" in prose
    first = dict(zip(published["diverged_seeds"], published["stalled_from"]))
    assert first == {2019: 84, 2020: 84, 2024: 83}
    assert "seeds 2019 and 2020 with the discriminator winning from iteration 84" in prose
    assert "seed 2024 (not in that study) from 83" in prose
    for lr in (1e-4, 1e-3):
        runs = [cells[(lr, k)] for k in (5, 10)]
        assert (f"{sum(c['diverged'] for c in runs)} of {sum(c['seeds'] for c in runs)}"
                f"{' runs diverged' if lr == 1e-4 else ''} at `lr_dis = {lr:.0e}`".replace("e-0", "e-")) in prose
    fates = {lr: [set(cells[(lr, k)]["diverged_seeds"]) for k in (5, 10)] for lr in (1e-4, 3e-4, 1e-3)}
    assert [lr for lr, (a, b) in fates.items() if a != b] == [3e-4] and fates[3e-4][0] ^ fates[3e-4][1] == {2020}
    assert "`k_step` changed the fate of one seed only, 2020 at `lr_dis = 3e-4`" in prose
    assert "[cgan_keras3.ipynb](cgan_keras3.ipynb)" in prose


def test_jupyter_opens_notebooks():
    for module in ("jupyterlab", "notebook"):
        proc = subprocess.run([sys.executable, "-m", module, "--version"], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0 and re.match(r"\d+\.\d+", proc.stdout.strip()), (module, proc.stderr[-500:])
    bin_dir = Path(sys.executable).parent
    assert (bin_dir / "jupyter-lab").is_file() and (bin_dir / "jupyter-notebook").is_file()


def test_figures_command_writes_every_article_figure(tmp_path, capsys):
    assert main(["figures", "--figs-dir", str(tmp_path / "figs"), "--runs-dir", str(tmp_path / "runs"),
                 *TINY_ARGS]) == 0
    names = {p.name for p in (tmp_path / "figs").iterdir()}
    expected = {f"manifold_{c}.{ext}" for c in range(10) for ext in ("png", "gif")}
    assert names == expected | {"GAN_manifold.png", "GAN_manifold.gif"}
    assert {p.name for p in (tmp_path / "runs").iterdir()} == {"cgan", "gan"}
    assert f"CGAN: {TINY.iterations} iterations" in capsys.readouterr().out


def test_committed_notebook_is_one_real_execution():
    """The committed outputs hold together as one execution from an empty run folder."""
    nb = json.loads(NOTEBOOK.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), "every code cell ran once, in order"
    injected = [c for c in code if "injected-parameters" in c["metadata"].get("tags", [])]
    assert len(injected) == 1 and "".join(injected[0]["source"]).strip().endswith("seed = 2017")
    assert "figs_dir" not in "".join(injected[0]["source"])  # Run All of the committed notebook leaves figs/ alone

    def text(cell):
        return "".join("".join(o.get("text", "")) for o in cell["outputs"])

    training = next(c for c in code if "for i in bar:" in "".join(c["source"]))
    reported = re.search(r"^5000 iterations \((\d+) s in this session\)", text(training), re.M)
    assert reported, "the training cell's own report of a full run"
    assert training["metadata"]["papermill"]["duration"] >= int(reported.group(1)) - 0.5  # printed rounded
    before = "".join(text(c) for c in code[:code.index(training)])
    assert "resumed" not in before, "the run started from an empty run folder"
    meta = nb["metadata"]["papermill"]
    assert meta["duration"] >= training["metadata"]["papermill"]["duration"]
    assert meta["parameters"] == {"seed": 2017} and meta["exception"] in (None, False)
    everything = json.dumps([c["outputs"] for c in code])
    for log_line in ("INFO:tensorflow", "WARNING:tensorflow", "I0000 ", "W0000 ", "E0000 "):
        assert log_line not in everything, f"a TensorFlow log line ({log_line}) in the committed outputs"
