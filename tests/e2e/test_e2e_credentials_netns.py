"""Issue 13's acceptance run: a credentialed `camaudit scan` of the namespace lab plus generic
401 servers, checked from the devices' side (each lab device logs what it received).

- no Authorization header reaches a vendor API of another vendor, none a generic server;
- with a wrong password every device sees at most one failed login;
- no form of the credential is in any artefact (JSON, HTML, CSV, the SQLite files), although one
  device echoes the Authorization value into its ISAPI deviceInfo.
"""

from __future__ import annotations

import base64
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditor.credentials import sofia_hash
from auditor.lab import DEMO_DEVICES, load_profiles
from auditor.lab.device import Device
from auditor.lab.hostile import review_profiles

pytestmark = [pytest.mark.netns, pytest.mark.nmap]

GENERIC = ("nas-basic-401", "lighttpd-digest", "printer-hp", "linux-nginx")
DEVICES = [*DEMO_DEVICES, "nas-basic-401", "lighttpd-digest", "hostile-echo-auth"]
VENDOR_APIS = {"/ISAPI/": "Hikvision", "/cgi-bin/magicBox.cgi": "Dahua", "/axis-cgi/": "Axis"}


@pytest.fixture(scope="module")
def site() -> Iterator[object]:
    netns = pytest.importorskip("auditor.lab.netns")
    profiles = {**load_profiles(), **review_profiles()}
    with netns.NamespaceSite(DEVICES, profiles=profiles, subnet="192.0.2.0/24") as running:
        yield running


def _scan(site: object, out: Path, password: str) -> tuple[int, str]:
    user = site.credentials[0]  # type: ignore[attr-defined]
    echo = site.address_of("hostile-echo-auth")  # type: ignore[attr-defined]
    creds = out / "creds.yaml"
    creds.write_text(
        f'default: {{username: {user}, password: "{password}"}}\n'
        "hosts:\n"
        f'  - {{target: {echo}, username: {user}, password: "{password}", '
        "allow_basic_over_http: true, label: echo-camera}\n"
    )
    creds.chmod(0o600)
    for d in site.devices:  # type: ignore[attr-defined]
        d.received.clear()
    args = [sys.executable, "-m", "auditor", "scan", str(site.subnet)]  # type: ignore[attr-defined]
    args += ["--ports", site.port_plan.spec(), "--timeout", "1.5"]  # type: ignore[attr-defined]
    args += ["--credentials", str(creds), "--db", str(out / "audit.db")]
    args += ["-o", str(out / "report"), "-f", "json", "-f", "html", "-f", "csv"]
    done = site.run_in_auditor(  # type: ignore[attr-defined]
        args, env={**os.environ, "NO_COLOR": "1", "HOME": str(out)}, timeout=600
    )
    creds.unlink()
    return done.returncode, done.stdout + done.stderr


def _foreign(device: Device) -> list[str]:
    out = []
    for r in device.received:
        path = r.request.split(" ", 1)[-1]
        for prefix, vendor in VENDOR_APIS.items():
            if (
                r.authorization
                and path.startswith(prefix)
                and vendor != device.profile.manufacturer
            ):
                out.append(f"{device.profile.id}: {r.request}")
    return out


def test_credentialed_scan_sends_credentials_only_where_they_belong(
    site: object, tmp_path: Path
) -> None:
    user, password = site.credentials  # type: ignore[attr-defined]
    code, output = _scan(site, tmp_path, password)
    assert code in (0, 1, 3), output[-3000:]
    # The only incomplete device is the lab's Xiongmai DVR, whose DVRIP refuses every login by
    # design; the generic servers (lighttpd's bare 401 included) do not make the audit incomplete.
    report = json.loads((tmp_path / "report.json").read_text())
    incomplete = {d["address"] for d in report["devices"] if not d["complete"]}
    assert incomplete <= {site.address_of("xiongmai-dvr")}, incomplete  # type: ignore[attr-defined]
    devices: list[Device] = site.devices  # type: ignore[attr-defined]
    assert [x for d in devices for x in _foreign(d)] == []
    for profile in GENERIC:
        received = site.device(profile).received  # type: ignore[attr-defined]
        assert received, profile
        assert [r.request for r in received if r.authorization] == [], profile
    logins = {d.profile.id for d in devices if any(r.protocol == "dvrip" for r in d.received)}
    assert logins == {"xiongmai-dvr"}
    # The credentials did their job where they belong.
    used = {d.profile.id for d in devices if any(r.login == "accepted" for r in d.received)}
    assert {"hikvision-ipc", "dahua-ipc", "axis-p1375", "hostile-echo-auth"} <= used, used
    # No credential in any artefact, though the echo device reflected it.
    forms = [
        password,
        f"{user}:{password}",
        base64.b64encode(f"{user}:{password}".encode()).decode(),
        sofia_hash(password),
    ]
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"report.json", "report.html", "report.csv", "audit.db"}
    leaks = [(p.name, f[:3]) for p in files for f in forms if f.encode() in p.read_bytes()]
    assert leaks == []
    assert "[credential redacted]" in (tmp_path / "report.json").read_text()
    assert password not in output


def test_wrong_password_costs_each_device_at_most_one_failed_login(
    site: object, tmp_path: Path
) -> None:
    wrong = "Wr0ng-but-secret-9f3a"
    code, output = _scan(site, tmp_path, wrong)
    assert code in (1, 3), output[-3000:]
    devices: list[Device] = site.devices  # type: ignore[attr-defined]
    failed = {d.profile.id: d.failed_logins for d in devices}
    assert max(failed.values()) <= 1, failed
    assert sum(failed.values()) >= 5, failed  # the cameras did see the one try
    report = (tmp_path / "report.json").read_text()
    assert "credentials 'default' (user admin) were refused by" in report
    assert wrong not in report and wrong not in output
