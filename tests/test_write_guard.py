"""The write guard of conftest.py sees what a test writes outside its temporary folders."""
from write_guard import changes, state


def test_guard_sees_writes_in_root_home_and_checkout(tmp_path):
    root, home, checkout = (tmp_path / name for name in ("root", "home", "checkout"))
    for folder in (root, home, checkout / "figs", checkout / ".venv", checkout / "cgan" / "__pycache__"):
        folder.mkdir(parents=True)
    (checkout / "figs" / "a.png").write_bytes(b"1")
    before = state(root, home, checkout)
    (root / "settings.json").write_text("{}")               # what a run folder of / leaves
    (home / "generator.npz").write_bytes(b"")
    (home / ".cache").mkdir()                                 # a cache the README names: allowed
    (checkout / "figs" / "a.png").write_bytes(b"22")          # a tracked figure rewritten
    (checkout / "runs" / "x").mkdir(parents=True)
    (checkout / "runs" / "x" / "ckpt").write_text("")         # inside an ignored folder: still outside tmp
    (checkout / ".venv" / "lib").write_text("")               # caches and the venv: allowed
    (checkout / "cgan" / "__pycache__" / "m.pyc").write_text("")
    assert changes(before, state(root, home, checkout)) == [
        "/: added settings.json", "~: added generator.npz", "checkout: added runs/x/ckpt", "checkout: changed figs/a.png"]


def test_guard_is_quiet_when_nothing_changed(tmp_path):
    before = state(tmp_path, tmp_path, tmp_path)
    assert changes(before, state(tmp_path, tmp_path, tmp_path)) == []
