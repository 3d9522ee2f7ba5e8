"""Credentials never leak: a credentialed lab audit through the real CLI, every artefact grepped.

The password (and what is as good as it: the Basic header value, the DVRIP "sofia" hash) must not
appear in stdout/stderr at -vv, in the SQLite store's bytes (with its journal files), in any
report format, or in an error message; credentials come only from a 0600 file or the
environment, never from the command line.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest

from auditor.lab import LoopbackSite
from auditor.probes.dvrip import sofia_hash

pytestmark = pytest.mark.nmap

DEVICES = ("hikvision-ipc", "dahua-ipc", "xiongmai-dvr", "axis-p1375")
FORMATS = ("json", "csv", "html", "markdown")


def _secrets(user: str, password: str) -> list[bytes]:
    basic = base64.b64encode(f"{user}:{password}".encode())
    return [password.encode(), basic, sofia_hash(password).encode()]


def _camaudit(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "auditor", *args],
        cwd=cwd,
        env={**os.environ, "NO_COLOR": "1", "HOME": str(cwd), **env},
        capture_output=True,
        text=True,
        timeout=240,
    )


def _scan_args(site: LoopbackSite, out: Path) -> list[str]:
    args = ["-vv", "scan", *site.targets, "--ports", site.port_plan.spec(), "--timeout", "2"]
    args += ["--db", str(out / "audit.db"), "-o", str(out / "report")]
    for fmt in FORMATS:
        args += ["-f", fmt]
    return args


def _grep_all(out: Path, texts: list[str], secrets: list[bytes]) -> list[str]:
    leaks = []
    for path in sorted(out.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            leaks += [f"{path.name}: {s[:4]!r}..." for s in secrets if s in data]
    for name, text in zip(("stdout", "stderr"), texts, strict=True):
        leaks += [f"{name}: {s[:4]!r}..." for s in secrets if s.decode() in text]
    return leaks


@pytest.fixture(scope="module")
def site() -> LoopbackSite:
    with LoopbackSite(DEVICES) as running:
        yield running


def test_credentialed_audit_from_a_private_file_leaks_nothing(
    site: LoopbackSite, tmp_path: Path
) -> None:
    user, password = site.credentials
    creds = tmp_path / "creds.yaml"
    creds.write_text(f'default: {{username: {user}, password: "{password}"}}\n')
    creds.chmod(0o600)
    out = tmp_path / "out"
    out.mkdir()
    done = _camaudit([*_scan_args(site, out), "--credentials", str(creds)], {}, tmp_path)
    assert done.returncode in (0, 1, 3), done.stderr[-3000:]
    reports = sorted(p.name for p in out.glob("report.*"))
    assert reports == sorted(f"report.{s}" for s in ("csv", "html", "json", "md")), reports
    # The credentials were used: the ISAPI deviceInfo behind Digest was read.
    assert (
        "deviceInfo" in (out / "report.html").read_text()
        or "DS-2CD2143G2-I" in (out / "report.json").read_text()
    )
    creds.unlink()  # the one place the password may be
    assert _grep_all(out, [done.stdout, done.stderr], _secrets(user, password)) == []
    # -vv really raised the verbosity (the logger is at DEBUG; this run logged INFO lines).
    assert "INFO" in done.stderr


def test_credentials_from_the_environment_leak_nothing(site: LoopbackSite, tmp_path: Path) -> None:
    user, password = site.credentials
    out = tmp_path / "out"
    out.mkdir()
    env = {"CAMAUDIT_USERNAME": user, "CAMAUDIT_PASSWORD": password}
    done = _camaudit(_scan_args(site, out), env, tmp_path)
    assert done.returncode in (0, 1, 3), done.stderr[-3000:]
    assert _grep_all(out, [done.stdout, done.stderr], _secrets(user, password)) == []


def test_a_wrong_password_is_reported_without_being_shown(
    site: LoopbackSite, tmp_path: Path
) -> None:
    wrong = "Wr0ng-but-secret-9f3a"
    out = tmp_path / "out"
    out.mkdir()
    env = {"CAMAUDIT_USERNAME": "admin", "CAMAUDIT_PASSWORD": wrong}
    done = _camaudit(_scan_args(site, out), env, tmp_path)
    assert done.returncode in (0, 1, 3), done.stderr[-3000:]
    assert "auth_failed" in (out / "report.json").read_text()
    assert _grep_all(out, [done.stdout, done.stderr], _secrets("admin", wrong)) == []


def test_a_readable_credentials_file_is_refused_without_quoting_it(tmp_path: Path) -> None:
    secret = "do-not-print-7d1c"
    creds = tmp_path / "creds.yaml"
    creds.write_text(f'default: {{username: admin, password: "{secret}"}}\n')
    creds.chmod(0o644)
    done = _camaudit(["scan", "127.0.0.1", "--credentials", str(creds)], {}, tmp_path)
    assert done.returncode == 2
    assert "chmod 600" in done.stderr
    assert secret not in done.stdout + done.stderr
    # Broken YAML is named as such, never echoed (a YAML error would quote the line).
    creds.write_text(f'default: {{username: admin, password: "{secret}\n  bad: [')
    creds.chmod(0o600)
    done = _camaudit(["scan", "127.0.0.1", "--credentials", str(creds)], {}, tmp_path)
    assert done.returncode == 2
    assert secret not in done.stdout + done.stderr


def test_there_is_no_password_option(tmp_path: Path) -> None:
    for option in ("--password", "--pass", "--username"):
        done = _camaudit(["scan", "127.0.0.1", option, "x"], {}, tmp_path)
        assert done.returncode == 2
        assert "unrecognized arguments" in done.stderr or "usage" in done.stderr.lower()


def test_children_do_not_inherit_the_device_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    # nmap and Chromium run through auditor.children: the password must not reach them.
    from auditor import children

    monkeypatch.setenv("CAMAUDIT_PASSWORD", "hunter2-never-inherited")
    monkeypatch.setenv("CAMAUDIT_USERNAME", "auditor-user")
    done = children.run(["env"], timeout=10, env={"HOME": "/nonexistent"})
    seen = done.stdout.decode()
    assert "hunter2-never-inherited" not in seen and "CAMAUDIT_USERNAME" not in seen
    assert "HOME=/nonexistent" in seen and "PATH=" in seen
