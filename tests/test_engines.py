"""Where a study's seeds run (cgan.engines): a real Dask LocalCluster gives the study.json that
the local engine gives; a worker killed mid-task loses its seed to no one (the task runs again
and the seed resumes); a SIGTERM to the study stops its seeds; one job carries on past a
seed that fails."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TINY_STUDY = ["--iterations", "20", "--batch-size", "32", "--per-label", "20", "--ema", "--no-progress"]
VOLATILE = {"training_seconds", "training_minutes", "machine", "run_dir", "command"}  # times, paths, the command


def cgan_command(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "cgan", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, **kwargs)


def stable(value):
    """study.json without what may differ between two runs of the same study: seconds, paths."""
    if isinstance(value, dict):
        return {k: stable(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [stable(v) for v in value]
    return value


def processes(text: str) -> dict[int, int]:
    """Running processes whose command line holds ``text``: pid -> parent pid."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if text in cmdline:
            found[int(entry.name)] = ppid
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_dask_local_cluster_gives_the_study_json_of_the_local_engine(tmp_path):
    reports = {}
    for engine in ("local", "dask"):
        proc = cgan_command("study", "--engine", engine, "--jobs", 2, "--seeds", 1, 2, *TINY_STUDY,
                            "--runs-dir", tmp_path / engine / "runs", "--figs-dir", tmp_path / engine / "figs",
                            timeout=900)
        assert proc.returncode == 0, proc.stderr[-3000:]
        reports[engine] = json.loads((tmp_path / engine / "figs" / "study.json").read_text())
    local, dask = reports["local"], reports["dask"]
    assert [e["seed"] for e in dask["evaluations"]] == [1, 2]
    assert stable(dask) == stable(local)
    for seed in (1, 2):  # the seeds' pictures too
        name = f"cgan-seed-{seed}.png"
        assert (tmp_path / "dask" / "figs" / name).read_bytes() == (tmp_path / "local" / "figs" / name).read_bytes()


