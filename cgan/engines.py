"""Where a study's seeds run, each as the self-describing command of :func:`cgan.study.seed_command`
(it reads the seed's settings from its run folder, so the folders are the study's only state):

- ``local`` (:func:`run_local`): processes on this machine, ``jobs`` at a time;
- ``dask`` (:func:`run_dask`): one task a seed on a Dask ``distributed`` cluster, a
  ``LocalCluster`` when no address is given (``pip install -e .[dask]``).

A SIGTERM or Ctrl-C to the study stops the seeds it runs on this machine or on its LocalCluster
(a run folder keeps its newest checkpoint: the command run again resumes); on a remote cluster
a seed already training goes on to its end. :func:`run_local` and :func:`run_dask` return the
seeds' exit codes in the order given.
"""
from __future__ import annotations

import contextlib
import json
import os
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
RETRIES = 3  # a task that raised runs again up to this many times (a lost worker: the scheduler's allowed-failures)


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
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut the clean-up short
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
def _die_with_parent():
    """A ``preexec_fn`` (Linux) for a seed's process: SIGTERM it when the worker that started it
    dies, so that a lost worker leaves no training behind holding the run folder's lock. libc's
    ``prctl`` is looked up here, in the parent; the child only calls it."""
    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec():
        prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the worker died before the call
            os._exit(1)

    return preexec


def seed_task(args: list[str], run_dir: str, settings_json: str, restarts: int = 0) -> dict:
    """A seed of the study as a Dask task, on a worker: give the folder its settings
    (:func:`cgan.study_seed.write_seed_settings`, from where a restarted run stands:
    :func:`cgan.study_seed.restart_point`; a worker without the driver's filesystem may hold an
    older copy of the folder), run ``python -m cgan ARGS`` there, and return ``{"code": exit
    code, "files": {name: bytes}, "stderr": its last lines}``: the seed's ``generator.npz``,
    ``evaluation.json`` and pictures, for the driver to write into its own copy of the folder."""
    import tempfile

    from .runfolder import EVALUATION_FILE
    from .runlock import wait_until_free
    from .settings import Settings
    from .study_seed import restart_point, write_seed_settings

    folder = Path(run_dir)
    folder.mkdir(parents=True, exist_ok=True)
    if not wait_until_free(folder):  # a retry after a lost worker: its seed's process may still be ending
        raise RuntimeError(f"{folder} is still locked by another process after 120 s")
    asked = Settings.from_dict(json.loads(settings_json))
    start, _ = restart_point(folder, asked, restarts)
    write_seed_settings(folder, start)
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([sys.executable, "-m", "cgan", *args], stderr=err, preexec_fn=_die_with_parent())
        try:
            code = proc.wait()
        finally:
            _stop([proc])
        err.seek(0)
        stderr = err.read().decode(errors="replace")[-3000:]
    sys.stderr.write(stderr)
    files = {}
    if code == 0 and (folder / EVALUATION_FILE).is_file():
        if (folder / "generator.npz").is_file():  # before evaluation.json: a record newer than its generator
            files["generator.npz"] = (folder / "generator.npz").read_bytes()
        files[EVALUATION_FILE] = (folder / EVALUATION_FILE).read_bytes()
        for picture in sorted(folder.glob("*-seed-*.png")):  # cgan.study_seed.picture_name's
            files[picture.name] = picture.read_bytes()
    return {"code": code, "files": files, "stderr": stderr}


def _write_back(folder: Path, files: dict[str, bytes]) -> None:
    """Write a task's files into the driver's copy of its folder, in their order (unchanged
    ones are left)."""
    from .files import atomic_path

    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        target = folder / name
        if target.is_file() and target.read_bytes() == data:
            continue
        with atomic_path(target, keep_suffix=True) as tmp:
            tmp.write_bytes(data)


def _check_workers(client, threads: int, timeout: float = 60.0) -> None:
    """Wait for a worker to join, then check that one offers ``threads`` of the ``cpus``
    resource, without which a task would wait for ever."""
    try:
        client.wait_for_workers(1, timeout=timeout)
    except TimeoutError:
        raise ValueError(f"no worker joined the Dask scheduler within {timeout:.0f} s; start one: dask worker "
                         f"ADDRESS --resources {CPUS}={threads}") from None
    workers = client.scheduler_info().get("workers", {}).values()
    if not any(w.get("resources", {}).get(CPUS, 0) >= threads for w in workers):
        raise ValueError(f"no worker of the Dask cluster offers {threads} '{CPUS}' (each seed reserves one a "
                         f"TensorFlow thread); start the workers with --resources {CPUS}=N, N >= {threads}")


def run_dask(tasks: list, threads: int, address: str | None = None, workers: int = 1) -> list[int]:
    """Run each seed ``(args, run_dir, settings, restarts)`` as a task (:func:`seed_task`)
    reserving ``threads`` cpus, on the Dask scheduler at ``address``, or on a ``LocalCluster`` of
    ``workers`` worker processes. A task whose worker is lost is run again by the scheduler (one
    that raised: up to :data:`RETRIES` times); its seed resumes from its newest checkpoint where
    the worker that runs it again sees the folder (a shared filesystem, or the same machine), and
    starts over elsewhere. Writes each task's files into its folder and returns the exit codes,
    in order (-1: the task itself failed)."""
    try:
        from distributed import Client, LocalCluster
        from dask.base import tokenize
    except ImportError:
        raise ValueError(DASK_MISSING) from None
    import logging

    codes = [-1] * len(tasks)
    with stop_on_sigterm(), contextlib.ExitStack() as stack:
        cluster = None
        if address is None:
            cluster = stack.enter_context(LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, resources={CPUS: threads},
                dashboard_address=None, silence_logs=logging.WARNING))
        client = stack.enter_context(Client(address or cluster))
        _check_workers(client, threads)
        futures = []
        for args, folder, settings, restarts in tasks:
            settings_json = json.dumps(settings.replace(threads=threads).to_dict(), indent=1)
            key = f"cgan-seed-{Path(folder).name}-" + tokenize(str(Path(folder).resolve()), args, settings_json)
            futures.append(client.submit(seed_task, args, str(folder), settings_json, restarts,
                                         resources={CPUS: threads}, retries=RETRIES, pure=False, key=key))
        stack.callback(client.cancel, futures)
        for index, future in enumerate(futures):
            folder = Path(tasks[index][1])
            try:
                result = future.result()
            except Exception as exc:  # the task failed on every try, or its workers were lost too often
                print(f"study: the task of {folder} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
                continue
            if result["code"] != 0 and address is not None:  # its worker's log is elsewhere
                print(f"study: {folder} on its worker:\n{result['stderr']}", file=sys.stderr)
            _write_back(folder, result["files"])
            codes[index] = result["code"]
    return codes
