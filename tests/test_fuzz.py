"""Property-based input fuzzing: malformed arrays, labels and paths thrown at the
public API get clear errors (ValueError / FileNotFoundError) and nothing else."""
import atexit
import re
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import cgan
from cgan.data import BatchIterator

CLEAR = (ValueError, FileNotFoundError)
TRIED = {"inputs": 0}
atexit.register(lambda: print(f"\nfuzzing: {TRIED['inputs']} malformed inputs tried"))
FUZZ = settings(max_examples=int(os.environ.get("CGAN_FUZZ_EXAMPLES", "40")), deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

dtypes = st.sampled_from(["float32", "float64", "int64", "uint8", "bool", "complex64", "U3", "object"])
arrays = hnp.arrays(dtypes, hnp.array_shapes(min_dims=0, max_dims=5, max_side=6),
                    elements=None, fill=st.nothing()).filter(lambda a: a.dtype != object) | \
    hnp.arrays(st.sampled_from(["float32", "float64"]), hnp.array_shapes(min_dims=0, max_dims=4, max_side=6),
               elements=st.floats(allow_nan=True, allow_infinity=True, width=32))
anything = st.one_of(arrays, st.none(), st.integers(-10**20, 10**20), st.floats(), st.text(max_size=5),
                     st.lists(st.one_of(st.integers(-20, 20), st.floats(), st.text(max_size=2)), max_size=6),
                     st.booleans(), st.binary(max_size=4))
paths = st.one_of(st.text(max_size=20), st.integers(), st.none(), st.just(""), st.just("/proc/no/such/dir/x.gif"),
                  st.just("/"), st.just("nul\x00byte"), st.binary(max_size=4))


def under(folder: Path, path):
    """A fuzzed path moved under the test's own folder: text paths (absolute ones, "/" and ".."
    included) become names inside ``folder``; other values (None, numbers, bytes, a NUL) stay
    as they are, to be refused."""
    if isinstance(path, str) and path and "\x00" not in path:
        inside = path.lstrip("/").replace("..", "__") or "root"
        return str(folder / inside)
    return path


def call(fn, *args, names=(), **kwargs):
    """Call ``fn``; a refusal must be a clear error that names one of the arguments in ``names``."""
    TRIED["inputs"] += 1
    try:
        fn(*args, **kwargs)
    except CLEAR as exc:
        message = str(exc)
        assert any(re.search(rf"(?<![\w.]){re.escape(name)}\b", message) for name in names), \
            f"{fn.__name__}: {message!r} names none of {names}"


@FUZZ
@given(z=anything, labels=anything)
def test_generate(cgan_graph, z, labels):
    call(cgan_graph.generate, z, labels, names=("z", "labels"))


@FUZZ
@given(labels=anything)
def test_draw_manifolds_labels(cgan_graph, labels):
    call(cgan.draw_manifolds, cgan_graph, labels, names=("labels",))


@FUZZ
@given(x=anything, y=anything, batch_size=anything)
def test_batch_iterator(x, y, batch_size):
    call(BatchIterator, x, y, batch_size, names=("x", "y", "batch_size"))


@FUZZ
@given(x=anything, y=anything)
def test_preprocess_and_one_hot(x, y):
    call(cgan.preprocess, x, y, names=("x", "y"))
    call(cgan.one_hot, y, names=("labels",))


@FUZZ
@given(digits=anything, n=anything)
def test_tile(digits, n):
    call(cgan.tile, digits, n, names=("digits", "n"))


@FUZZ
@given(pictures=st.lists(anything, max_size=3), titles=st.lists(anything, max_size=3), path=paths,
       frame_ms=anything)
def test_write_gif(tmp_path, pictures, titles, path, frame_ms):
    call(cgan.write_gif, pictures, titles, tmp_path / "a.gif" if path is None else under(tmp_path, path), frame_ms,
         names=("figures", "pictures", "title", "path", "frame_ms"))


@FUZZ
@given(path=paths)
def test_load_mnist_path(tmp_path, path):
    if path is not None:  # None means the shipped file: that loads
        call(cgan.load_mnist, under(tmp_path, path), names=("path", "MNIST"))


@FUZZ
@given(values=st.dictionaries(st.sampled_from(["batch_size", "latent_dim", "dropout_rate", "seed", "lr_gen",
                                               "save_periods", "conditional", "grid_low", "nope", "k_step"]),
                              anything, max_size=3))
def test_settings(values):
    call(cgan.Settings.from_dict, values, names=tuple(f"Settings.{k}" for k in values) + ("unknown setting",))


@FUZZ
@given(run_dir=paths)
def test_train_run_dir(tmp_path, small_data, run_dir):
    call(cgan.train, cgan.Settings(iterations=0, batch_size=16), under(tmp_path, run_dir), progress=False,
         data=small_data, names=("run_dir",))


@pytest.mark.parametrize("where", ["/", "~", "home"])
def test_root_or_home_as_run_folder_is_refused(small_data, where):
    run_dir = str(Path.home()) if where == "home" else where
    before = sorted(os.listdir(Path(run_dir).expanduser()))
    with pytest.raises(ValueError, match="root folder|home folder"):
        cgan.train(cgan.Settings(iterations=0, batch_size=16), run_dir, progress=False, data=small_data)
    assert sorted(os.listdir(Path(run_dir).expanduser())) == before


def test_bad_input_leaves_written_files_alone(tmp_path):
    path = tmp_path / "m.gif"
    cgan.write_gif([np.zeros((8, 8))], [["ok"]], path)
    before = path.read_bytes()
    for pictures in ([np.zeros((8, 8)), np.zeros((9, 9))], [np.full((8, 8), np.nan)], [np.zeros(3)]):
        with pytest.raises(ValueError):
            cgan.write_gif(pictures, [["x"]] * len(pictures), path)
    assert path.read_bytes() == before
