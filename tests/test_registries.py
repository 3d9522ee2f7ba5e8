"""Each registry is the one place to add an entry: its enum (or name type), the command line, the
README and the coverage table must agree with it, or one of these tests names what is missing.

The registries: probes (``auditor.probes.PROBES`` / ``ProbeName``), discovery channels
(``auditor.discovery.CHANNELS`` / ``Channel``), report formats (``auditor.render.FORMATS`` /
``FormatName``), list importers (``auditor.exposure.lists.LIST_FORMATS``) and exit codes
(``auditor.exitcodes.ExitCode``, tested in test_exitcodes.py).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from auditor.cli.app import main
from auditor.discovery import CHANNELS, OTHER_SOURCES
from auditor.discovery.replies import UdpChannel
from auditor.exposure import Assessor
from auditor.exposure.lists import LIST_FORMATS
from auditor.identify.coverage import CHANNEL_EMITS, PROBE_EMITS
from auditor.models import UDP_DISCOVERY_CHANNELS, Channel
from auditor.probes import PROBES, ProbeName
from auditor.render import FORMATS, FormatName

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def _wide_help(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "1000")  # argparse wraps at hyphens ("opensanctions-\ncsv")


def _help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main([*argv, "--help"]) == 0
    return " ".join(capsys.readouterr().out.split())


def test_every_probe_name_has_exactly_one_registered_probe() -> None:
    # PROBES is keyed by each class's own name: two classes with one name leave a name
    # without a class, which this catches too.
    assert set(PROBES) == set(ProbeName), "register the probe in auditor/probes/__init__.py"
    assert set(PROBE_EMITS) == set(ProbeName), "declare it in auditor/identify/coverage.py"


def test_every_channel_value_is_a_registered_channel_or_another_source() -> None:
    assert not set(CHANNELS) & OTHER_SOURCES
    assert set(CHANNELS) | OTHER_SOURCES == set(Channel), "register it in auditor/discovery"
    assert set(CHANNELS) <= set(CHANNEL_EMITS), "declare it in auditor/identify/coverage.py"
    # A host heard only in UDP replies may be a forged source address: the model must know
    # every channel that hears nothing else (issue 13), or a forged camera counts as confirmed.
    udp = {name for name, cls in CHANNELS.items() if issubclass(cls, UdpChannel)}
    assert udp == UDP_DISCOVERY_CHANNELS


def test_every_format_is_offered_by_the_commands_and_named_in_the_readme(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert set(FORMATS) == set(FormatName)
    offered = ", ".join(f.value for f in FormatName)
    for command in (["scan"], ["report"], ["demo"]):
        assert f"report format, repeatable: {offered}" in _help(command, capsys), command
    paragraph = README.split("\nFormats: ", 1)[1].split("\n\n", 1)[0]
    named = re.findall(r"(?:^|, )`([a-z]+)`", paragraph)
    assert named == [f.value for f in FormatName]


def test_every_list_importer_is_a_kind_choice_and_named_in_the_readme(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for kind, fmt in LIST_FORMATS.items():
        assert fmt.kind == kind
        assert fmt.source.startswith("https://"), kind
    text = _help(["lists", "import"], capsys)
    assert f"the file's format: {', '.join(LIST_FORMATS)}" in text
    assert main(["lists", "import", "x.csv", "--kind", "no-such-kind"]) == 2
    documented = set(re.findall(r"--kind ([a-z0-9-]+)", README)) | set(
        re.findall(r"# .*\(?or ([a-z0-9-]+)\)?$", README, flags=re.M)
    )
    assert documented == set(LIST_FORMATS)


def test_an_importer_covers_only_instruments_the_regulatory_data_defines() -> None:
    instruments = set(Assessor.load(None).data.instruments)
    for kind, fmt in LIST_FORMATS.items():
        assert fmt.covers <= instruments, (kind, sorted(fmt.covers - instruments))
