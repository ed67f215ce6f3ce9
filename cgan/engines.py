"""Where a study's seeds run, each as the self-describing command of :func:`cgan.study.seed_command`
(it reads the seed's settings from its run folder, so the folders are the study's only state):

- ``local`` (:func:`run_local`): processes on this machine, ``jobs`` at a time;
- ``dask`` (:func:`run_dask`): one task a seed on a Dask ``distributed`` cluster, a
  ``LocalCluster`` when no address is given (``pip install -e .[dask]``).

Either way a SIGTERM or Ctrl-C to the study stops the seeds it started (a run folder keeps its
newest checkpoint: the command run again resumes), and the exit codes come back in order.
"""
from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ENGINES = ("local", "dask")
DASK_MISSING = ("--engine dask needs Dask's distributed scheduler, which is not installed: "
                "pip install -e .[dask] (or pip install 'dask[distributed]')")
CPUS = "cpus"        # the Dask worker resource a seed's task reserves, one a TensorFlow thread
RETRIES = 3          # a task whose worker is lost is run again, on another worker, up to this many times


class Stopped(SystemExit):
    """The study was sent SIGTERM: its seeds were stopped; their folders resume."""


@contextlib.contextmanager
def stop_on_sigterm():
    """Within the block a SIGTERM raises :class:`Stopped` (exit code 143), so that the
    ``finally`` clauses stop what the study started; the handler before is put back after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise Stopped(128 + signum)

    before = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def _stop(procs: list[subprocess.Popen], grace: float = 30.0) -> None:
    """SIGTERM to each process still running, then SIGKILL to any left after ``grace`` seconds."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + grace
    for proc in procs:
        try:
            proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_local(commands: list[list[str]], jobs: int) -> list[int]:
    """Run the commands on this machine, ``jobs`` at a time; returns their exit codes, in order.
    A SIGTERM (or Ctrl-C) to this process stops the running commands before it ends."""
    pending = list(enumerate(commands))
    running: dict[int, subprocess.Popen] = {}
    codes = [0] * len(commands)
    with stop_on_sigterm():
        try:
            while pending or running:
                while pending and len(running) < jobs:
                    index, command = pending.pop(0)
                    running[index] = subprocess.Popen(command)
                time.sleep(0.5)
                for index, proc in list(running.items()):
                    if proc.poll() is not None:
                        codes[index] = proc.returncode
                        del running[index]
        finally:
            _stop(list(running.values()))
    return codes


# -- Dask --------------------------------------------------------------------------------------
def _exit_with_parent() -> None:
    """In a seed's process, before it runs (Linux): SIGTERM it when the worker that started it
    dies, so that a lost worker leaves no training behind holding the run folder's lock."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def seed_task(args: list[str], run_dir: str, settings_json: str) -> dict:
    """A seed of the study as a Dask task, on a worker: give the folder its settings if it has
    none (a worker without the driver's filesystem), run ``python -m cgan ARGS`` there, and
    return ``{"code": exit code, "files": {name: bytes}}``: the seed's ``evaluation.json`` and
    the pictures it names, for the driver to write into its own copy of the folder."""
    from .files import atomic_path
    from .runfolder import EVALUATION_FILE, SETTINGS_FILE
    from .runlock import wait_until_free

    folder = Path(run_dir)
    folder.mkdir(parents=True, exist_ok=True)
    wait_until_free(folder)  # a retry after a lost worker: its seed's process may still be ending
    if not (folder / SETTINGS_FILE).is_file():
        with atomic_path(folder / SETTINGS_FILE) as tmp:
            tmp.write_text(settings_json)
    proc = subprocess.Popen([sys.executable, "-m", "cgan", *args], preexec_fn=_exit_with_parent)
    try:
        code = proc.wait()
    finally:
        _stop([proc])
    files = {}
    if code == 0 and (folder / EVALUATION_FILE).is_file():
        files[EVALUATION_FILE] = (folder / EVALUATION_FILE).read_bytes()
        for picture in sorted(folder.glob("*-seed-*.png")):  # cgan.study_seed.picture_name
            files[picture.name] = picture.read_bytes()
    return {"code": code, "files": files}


def _write_back(folder: Path, files: dict[str, bytes]) -> None:
    """Write a task's files into the driver's copy of its folder (unchanged ones are left)."""
    from .files import atomic_path

    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        target = folder / name
        if target.is_file() and target.read_bytes() == data:
            continue
        with atomic_path(target, keep_suffix=True) as tmp:
            tmp.write_bytes(data)


def _check_workers(client, threads: int) -> None:
    """A cluster's workers must offer ``threads`` of the ``cpus`` resource for a task to run."""
    workers = client.scheduler_info().get("workers", {}).values()
    if workers and not any(w.get("resources", {}).get(CPUS, 0) >= threads for w in workers):
        raise ValueError(f"no worker of the Dask cluster offers {threads} '{CPUS}' (each seed reserves one a "
                         f"TensorFlow thread); start the workers with --resources {CPUS}=N, N >= {threads}")


def run_dask(tasks: list[tuple[list[str], Path, str]], threads: int, address: str | None = None,
             workers: int = 1) -> list[int]:
    """Run each seed ``(args, run_dir, settings_json)`` as a task (:func:`seed_task`) reserving
    ``threads`` cpus, on the Dask scheduler at ``address``, or on a ``LocalCluster`` of
    ``workers`` worker processes; a task whose worker is lost is run again
    (by the scheduler, on another worker; a task that raised: up to :data:`RETRIES` times), and
    the seed resumes from its newest checkpoint. Writes each task's files into
    its folder and returns the exit codes, in order (-1: the task itself failed)."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ValueError(DASK_MISSING) from None
    import logging

    cluster = None
    codes = [-1] * len(tasks)
    with stop_on_sigterm(), contextlib.ExitStack() as stack:
        if address is None:
            cluster = stack.enter_context(LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, resources={CPUS: threads},
                dashboard_address=None, silence_logs=logging.WARNING))
        client = stack.enter_context(Client(address or cluster))
        _check_workers(client, threads)
        futures = [client.submit(seed_task, args, str(folder), settings_json, resources={CPUS: threads},
                                 retries=RETRIES, pure=False, key=f"cgan-seed-{index}-{Path(folder).name}")
                   for index, (args, folder, settings_json) in enumerate(tasks)]
        stack.callback(client.cancel, futures)
        for index, future in enumerate(futures):
            folder = Path(tasks[index][1])
            try:
                result = future.result()
            except Exception as exc:  # the task failed on every try, or its workers were lost too often
                print(f"study: the task of {folder} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
                continue
            _write_back(folder, result["files"])
            codes[index] = result["code"]
    return codes

