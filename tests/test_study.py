"""python -m cgan study at tiny sizes, end to end: a kill and a resume, --jobs 2, --collect,
the table and the pictures."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

import cgan.runfolder
from cgan import readback, study, study_seed

TINY_STUDY = ["--iterations", "40", "--batch-size", "32", "--per-label", "20", "--ema", "0.9", "0.5"]


def cli(*args, env=None, **kwargs):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3") | (env or {})  # env: variables to add
    return subprocess.Popen([sys.executable, "-m", "cgan", "study", *map(str, args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            **kwargs)


def finish(proc, timeout=600):
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the study and the jobs it started
        proc.communicate()
        raise
    assert proc.returncode == 0, err[-3000:]
    return out


def test_study_end_to_end(tmp_path):
    runs, figs = tmp_path / "runs", tmp_path / "figs"
    common = ["--runs-dir", runs, "--figs-dir", figs, *TINY_STUDY]
    # killed while seed 1 trains, after its checkpoint at iteration 21 (of 40)
    proc = cli("--seeds", 1, 2, "--jobs", 1, "--no-progress", *common)
    seed1 = runs / "cgan-seed-1"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not (seed1 / "checkpoints" / "ckpt-00000021").is_dir():
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (seed1 / cgan.runfolder.EVALUATION_FILE).exists()
    # run again, two seeds at once: seed 1 resumes, seed 2 starts
    out = finish(cli("--seeds", 1, 2, "--jobs", 2, *common))
    jobs, threads = study.plan(2, 2)
    assert jobs == 2 and f"2 seeds, 2 at a time, {threads} TensorFlow thread(s) each" in out
    for seed in (1, 2):
        evaluation = json.loads((runs / f"cgan-seed-{seed}" / cgan.runfolder.EVALUATION_FILE).read_text())
        assert evaluation["iterations"] == 40 and evaluation["settings"]["threads"] == threads
        assert list(evaluation["rows"]) == [study_seed.FINAL, study_seed.variant_name(0.9), study_seed.variant_name(0.5)]
        assert evaluation["training_seconds"] > 0
    report = json.loads((figs / "study.json").read_text())
    assert [(r["seed"], r["variant"]) for r in report["seeds"]] == [
        (s, v) for s in (1, 2) for v in (study_seed.FINAL, study_seed.variant_name(0.9), study_seed.variant_name(0.5))]
    final = report["summary"][f"cgan: {study_seed.FINAL}"]
    accs = [r["accuracy_manifold"] for r in report["seeds"] if r["variant"] == study_seed.FINAL]
    assert final["accuracy_manifold"]["mean"] == pytest.approx(np.mean(accs))
    assert final["accuracy_manifold"]["sd"] == pytest.approx(np.std(accs, ddof=1))
    assert final["accuracy_manifold"]["n"] == 2
    assert set(report["reference"]["cgan"]) == {"real test digits (ceiling)", "untrained CGAN (floor)"}
    md = (figs / "study.md").read_text()
    assert "Over seeds: mean ± sd (min–max)." in md and "real test digits (ceiling)" in md
    assert md.count("| 1 | ") == 3 and md.count("| 2 | ") == 3
    assert [t["variant"] for t in report["targets"]] == [study_seed.variant_name(0.9), study_seed.variant_name(0.5)]
    assert "The averaged generator (ours) against its targets (means over seeds):" in md
    # one picture per seed and variant: 2 x 5 manifolds of 420 px, 2 px white gutters, 8-bit grey
    names = sorted(p.name for p in figs.glob("*.png"))
    assert names == sorted(["study_curves.png"] + [f"cgan-seed-{s}{v}.png" for s in (1, 2)
                                                   for v in ("", "-ema-0.9", "-ema-0.5")])
    picture = Image.open(figs / "cgan-seed-1.png")
    assert picture.mode == "L" and picture.size == (5 * 420 + 6 * 2, 2 * 420 + 3 * 2)
    pixels = np.asarray(picture)
    assert (pixels[:2] == 255).all() and (pixels[:, 422:424] == 255).all() and pixels[2:422, 2:422].min() < 128
    # run again: nothing is trained twice
    stamp = (seed1 / "generator.npz").stat().st_mtime_ns
    out = finish(cli("--seeds", 1, 2, *common))
    assert "trained and judged" not in out and (seed1 / "generator.npz").stat().st_mtime_ns == stamp
    # --collect from the seed folders (as if copied from two machines) gives the same rows
    out = finish(cli("--collect", seed1, runs / "cgan-seed-2", "--figs-dir", tmp_path / "merged",
                     "--runs-dir", runs))
    merged = json.loads((tmp_path / "merged" / "study.json").read_text())
    assert merged["seeds"] == report["seeds"] and merged["summary"] == report["summary"]
    assert merged["command"].startswith("python -m cgan study --collect")
    # ... and so does an earlier report (its pictures beside it), as a later session would merge it
    finish(cli("--collect", figs, "--figs-dir", tmp_path / "again", "--runs-dir", runs))
    again = json.loads((tmp_path / "again" / "study.json").read_text())
    assert again["seeds"] == report["seeds"] and (tmp_path / "again" / "cgan-seed-2-ema-0.5.png").is_file()
    # a stored evaluation counts only for a run of the same settings
    same = study.Settings(iterations=40, batch_size=32, seed=1, ema_decay=(0.9, 0.5))
    assert study_seed.read_evaluation(seed1, same, 20, False) is not None
    for other, per_label in ((same.replace(iterations=80), 20), (same.replace(lr_dis=5e-5), 20), (same, 30)):
        assert study_seed.read_evaluation(seed1, other, per_label, False) is None


HOOK = """
import os
if os.environ.get("CGAN_TEST_DIVERGE") is not None:  # the restarts test's stand-in for a diverging seed
    import signal
    from cgan import history

    diverge = {int(s) for s in os.environ["CGAN_TEST_DIVERGE"].split()}
    stop = {int(s) for s in os.environ.get("CGAN_TEST_STOP", "").split()}
    check = history.History.check_stall

    def check_stall(self, s):
        with open(os.environ["CGAN_TEST_LOG"], "a") as log:
            log.write(f"{s.seed} {len(self.l_dis)}\\n")
        if len(self.l_dis) >= 2 * s.batches_per_period and s.seed in stop:
            os.kill(os.getpid(), signal.SIGKILL)  # a stop, after the run's first checkpoint
        if len(self.l_dis) >= 2 * s.batches_per_period and s.seed in diverge:
            raise history.TrainingDiverged(f"seed {s.seed} diverged (the test says so)")
        check(self, s)

    history.History.check_stall = check_stall
