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
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditor.lab import LoopbackSite
from auditor.probes.dvrip import sofia_hash

pytestmark = pytest.mark.nmap

DEVICES = ("hikvision-ipc", "dahua-ipc", "xiongmai-dvr", "axis-p1375")
FORMATS = ("json", "csv", "html", "markdown", "cyclonedx")


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
def site() -> Iterator[LoopbackSite]:
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
    assert reports == sorted(f"report.{s}" for s in ("csv", "html", "json", "md", "cdx.json"))
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


@pytest.mark.parametrize(
    ("password_yaml", "named"),
    [
        ('"s3cret\\r\\nX-Injected: 1"', "a carriage return"),
        ('"s3cret\\nX-Injected: 1"', "a line feed"),
        ('"s3cret\\0tail"', "a NUL byte"),
    ],
)
def test_a_password_that_could_split_a_request_is_refused_when_loaded(
    tmp_path: Path, password_yaml: str, named: str
) -> None:
    creds = tmp_path / "creds.yaml"
    creds.write_text(f"default: {{username: admin, password: {password_yaml}}}\n")
    creds.chmod(0o600)
    done = _camaudit(["scan", "127.0.0.1", "--credentials", str(creds)], {}, tmp_path)
    assert done.returncode == 2, done.stderr[-2000:]
    assert named in done.stderr and "default" in done.stderr
    assert "s3cret" not in done.stdout + done.stderr


def test_a_credentials_file_that_is_not_utf8_is_named_without_quoting_it(tmp_path: Path) -> None:
    creds = tmp_path / "creds.yaml"
    creds.write_bytes(b'default: {username: admin, password: "caf\xe9-s3cret"}\n')
    creds.chmod(0o600)
    done = _camaudit(["scan", "127.0.0.1", "--credentials", str(creds)], {}, tmp_path)
    assert done.returncode == 2
    assert "line 1 is not valid UTF-8" in done.stderr
    assert "s3cret" not in done.stdout + done.stderr


def test_environment_credentials_are_checked_too(tmp_path: Path) -> None:
    env = {"CAMAUDIT_USERNAME": "admin", "CAMAUDIT_PASSWORD": "s3cret\r\nX-Injected: 1"}
    done = _camaudit(["scan", "127.0.0.1"], env, tmp_path)
    assert done.returncode == 2
    assert "CAMAUDIT_PASSWORD" in done.stderr and "a carriage return" in done.stderr
    assert "s3cret" not in done.stdout + done.stderr
    env = {"CAMAUDIT_USERNAME": "ad:min", "CAMAUDIT_PASSWORD": "s3cret"}
    done = _camaudit(["scan", "127.0.0.1"], env, tmp_path)
    assert done.returncode == 2 and "may not contain ':'" in done.stderr


def _env_dumping(tmp_path: Path, name: str, then: str) -> Path:
    """A wrapper that records the environment it was started with, then runs ``then``."""
    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    script = folder / name
    script.write_text(f'#!/bin/sh\nenv > "{tmp_path}/{name}.env"\n{then}\n')
    script.chmod(0o755)
    return script


def test_nmap_and_chromium_do_not_inherit_the_password(tmp_path: Path) -> None:
    import shutil

    real_nmap = shutil.which("nmap")
    assert real_nmap is not None
    _env_dumping(tmp_path, "nmap", f'exec {real_nmap} "$@"')
    browser = _env_dumping(tmp_path, "chromium", "exit 1")
    secret = "do-not-inherit-5c2e"
    env = {
        "CAMAUDIT_USERNAME": "admin",
        "CAMAUDIT_PASSWORD": secret,
        "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}",
        "CAMAUDIT_CHROMIUM": str(browser),
    }
    args = ["scan", "127.0.0.1", "--ports", "9", "--timeout", "0.5", "--db", str(tmp_path / "a.db")]
    done = _camaudit([*args, "-f", "pdf", "-o", str(tmp_path / "r")], env, tmp_path)
    assert done.returncode == 2, done.stderr[-2000:]  # the wrapper browser cannot print
    for child in ("nmap", "chromium"):
        dumped = (tmp_path / f"{child}.env").read_text()
        assert "PATH=" in dumped  # it did run, with an environment
        assert secret not in dumped and "CAMAUDIT_PASSWORD" not in dumped, child
        assert "CAMAUDIT_USERNAME" not in dumped, child


def test_a_device_echoing_the_password_puts_it_in_no_artefact_and_no_log(tmp_path: Path) -> None:
    from auditor.lab import load_profiles
    from auditor.lab.hostile import review_profiles

    profiles = {**load_profiles(), **review_profiles()}
    with LoopbackSite(["hostile-echo-auth", "hikvision-ipc"], profiles=profiles) as echo_site:
        user, password = echo_site.credentials
        address = echo_site.address_of("hostile-echo-auth")
        creds = tmp_path / "creds.yaml"
        creds.write_text(
            f'default: {{username: {user}, password: "{password}"}}\n'
            f'hosts:\n  - {{target: {address}, username: {user}, password: "{password}", '
            "allow_basic_over_http: true, label: echo}\n"
        )
        creds.chmod(0o600)
        out = tmp_path / "out"
        out.mkdir()
        done = _camaudit([*_scan_args(echo_site, out), "--credentials", str(creds)], {}, tmp_path)
        received = echo_site.device("hostile-echo-auth").received
    assert done.returncode in (0, 1, 3), done.stderr[-3000:]
    # The device got the Basic credentials (allowed for it) and echoed them back...
    assert any(r.authorization.startswith("Basic ") for r in received)
    assert "[credential redacted]" in (out / "report.json").read_text()
    creds.unlink()
    # ...and no form of them is in a report, the store or the -vv output.
    assert _grep_all(out, [done.stdout, done.stderr], _secrets(user, password)) == []
