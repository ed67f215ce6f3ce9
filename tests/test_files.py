"""Atomic writes: a file or folder appears whole or not at all."""
import pytest

from cgan.files import atomic_path


def test_a_file_is_replaced_only_when_the_block_succeeds(tmp_path):
    path = tmp_path / "weights.npz"
    path.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(path) as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    assert path.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["weights.npz"]
    with atomic_path(path) as tmp:
        assert tmp.name == "weights.npz.tmp"
        tmp.write_text("new")
    assert path.read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["weights.npz"]


def test_a_folder_replaces_a_folder_and_a_stale_temporary_is_cleared(tmp_path):
    final = tmp_path / "ckpt-00000020"
    final.mkdir()
    (final / "a").write_text("old")
    stale = tmp_path / "ckpt-00000020.tmp"
    stale.mkdir()
    (stale / "junk").write_text("left by a killed run")
    with atomic_path(final) as tmp:
        tmp.mkdir()
        (tmp / "b").write_text("new")
    assert sorted(p.name for p in final.iterdir()) == ["b"] and not stale.exists()


def test_keep_suffix_names_the_temporary_with_the_same_extension(tmp_path):
    with atomic_path(tmp_path / "0.gif", keep_suffix=True) as tmp:
        assert tmp.name == "0.tmp.gif"
        tmp.write_bytes(b"GIF89a")
    assert (tmp_path / "0.gif").read_bytes() == b"GIF89a"
