"""python -m cgan: its commands' arguments (the training commands themselves are exercised in
test_train, test_study, test_quiet and test_faults)."""
import subprocess
import sys

import pytest

from cgan.cli import main


def test_web_writes_the_pages_weight_files(tmp_path, capsys):
    assert main(["web", str(tmp_path / "page")]) == 0
    out = capsys.readouterr().out
    assert [p.name for p in sorted((tmp_path / "page" / "weights").iterdir())] == ["cgan-averaged.js", "cgan.js",
                                                                                 "gan.js"]
    assert "cgan.js (0.87 MB)" in out
    (tmp_path / "file").write_text("")
    with pytest.raises(SystemExit) as exc:
        main(["web", str(tmp_path / "file")])
    assert exc.value.code == 2 and "exists and is not a folder" in capsys.readouterr().err


@pytest.mark.parametrize("args, message", [
    (["study", "--per-label", "1"], "--per-label must be >= 2, got 1"),
    (["study", "--jobs", "0"], "--jobs must be >= 1, got 0"),
    (["train", "--set", "k_step"], "--set takes NAME=VALUE, got 'k_step'"),
    (["evaluate", "--per-label", "1"], "--per-label must be >= 2, got 1"),
])
def test_bad_arguments_are_named(args, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2 and message in capsys.readouterr().err


def test_the_seed_process_option_is_hidden_from_help():
    out = subprocess.run([sys.executable, "-m", "cgan", "study", "--help"], capture_output=True, text=True,
                         timeout=120).stdout
    assert "--seeds" in out and "--seed-dir" not in out
