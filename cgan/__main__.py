import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow loads: no C++ start-up chatter

from .cli import main  # noqa: E402

sys.exit(main())
