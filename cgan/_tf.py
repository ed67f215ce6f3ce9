"""TensorFlow, imported once for all of cgan, without its start-up chatter.

TensorFlow's native libraries log a few lines while they load ("oneDNN custom
operations are on", "Could not find cuda drivers", "This TensorFlow binary is
optimized to use available CPU instructions", "failed call to cuInit", and the
abseil notice before them). They are written before abseil's logging is set up,
so ``TF_CPP_MIN_LOG_LEVEL`` cannot hide them: the cause lies inside TensorFlow.
So the first import here runs with the process's stderr (file descriptor 2) sent
to a temporary file, then writes back every line except those exact messages.

Unless ``TF_CPP_MIN_LOG_LEVEL`` is set already, it is set to 1 before that import,
which hides TensorFlow's informational C++ lines but none of its warnings or errors.
Nothing else changes: TensorFlow's execution mode and Python warnings are left as
they are, and if TensorFlow was imported before cgan, this does nothing.
"""
from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import tempfile
from typing import Iterator

# The start-up lines TensorFlow 2.21 prints on a CPU machine; nothing else is filtered.
STARTUP_MESSAGES = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|[IWE]\d{4} [\d:. ]+\d+ (port\.cc:\d+\] oneDNN custom operations are on"
    r"|cudart_stub\.cc:\d+\] Could not find cuda drivers on your machine"
    r"|cpu_feature_guard\.cc:\d+\] This TensorFlow binary is optimized to use available CPU instructions"
    r"|cuda_platform\.cc:\d+\] failed call to cuInit: )"
    r"|To enable the following instructions: .*rebuild TensorFlow with the appropriate compiler flags\.)")


@contextlib.contextmanager
def _stderr_filtered(pattern: re.Pattern) -> Iterator[None]:
    """Send file descriptor 2 to a temporary file for the block, then write back the
    lines that do not match ``pattern`` (all of them if the block raised)."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no real stderr: nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        failed = True
        try:
            yield
            failed = False
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            kept = [line for line in tmp.read().decode(errors="replace").splitlines(keepends=True)
                    if failed or not pattern.match(line)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


def _import_tensorflow():
    if "tensorflow" in sys.modules:
        import tensorflow
        return tensorflow
    # TensorFlow's own informational log lines (not warnings or errors), unless the user chose a level
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    with _stderr_filtered(STARTUP_MESSAGES):
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
