"""`camaudit lab` refuses clearly what cannot work, without touching the system."""

from __future__ import annotations

import os

import pytest

from auditor.cli.app import main
from auditor.errors import ConfigError
from auditor.lab import NamespaceSite, nsutil


def test_namespace_mode_needs_root(monkeypatch, capsys):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert main(["lab", "up", "--devices", "3"]) == 2
    assert "namespace mode needs root" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="needs root"):
        NamespaceSite(["hikvision-ipc"]).start()


def test_bad_arguments(monkeypatch, capsys):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert main(["lab", "up", "--subnet", "192.0.2.7/24"]) == 2
    assert "not an IPv4 network" in capsys.readouterr().err
    assert main(["lab", "up", "--devices", "0"]) == 2


def test_site_parameters_are_checked():
    with pytest.raises(ValueError, match="do not fit"):
        NamespaceSite(count=300, subnet="10.1.2.0/24")
    with pytest.raises(ValueError, match="tag"):
        NamespaceSite(["hikvision-ipc"], tag="bad/tag")
    with pytest.raises(KeyError, match="unknown lab profile"):
        NamespaceSite(["no-such-camera"])
    with pytest.raises(ValueError, match="refusing"):
        nsutil.delete_namespaces("prod-")


def test_public_address_space_is_refused():
    with pytest.raises(ValueError, match="not a private or documentation range"):
        NamespaceSite(["hikvision-ipc"], subnet="8.8.8.0/24")
    with pytest.raises(ValueError, match="not a private or documentation range"):
        NamespaceSite(["hikvision-ipc"], routed_devices=["axis-p1375"], routed_subnet="1.1.1.0/24")


@pytest.mark.parametrize("command", ["up", "down", "status"])
def test_a_tag_that_cannot_name_a_lab_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert main(["lab", command, "--tag", "../etc"]) == 2
    assert "tag '../etc'" in capsys.readouterr().err
    assert main(["lab", command, "--tag", "lab-"]) == 2
    assert "starts and ends with a letter or digit" in capsys.readouterr().err
