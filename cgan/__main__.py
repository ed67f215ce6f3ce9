"""``python -m cgan`` and the ``cgan`` command (setup.py's console script) both run :func:`run`."""
import os
import sys


def run() -> None:
    # before TensorFlow loads: its informational and warning C++ lines stay hidden (the CLI prints its own)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from .cli import main

    sys.exit(main())


if __name__ == "__main__":
    run()
