"""The command-line contract: every command exists, parses, and says clearly what is not built."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from auditor.cli.app import main
from auditor.models import Audience
from auditor.render import FormatName

COMMANDS = [
    ["scan"],
    ["demo"],
    ["identify"],
    ["audits"],
    ["report"],
    ["diff"],
    ["lists", "import"],
    ["lists", "status"],
    ["fingerprints", "verify"],
    ["lab", "up"],
    ["lab", "down"],
    ["lab", "status"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*command, "--help"]) == 0
    assert "usage: camaudit" in capsys.readouterr().out


def test_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--ports", "0-99999", "192.0.2.1"]) == 2
    assert "ports must be within 1-65535" in capsys.readouterr().err
    assert main(["scan", "--profile", "martians"]) == 2
    assert main(["no-such-command"]) == 2


def test_python_m_auditor_works() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "auditor", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout.startswith("camaudit ")


def test_scan_help_names_every_format_and_audience(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "1000")  # argparse wraps at hyphens ("us-\nfederal-agency")
    assert main(["scan", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    formats = ", ".join(f.value for f in FormatName)
    assert f"report format, repeatable: {formats} (default: console)" in text
    audiences = ", ".join(a.value for a in Audience)
    assert (
        f"who the report is for; decides which instruments bind and their severity: {audiences}"
        in text
    )


def test_ports_take_roles_and_round_trip() -> None:
    from auditor.ports import PortPlan, Role

    plan = PortPlan.parse("80, 554, 7443/https, 10000-10001/rtsp, 9999")
    assert plan.role(7443) is Role.HTTPS and plan.role(554) is Role.RTSP
    assert plan.role(10001) is Role.RTSP and plan.role(9999) is Role.HTTP
    assert PortPlan.parse(plan.spec()) == plan
    for bad in ("80/gopher", "x", "", "70000"):
        with pytest.raises(ValueError):
            PortPlan.parse(bad)


def test_a_link_local_target_without_an_interface_is_refused_before_any_traffic(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """fe80::1 is on every link: without a zone or --interface, discovery multicast went out of
    every interface (issue 13). Now it is a usage error, before anything is sent."""
    assert main(["scan", "fe80::1", "--db", str(tmp_path / "a.db")]) == 2
    err = capsys.readouterr().err
    assert "needs an interface" in err and "--interface" in err
    assert not (tmp_path / "a.db").exists()


def test_start_up_leaves_the_lab_and_the_postgresql_client_unloaded():
    """Every command registers `lab` and `push`; what only they use loads when they run (each
    cost every command about 0.1 s of start-up, a scan's included)."""
    import subprocess
    import sys

    code = (
        "import sys; from auditor.cli.app import build_parser; build_parser(); "
        "print(sorted(m for m in ('psycopg', 'auditor.lab.netns', 'auditor.lab.site', "
        "'auditor.store.central') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
