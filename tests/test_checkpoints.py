"""cgan.checkpoints: complete checkpoints only, the newest that reads whole (one implementation,
behind both a run's resume and latest_state), the newest few kept; their loop state is data
(cgan.statefile: JSON and npz), read back exactly, and an old state.pkl is read without running code."""
import os
import pickle
import warnings

import numpy as np
import pytest

from cgan import checkpoints, statefile
from cgan._tf import tf


def fake(run_dir, iteration, state=None, corrupt=False):
    folder = run_dir / checkpoints.CHECKPOINTS / f"ckpt-{iteration:08d}"
    folder.mkdir(parents=True)
    statefile.write(folder, state or {"iteration": iteration})
    if corrupt:
        (folder / checkpoints.STATE_FILE).write_bytes(b"not json")
    return folder


def test_only_complete_checkpoints_count_oldest_first(tmp_path):
    assert checkpoints.checkpoint_dirs(tmp_path) == []
    b, a = fake(tmp_path, 40), fake(tmp_path, 20)
    (tmp_path / checkpoints.CHECKPOINTS / "ckpt-00000060.tmp").mkdir()  # a write cut short
    assert checkpoints.checkpoint_dirs(tmp_path) == [a, b]
    assert checkpoints.resume_hint(tmp_path) == "the same command resumes from ckpt-00000040"


def test_the_newest_readable_skips_a_cut_one_with_one_warning_line(tmp_path):
    fake(tmp_path, 20)
    newest = fake(tmp_path, 40, corrupt=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ckpt, state = checkpoints.newest_readable(tmp_path)
    assert ckpt.name == "ckpt-00000020" and state == {"iteration": 20}
    (message,) = [str(w.message) for w in caught]
    assert message.startswith(f"checkpoint {newest} is unreadable (JSONDecodeError: ") and "\n" not in message
    assert checkpoints.latest_state(tmp_path) == {"iteration": 20}  # the same choice, silently


def test_a_restore_that_fails_counts_as_unreadable(tmp_path):
    fake(tmp_path, 20)
    fake(tmp_path, 40)

    def restore(ckpt, state):
        if state["iteration"] == 40:
            raise tf.errors.DataLossError(None, None, "Graph execution error:\n\nDetected at node 'save/RestoreV2' "
                                          "defined at (most recent call last):\n  File \"x.py\", line 1\n"
                                          "Node: 'save/RestoreV2'\nChecksum does not match\n\t [[{{node x}}]]")

    with pytest.warns(UserWarning, match=r"\(DataLossError: Checksum does not match\); falling back"):
        ckpt, _ = checkpoints.newest_readable(tmp_path, restore)
    assert ckpt.name == "ckpt-00000020"


def test_no_readable_checkpoint(tmp_path):
    assert checkpoints.newest_readable(tmp_path) is None
    fake(tmp_path, 20, corrupt=True)
    with pytest.raises(FileNotFoundError, match="no readable checkpoint in .*checkpoints"):
        checkpoints.latest_state(tmp_path)


def test_save_keeps_the_newest_and_restores_the_variables(tmp_path):
    graph = tf.Graph()
    with graph.as_default():
        v = tf.compat.v1.get_variable("v", initializer=np.float32(1.0))
        value = tf.compat.v1.placeholder(tf.float32, [])
        assign = v.assign(value)
        saver = tf.compat.v1.train.Saver()
        sess = tf.compat.v1.Session(graph=graph)
        sess.run(v.initializer)
    networks = checkpoints.SessionVariables(sess, saver, [v])
    try:
        for i in (1, 2, 3):
            sess.run(assign, {value: float(i)})
            checkpoints.save_checkpoint(tmp_path, i, networks, {"iteration": i}, kept=2)
        assert [p.name for p in checkpoints.checkpoint_dirs(tmp_path)] == ["ckpt-00000002", "ckpt-00000003"]
        sess.run(assign, {value: 0.0})
        ckpt, state = checkpoints.newest_readable(
            tmp_path, lambda c, s: networks.restore(c))
        assert state == {"iteration": 3} and sess.run(v) == 3.0 and networks.generator_values() == [3.0]
    finally:
        sess.close()


def _same(a, b):
    """Equal values of the same types all the way down (arrays: same dtype and elements)."""
    assert type(a) is type(b), (type(a), type(b))
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    else:
        assert a == b or (a != a and b != b)


STATE = {"iteration": 7, "order": np.arange(5, dtype=np.int64)[::-1].copy(), "position": np.int64(3),
         "rng": np.random.default_rng(1).bit_generator.state, "l_dis": [np.float32(0.25), 1.5, float("nan")],
         "average": {"decays": (0.99, 0.999), "averages": {0.99: [np.ones((2, 3), "float32")]}},
         "flag": np.bool_(True), "none": None, "__odd": "key", "f64": np.float64(0.1), "i32": np.int32(-3)}


def test_the_state_is_json_and_npz_and_comes_back_with_its_types(tmp_path):
    statefile.write(tmp_path, STATE)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json", "state.npz"]
    _same(statefile.read(tmp_path), STATE)
    with np.load(tmp_path / "state.npz", allow_pickle=False) as npz:  # plain arrays, no objects
        assert sorted(npz.files) == ["a0", "a1"]
    with pytest.raises(TypeError, match="holds data only; got object"):
        statefile.write(tmp_path, {"x": object()})
    with pytest.raises(TypeError, match="holds data only; got an array of Python objects"):
        statefile.write(tmp_path, {"x": np.array([{}], dtype=object)})


def test_an_old_state_pkl_is_read_and_one_that_asks_for_code_is_refused(tmp_path):
    (tmp_path / "state.pkl").write_bytes(pickle.dumps(STATE))
    _same(statefile.read(tmp_path), STATE)
    ran = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return os.system, (f"touch {ran}",)

    (tmp_path / "state.pkl").write_bytes(pickle.dumps({"iteration": Payload()}))
    with pytest.raises(pickle.UnpicklingError, match=r"only data and numpy arrays; it asks for (posix|os)\.system"):
        statefile.read(tmp_path)
    assert not ran.exists()
    with pytest.raises(FileNotFoundError, match="holds no loop state"):
        statefile.read(tmp_path / "nowhere")
