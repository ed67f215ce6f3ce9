"""TensorFlow, imported once for all of cgan, without its harmless start-up lines.

TensorFlow's native libraries log a few lines while they load ("oneDNN custom
operations are on", "This TensorFlow binary is optimized to use available CPU
instructions", and the abseil notice before them; on a machine without a GPU also
"Could not find cuda drivers" and "failed call to cuInit"). They are written before
abseil's logging is set up, so ``TF_CPP_MIN_LOG_LEVEL`` cannot hide them: the cause
lies inside TensorFlow. So the first import here runs with the process's stderr (file
descriptor 2) sent through a small filter process that drops exactly those lines and
passes every other line on at once. The filter is a process of its own, so if the
import kills the process (a fatal check in TensorFlow's C++, a CPU it cannot run on,
a protobuf mismatch), the filter still writes out everything that was printed.

Where a GPU is expected (``/dev/nvidiactl`` or ``/proc/driver/nvidia`` exists, or
``CUDA_VISIBLE_DEVICES`` names a device), the driver and cuInit lines are kept: there
they are the clue to a broken driver. ``CGAN_TF_VERBOSE=1`` turns the filter off.

Unless ``TF_CPP_MIN_LOG_LEVEL`` is set already (or ``CGAN_TF_VERBOSE=1``), it is set
to 1 before that import (an environment variable of the process, which stays set):
it hides TensorFlow's informational C++ lines but none of its warnings or errors.
Nothing else changes: TensorFlow's execution mode and Python warnings are left as they
are, and if TensorFlow was imported before cgan, this does nothing.
"""
from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

# The start-up lines TensorFlow 2.21 prints on a CPU machine that are always harmless.
HARMLESS = (r"WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
            r"|[IWE]\d{4} [\d:. ]+\d+ (port\.cc:\d+\] oneDNN custom operations are on"
            r"|cpu_feature_guard\.cc:\d+\] This TensorFlow binary is optimized to use available CPU instructions)"
            r"|To enable the following instructions: .*rebuild TensorFlow with the appropriate compiler flags\.")
# Harmless only where no GPU is expected.
NO_GPU = (r"[IWE]\d{4} [\d:. ]+\d+ (cudart_stub\.cc:\d+\] Could not find cuda drivers on your machine"
          r"|cuda_platform\.cc:\d+\] failed call to cuInit: )")

# The filter process: copies stdin to stdout line by line, dropping lines that match argv[1].
_FILTER = ("import re, sys\n"
           "pattern = re.compile(sys.argv[1])\n"
           "for line in sys.stdin.buffer:\n"
           "    if not pattern.match(line.decode(errors='replace')):\n"
           "        sys.stdout.buffer.write(line)\n"
           "        sys.stdout.buffer.flush()\n")


def gpu_expected() -> bool:
    """Whether this machine looks meant to run TensorFlow on an NVIDIA GPU."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None and visible.strip() not in ("", "-1"):
        return True
    return Path("/dev/nvidiactl").exists() or Path("/proc/driver/nvidia").exists()


def startup_pattern() -> str:
    """The lines the import drops: the harmless ones, and the GPU ones where no GPU is expected."""
    return f"^({HARMLESS})" if gpu_expected() else f"^({HARMLESS}|{NO_GPU})"


@contextlib.contextmanager
def _stderr_filtered(pattern: str) -> Iterator[None]:
    """Send file descriptor 2 through a filter process for the block, dropping the lines
    that match ``pattern``; the filter drains everything even if this process dies."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no real stderr: nothing to filter
        yield
        return
    try:
        read, write = os.pipe()
        child = subprocess.Popen([sys.executable, "-c", _FILTER, pattern], stdin=read, stdout=saved,
                                 stderr=subprocess.DEVNULL, close_fds=True)
    except OSError:  # cannot start it: import unfiltered rather than not at all
        os.close(saved)
        yield
        return
    os.close(read)
    os.dup2(write, 2)
    os.close(write)
    try:
        yield
    finally:
        os.dup2(saved, 2)  # the pipe's last writer is gone: the filter reads to the end and exits
        os.close(saved)
        child.wait()


def _import_tensorflow():
    if "tensorflow" in sys.modules:
        import tensorflow
        return tensorflow
    if os.environ.get("CGAN_TF_VERBOSE") == "1":
        import tensorflow
        return tensorflow
    # TensorFlow's own informational log lines (not warnings or errors), unless the user chose a level
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    with _stderr_filtered(startup_pattern()):
        import tensorflow
        tensorflow.config.list_physical_devices()  # loads the device platforms (cuInit) now, while filtered
    return tensorflow


tf = _import_tensorflow()


class _DropMessage(logging.Filter):
    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def filter(self, record: logging.LogRecord) -> bool:
        return self.text not in record.getMessage()


@contextlib.contextmanager
def without_tf_message(text: str) -> Iterator[None]:
    """Drop TensorFlow log records that contain ``text`` (one exact message) during the block."""
    logger = tf.get_logger()
    drop = _DropMessage(text)
    logger.addFilter(drop)
    try:
        yield
    finally:
        logger.removeFilter(drop)
