import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# hypothesis keeps its caches (a character map, examples) in ./.hypothesis: a temporary folder instead
import tempfile  # noqa: E402

os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", tempfile.mkdtemp(prefix="cgan-hypothesis-"))

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import cgan  # noqa: E402

# The article's model at tiny batch and loop sizes: seconds, not minutes.
TINY = cgan.Settings(batch_size=16, iterations=3, batches_per_period=1, save_periods=(0, 2), grid_size=3, seed=0)
# the same for `python -m cgan train`
TINY_ARGS = ["--iterations", str(TINY.iterations), "--batch-size", str(TINY.batch_size), "--seed", str(TINY.seed),
             "--no-progress", "--set", f"grid_size={TINY.grid_size}", "--set",
             f"batches_per_period={TINY.batches_per_period}", "--set", f"save_periods={TINY.save_periods!r}"]


@pytest.fixture(scope="session")
def mnist():
    return cgan.load_data()


@pytest.fixture(scope="session")
def small_data(mnist):
    """The first 512 training images (real MNIST rows), same fields as load_data()."""
    n = 512
    return mnist._replace(x_train=mnist.x_train[:n], y_train_cat=mnist.y_train_cat[:n], y_train=mnist.y_train[:n])


@pytest.fixture(scope="module")
def cgan_graph():
    g = cgan.GANGraph(cgan.Settings(batch_size=16, grid_size=3, seed=0))
    yield g
    g.close()


@pytest.fixture(scope="module")
def gan_graph():
    g = cgan.GANGraph(cgan.Settings(batch_size=16, grid_size=3, seed=0, conditional=False))
    yield g
    g.close()


@pytest.fixture
def batch(mnist):
    rng = np.random.default_rng(0)
    return mnist.x_train[:16], mnist.y_train_cat[:16], rng.standard_normal((16, 2)).astype("float32")


# -- the guard: a test run writes only under its temporary folders ----------------------------
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
import write_guard  # noqa: E402

CHECKOUT = Path(__file__).resolve().parent.parent
_GUARDED = {}


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: the notebook in a real browser (Chromium); -m browser or -m 'not browser'")


def pytest_sessionstart(session):
    _GUARDED["before"] = write_guard.state(Path("/"), Path.home(), CHECKOUT)


def pytest_sessionfinish(session, exitstatus):
    if "before" not in _GUARDED:
        return
    found = write_guard.changes(_GUARDED["before"], write_guard.state(Path("/"), Path.home(), CHECKOUT))
    if found:
        print("\nthe test run wrote outside its temporary folders:\n  " + "\n  ".join(found[:50]))
        session.exitstatus = 1
