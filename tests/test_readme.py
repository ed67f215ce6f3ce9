"""The README's promises: short, a picture first, its Python lines run, its commands and flags exist,
its links lead somewhere, and its reproduction table is the committed studies' (word for word)."""
import json
import re
from pathlib import Path

import numpy as np
import pytest

from cgan import reproduction
from cgan.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


def test_the_readme_reads_in_minutes_and_shows_a_picture_first():
    lines = README.read_text().splitlines()
    assert len(lines) <= 130
    assert any(re.search(r"!\[[^\]]*\]\(figs/\S+\.(png|gif)\)", line) for line in lines[:20])


def test_the_readmes_python_runs(monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert blocks
    scope = {}
    for block in blocks:
        exec(re.sub(r"^ {3}", "", block, flags=re.M), scope)  # the blocks sit in a list item
    digits = scope["digits"]
    assert digits.shape == (3, 28, 28, 1) and 0 <= digits.min() and digits.max() <= 1 and np.ptp(digits) > 0.5


def _help(command: str, capsys) -> str:
    with pytest.raises(SystemExit) as stop:
        main([command, "--help"])
    assert stop.value.code == 0
    return capsys.readouterr().out


def test_the_readmes_commands_and_flags_exist(capsys):
    text = README.read_text()
    commands = set(re.findall(r"`python -m cgan (\w+)", text))
    assert {"figures", "train", "evaluate", "study", "web"} <= commands
    helps = {command: _help(command, capsys) for command in commands}
    for flag in ("--preset", "--set", "--seed", "--restarts", "--tensorboard", "--fast"):
        assert flag in text and flag in helps["train"], flag
    for command in ("train", "figures", "study"):
        assert "--preset" in helps[command] and "--restarts" in helps[command], command


def _markdown_files():
    return [p for p in ROOT.rglob("*.md") if not {".venv", "runs", ".pytest_cache"} & set(p.relative_to(ROOT).parts)]


@pytest.mark.parametrize("path", _markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_leads_to_a_file(path):
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue
        file = target.split("#")[0]
        assert (path.parent / file).exists(), f"{path.relative_to(ROOT)} links to {target}"


def test_the_reproduction_table_is_the_committed_studies():
    text = README.read_text()
    start = "<!-- reproduction: cgan.reproduction.table(figs/study/study.json, figs/study-figure-time/study.json) -->\n"
    end = "<!-- end of the reproduction table -->"
    quoted = text[text.index(start) + len(start):text.index(end)]
    studies = [json.loads((ROOT / "figs" / name / "study.json").read_text()) for name in ("study", "study-figure-time")]
    assert quoted.strip() == reproduction.table(*studies).strip()
    assert "| CGAN: manifold accuracy | 99.7% |" in quoted  # the article's figures, read back


def test_the_reproduction_table_refuses_what_is_no_study():
    with pytest.raises(ValueError, match="printed must be a seed study's report"):
        reproduction.table({"seeds": []}, {"summary": {}})