"""


def test_study_restarts_a_diverged_seed_with_a_new_seed_and_says_so(tmp_path):
    """--restarts 1: seed 1 diverges and starts over as its restart seed in its own folder (the
    rule of cgan.train), is stopped, and the command run again (--jobs 2) continues that run;
    seed 3 diverges again after its restart; study.json and study.md say which seed each ended with."""
    (tmp_path / "hook").mkdir()
    (tmp_path / "hook" / "sitecustomize.py").write_text(HOOK)
    log = tmp_path / "log.txt"
    runs, figs = tmp_path / "runs", tmp_path / "figs"
    common = ["--runs-dir", runs, "--figs-dir", figs, "--iterations", 20, "--batch-size", 32, "--per-label", 20,
              "--ema", 0.9, "--set", "batches_per_period=5", "--set", "stall_periods=0", "--restarts", 1]
    env = {"PYTHONPATH": str(tmp_path / "hook"), "CGAN_TEST_LOG": str(log)}
    seed1 = runs / "cgan-seed-1"
    restart1, restart3 = study_seed.restart_seeds(1, 1)[1], study_seed.restart_seeds(3, 1)[1]
    # seed 1 diverges, starts over as its restart seed, and that run is stopped after its first checkpoint
    proc = cli("--seeds", 1, "--jobs", 1, "--no-progress", *common,
               env=env | {"CGAN_TEST_DIVERGE": "1", "CGAN_TEST_STOP": str(restart1)})
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == -signal.SIGKILL, err[-3000:]
    assert "Starting over in" in err
    # the folder holds the restarted run: the seed cgan.train chose is the one study_seed.restart_seeds expects
    assert cgan.runfolder.saved_settings(seed1).seed == restart1 != 1
    assert (seed1 / "checkpoints").is_dir() and not (seed1 / cgan.runfolder.EVALUATION_FILE).exists()
    assert study_seed.restart_point(seed1, study.Settings(seed=1), 1) == (study.Settings(seed=restart1), 1)
    assert study_seed.restart_point(seed1, study.Settings(seed=1), 0) == (study.Settings(seed=1), 0)
    # run again, in processes of their own: seed 1 continues its restarted run, seed 3 diverges twice
    log.unlink()
    assert study.seed_command(seed1, 20, False, 1, 1)[3:9] == ["study", "--seeds", "1", "--restarts", "1", "--seed-dir"]
    out = finish(cli("--seeds", 1, 2, 3, "--jobs", 2, *common,
                     env=env | {"CGAN_TEST_DIVERGE": f"1 3 {restart3}"}))
    checks = [tuple(map(int, line.split())) for line in log.read_text().splitlines()]
    assert not [c for c in checks if c[0] == 1], "seed 1 was trained again"
    first = [n for seed, n in checks if seed == restart1][0]
    assert first >= 10, checks  # resumed from its checkpoint (a fresh run checks first after 1 iteration)
    evaluation = json.loads((seed1 / cgan.runfolder.EVALUATION_FILE).read_text())
    assert (evaluation["seed"], evaluation["trained_seed"], evaluation["restarts"]) == (1, restart1, 1)
    assert evaluation["settings"]["seed"] == restart1 and evaluation["iterations"] == 20
    assert (seed1 / "cgan-seed-1.png").is_file()
    report = json.loads((figs / "study.json").read_text())
    rows = {(r["seed"], r["variant"]): r for r in report["seeds"]}
    assert sorted(rows) == sorted((s, v) for s in (1, 2) for v in (study_seed.variant_name(None), study_seed.variant_name(0.9)))
    for variant in (study_seed.variant_name(None), study_seed.variant_name(0.9)):
        assert (rows[1, variant]["trained_seed"], rows[1, variant]["restarts"]) == (restart1, 1)
        assert "trained_seed" not in rows[2, variant] and "restarts" not in rows[2, variant]
    [diverged] = report["diverged"]
    assert (diverged["seed"], diverged["trained_seed"], diverged["restarts"]) == (3, restart3, 1)
    md = (figs / "study.md").read_text()
    assert f"- CGAN seed 1 diverged and was restarted as seed {restart1}; its numbers are that run's." in md
    assert f"- CGAN seed 3 diverged, was restarted 1 time(s) (last as seed {restart3}) and diverged again" in md
    assert f"restarted as seed {restart1}" in out
    # run again: nothing is trained twice
    log.unlink()
    out = finish(cli("--seeds", 1, 2, 3, *common, env=env | {"CGAN_TEST_DIVERGE": f"1 3 {restart3}"}))
    assert "trained and judged" not in out and not log.exists()


def test_plain_gan_study(tmp_path):
    """--unconditional: the plain GAN's seeds are judged by coverage and Fréchet distance, and
    each picture is its one manifold."""
    from cgan import study_report

    figs = tmp_path / "figs"
    finish(cli("--unconditional", "--seeds", 3, "--no-progress", "--runs-dir", tmp_path / "runs", "--figs-dir", figs,
               "--iterations", 40, "--batch-size", 32, "--per-label", 20, "--ema", 0.9))
    report = json.loads((figs / "study.json").read_text())
    assert [(r["kind"], r["seed"], r["variant"]) for r in report["seeds"]] == [
        ("gan", 3, study_seed.FINAL), ("gan", 3, study_seed.variant_name(0.9))]
    assert set(report["reference"]["gan"]) == {"real test digits (ceiling)", "untrained GAN (floor)"}
    assert report["targets"] == [] and "accuracy_manifold" not in report["seeds"][0]
    assert 1 <= report["seeds"][0]["classes_over_5pct"] <= 10
    for seed in report["seeds"]:  # its manifold's classes, read from its picture
        assert 1 <= seed["manifold_classes_over_5pct"] <= 10 and 0 <= seed["manifold_smallest_share"] <= 0.1
    for name in ("gan-seed-3.png", "gan-seed-3-ema-0.9.png"):
        picture = Image.open(figs / name)
        assert picture.mode == "L" and picture.size == (420 + 2 * 2, 420 + 2 * 2)
    assert study_report.quote(report).startswith("| plain GAN, mean ± sd over one seed (min–max) |")
    assert "## plain GAN: one seed judged, 40 iterations each" in (figs / "study.md").read_text()


def test_seed_picture_layout():
    class Fake:
        settings = study.Settings(grid_size=2)

        def generate(self, z, labels=None):
            return np.broadcast_to(np.asarray(labels, "float32")[:, None, None, None] / 9, (len(z), 28, 28, 1))

    picture = readback.seed_picture(Fake())
    assert picture.shape == (2 * 56 + 3 * 2, 5 * 56 + 6 * 2) and picture.dtype == np.uint8
    assert picture[2, 2] == 255 and picture[2 + 56 + 2, 2 + 4 * 58] == 0  # label 0 white; label 9 black
    assert (picture[:, 58:60] == 255).all()


def test_bad_study_arguments_are_refused(tmp_path):
    for args, message in ((["--seeds", 1, 1], "--seeds must be distinct"), (["--jobs", 0], "--jobs must be >= 1"),
                          (["--collect", tmp_path / "nothing"], "is not a folder"),
                          (["--ema", 1.5], "ema_decay"), (["--restarts", -1], "--restarts must be an integer >= 0"),
                          (["--restarts", 1.5], "argument --restarts: invalid int value")):
        proc = cli(*args, "--runs-dir", tmp_path / "runs", "--figs-dir", tmp_path / "figs")
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 2 and message in err, err


def test_plan_splits_the_cores_between_the_jobs():
    assert study.plan(5, cores=2) == (2, 1)      # measured best on 2 cores: two 1-thread jobs
    assert study.plan(5, cores=16) == (5, 3)     # at most one job a seed
    assert study.plan(1, cores=2) == (1, 2)
    assert study.plan(4, jobs=2, cores=8) == (2, 4)


def test_published_figures_are_read_back_into_digits(tmp_path):
    """The article's manifold PNGs are judged like ours: figures drawn the article's way (matplotlib,
    "Greys" scaled to the picture's range, framed, at another size) come back as the same digits."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import cgan
    from cgan import metrics

    g = cgan.load_generator("cgan")
    figures = cgan.draw_manifolds(g)
    for c, figure in enumerate(figures):
        fig, ax = plt.subplots(figsize=(7.6, 7.6))
        ax.imshow(figure, cmap="Greys")
        ax.set_xticks([])
        ax.set_yticks([])
        fig.savefig(tmp_path / f"manifold_{c}.png", dpi=72)
        plt.close(fig)
    read = readback.published_manifolds(tmp_path)
    direct = metrics.conditional_accuracy(cgan.manifold_digits(g).reshape(-1, 28, 28, 1), np.repeat(np.arange(10), 225))
    assert read["accuracy_manifold"]["overall"] >= direct["overall"] - 0.02
    assert read["fd_manifold"] < 3 * readback.manifold_fd(g)  # resampling blurs a little, no more
    g.close()
    with pytest.raises(FileNotFoundError, match="manifold_0.png"):
        readback.published_manifolds(tmp_path / "nothing")


def test_the_plain_gans_published_figure_and_a_seeds_picture_read_back(tmp_path):
    """The article's GAN_manifold.png, drawn the article's way, reads back as the generator's own
    classes; a seed's picture cuts back into its manifolds' 8-bit digits."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import cgan
    from cgan.manifold import to_uint8

    for kind in ("gan", "cgan"):
        g = cgan.load_generator(kind)
        try:
            digits = cgan.manifold_digits(g)
            cut = readback.picture_manifolds(readback.seed_picture(g))
            np.testing.assert_allclose(cut, to_uint8(digits) / 255.0, atol=1e-6)
            if kind == "gan":
                fig, ax = plt.subplots(figsize=(7.6, 7.6))
                ax.imshow(cgan.draw_manifolds(g)[0], cmap="Greys")
                ax.set_xticks([])
                ax.set_yticks([])
                fig.savefig(tmp_path / "GAN_manifold.png", dpi=72)
                plt.close(fig)
                read = readback.published_gan_manifold(tmp_path)
                direct = readback.manifold_coverage(digits[0])
                # resampling blurs: measured up to 3 points a class here, up to 7 on the study seeds' pictures
                assert np.abs(np.subtract(read["shares"], direct["shares"])).max() <= 0.05
                assert abs(read["classes_over_5pct"] - direct["classes_over_5pct"]) <= 2
        finally:
            g.close()
    with pytest.raises(FileNotFoundError, match="GAN_manifold.png"):
        readback.published_gan_manifold(tmp_path / "nothing")
    with pytest.raises(ValueError, match="1 or 2 x 5 manifolds"):
        readback.picture_manifolds(np.zeros((100, 100), "uint8"))


def test_a_seeds_process_reads_its_settings_from_its_folder(tmp_path):
    """run_study hands each seed's process its settings in its folder's settings.json (no argv
    reprs); a folder that holds another run is refused before any process starts."""
    folder = tmp_path / "cgan-seed-1"
    settings = study.Settings.figure_time(seed=1, iterations=40, threads=1, ema_decay=(0.9,))
    study_seed.write_seed_settings(folder, settings)
    assert cgan.runfolder.saved_settings(folder) == settings
    command = study.seed_command(folder, 20, False)
    assert command[-7:] == ["study", "--seed-dir", str(folder), "--per-label", "20", "--no-progress", "--no-report"]
    study_seed.write_seed_settings(folder, settings.replace(threads=2))  # a setting that changes no number: fine
    with pytest.raises(ValueError, match=r"holds another run \(its settings differ in \['lr_dis'\]\)"):
        study_seed.write_seed_settings(folder, settings.replace(lr_dis=5e-5))
