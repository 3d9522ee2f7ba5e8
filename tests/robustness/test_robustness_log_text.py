"""Device text in log messages goes through the console sanitiser (issue 13: an SSDP LOCATION
with terminal escapes reached stderr raw at -v)."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.cli.app import main
from auditor.lab.hostile import hostile_site

pytestmark = pytest.mark.nmap


def _controls(text: str) -> set[str]:
    return {
        hex(ord(c))
        for c in text
        if (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F or c in "\u202e\u2066"
    }


def test_device_text_in_verbose_logs_is_sanitised(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    with hostile_site(["hostile-ssdp-escapes"]) as site:
        code = main(
            ["-v", "scan", *site.targets, "--ports", site.port_plan.spec(),
             "--db", str(tmp_path / "a.db"), "--timeout", "1", "-f", "console", "--exit-zero"]
        )  # fmt: skip
    assert code == 0
    out, err = capfd.readouterr()
    assert "desc.xml" in err  # the fetch failure was logged, device text and all
    assert not _controls(err), sorted(_controls(err))
    assert not _controls(out), sorted(_controls(out))