def test_a_worker_killed_mid_task_loses_nothing_the_seed_resumes_elsewhere(tmp_path):
    runs = tmp_path / "runs"
    study = subprocess.Popen(
        [sys.executable, "-m", "cgan", "study", "--engine", "dask", "--jobs", "2", "--seeds", "1", "2",
         "--iterations", "150", "--batch-size", "16", "--set", "batches_per_period=5", "--set", "save_periods=(0,)",
         "--set", "grid_size=3", "--set", "stall_periods=0", "--ema", "--no-judge", "--no-progress",
         "--runs-dir", str(runs),
         "--figs-dir", str(tmp_path / "figs")], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        seed1 = runs / "cgan-seed-1"
        wait_for(lambda: any((seed1 / "checkpoints").glob("ckpt-*[0-9]")), 300, "seed 1's first checkpoint")
        (child, worker), = wait_for(lambda: processes(f"--seed-dir {seed1} ").items(), 30, "seed 1's process")
        os.kill(worker, signal.SIGKILL)  # the Dask worker running seed 1's task
        wait_for(lambda: not alive(child), 60, "the lost worker's seed process to end")
        out, _ = study.communicate(timeout=900)
    finally:
        study.kill()
    assert study.returncode == 0, out[-3000:]
    for seed in (1, 2):
        record = json.loads((runs / f"cgan-seed-{seed}" / "evaluation.json").read_text())
        assert record["iterations"] == 150 and record["not_judged"] and not record.get("diverged")
    report = json.loads((tmp_path / "figs" / "stability.json").read_text())
    assert report["cells"][0]["seeds"] == 2


@pytest.mark.parametrize("engine", ["local", "dask"])
def test_a_sigterm_to_the_study_stops_its_seeds_and_the_command_resumes(tmp_path, engine):
    runs = tmp_path / "runs"
    args = ["study", "--engine", engine, "--jobs", "2", "--seeds", "1", "2", "--iterations", "100000", "--batch-size", "16",
            "--set", "batches_per_period=5", "--set", "save_periods=(0,)", "--set", "grid_size=3", "--ema",
            "--no-judge", "--no-progress", "--runs-dir", str(runs), "--figs-dir", str(tmp_path / "figs")]
    study = subprocess.Popen([sys.executable, "-m", "cgan", *args], cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    try:
        children = wait_for(lambda: len(processes(f"--seed-dir {runs}/")) == 2 and processes(f"--seed-dir {runs}/"),
                            120, "both seeds' processes")
        if engine == "local":
            assert set(children.values()) == {study.pid}
        wait_for(lambda: all(any((runs / f"cgan-seed-{s}" / "checkpoints").glob("ckpt-*[0-9]")) for s in (1, 2)),
                 300, "a checkpoint of each seed")
        study.send_signal(signal.SIGTERM)
        study.communicate(timeout=120)
    finally:
        study.kill()
    assert study.returncode == 128 + signal.SIGTERM
    for pid in children:
        assert not alive(pid), f"seed process {pid} outlived the study"
    # nothing was lost: the seeds' folders resume (and are free to)
    from cgan.checkpoints import latest_state

    assert all(latest_state(runs / f"cgan-seed-{s}")["iteration"] > 0 for s in (1, 2))


def test_one_job_carries_on_past_a_seed_that_fails(tmp_path):
    runs = tmp_path / "runs"
    other = runs / "cgan-seed-1"  # seed 1's folder holds another run: that seed fails
    other.mkdir(parents=True)
    from cgan import Settings

    (other / "settings.json").write_text(json.dumps(Settings(seed=1, lr_dis=5e-5, iterations=20).to_dict()))
    proc = cgan_command("study", "--jobs", "1", "--seeds", 1, 2, *TINY_STUDY, "--runs-dir", runs,
                        "--figs-dir", tmp_path / "figs", timeout=900)
    assert proc.returncode == 1
    assert f"study: cgan seed 1 failed in {other}: ValueError" in proc.stderr
    assert "error: seeds [1] failed (see above); run the command again to resume them" in proc.stderr
    assert json.loads((runs / "cgan-seed-2" / "evaluation.json").read_text())["rows"]  # seed 2 was judged


def test_dask_missing_or_misused_is_said(tmp_path, monkeypatch):
    from cgan import Settings, engines, study

    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    with pytest.raises(ValueError, match=r"needs Dask's distributed scheduler.*pip install -e \.\[dask\]"):
        engines.run_dask([(["study"], tmp_path, "{}")], 1)
    tasks = [(Settings(seed=1), tmp_path / "s")]
    with pytest.raises(ValueError, match="engine must be one of local, dask, got 'ray'"):
        study.run_seeds(tasks, engine="ray")
    with pytest.raises(ValueError, match="--address .* needs --engine dask"):
        study.run_seeds(tasks, address="tcp://127.0.0.1:8786")


def test_a_task_returns_what_a_driver_without_the_workers_disk_needs(tmp_path):
    """No shared filesystem: the worker's folder and the driver's are two; the driver's copy
    of a finished seed, written from the task's files, counts as done (the same command run
    again does not train it again), and a worker folder holding another run is refused."""
    from cgan import Settings, engines, study, study_seed

    settings = Settings(seed=1, iterations=4, batch_size=16, batches_per_period=2, save_periods=(0,), grid_size=3,
                        threads=1)
    worker, driver = tmp_path / "worker" / "cgan-seed-1", tmp_path / "driver" / "cgan-seed-1"
    args = study.seed_args(worker, 20, False, judge=False)
    result = engines.seed_task(args, str(worker), json.dumps(settings.to_dict()))
    assert result["code"] == 0, result["stderr"]
    assert list(result["files"])[:2] == ["generator.npz", "evaluation.json"]
    study_seed.write_seed_settings(driver, settings)
    engines._write_back(driver, result["files"])
    assert study_seed.read_evaluation(driver, settings, 20, False, judge=False)["not_judged"]
    other = tmp_path / "other" / "cgan-seed-1"
    study_seed.write_seed_settings(other, settings.replace(lr_dis=5e-5))
    with pytest.raises(ValueError, match=r"holds another run \(its settings differ in \['lr_dis'\]\)"):
        engines.seed_task(study.seed_args(other, 20, False, judge=False), str(other), json.dumps(settings.to_dict()))
