"""CONTRIBUTING.md stays true: every path it names exists, every name it places in a module is
there, and every command it gives is a camaudit command."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from auditor.cli.app import main

ROOT = Path(__file__).resolve().parent.parent
TEXT = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
CODE = re.findall(r"`([^`\n]+)`", TEXT)
#: Repository paths: a top-level folder of this repository, then at least one more part.
PATHS = sorted(
    {c for c in CODE if re.fullmatch(r"(auditor|fingerprints|reports|tests|docs|bench)/\S*", c)}
)
#: "`Name` in `path.py`": the recipes say where a registry or a type lives.
PLACED = sorted(
    set(re.findall(r"`(\w+)`(?: \w+)? (?:in|from) `([\w/.]+\.py)`", TEXT))
    | set(re.findall(r"`(\w+)` \(`([\w/.]+\.py)`\)", TEXT))
)
COMMANDS = sorted({c for c in CODE if c.startswith("camaudit ")})


def test_the_guide_names_paths_names_and_commands() -> None:
    assert len(PATHS) >= 30 and len(PLACED) >= 12 and len(COMMANDS) >= 2


@pytest.mark.parametrize("path", PATHS)
def test_every_path_exists(path: str) -> None:
    # A placeholder (<name>) stands for a file to create: its folder must exist.
    fixed = path.split("<", 1)[0]
    target = ROOT / fixed
    assert target.exists() if fixed == path else target.parent.is_dir(), path


@pytest.mark.parametrize(("name", "path"), PLACED)
def test_every_name_is_where_the_guide_says(name: str, path: str) -> None:
    source = (ROOT / path).read_text(encoding="utf-8")
    assert re.search(rf"^\s*(class |def )?{name}\b", source, re.MULTILINE), (name, path)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_exists(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    words = [w for w in command.split()[1:] if not w.startswith("-")]
    assert main([*words, "--help"]) == 0, command
    capsys.readouterr()


def test_the_readme_links_the_guide() -> None:
    assert "(CONTRIBUTING.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
