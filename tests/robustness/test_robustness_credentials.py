"""Credentials go only where they belong (issue 13), proved from the devices' side.

A loopback site of cameras of three vendors, a Xiongmai DVR, a printer, a generic nginx with
HTTP Basic on every path, a lighttpd with Digest on every path and a hostile camera that echoes
the Authorization value into its ISAPI deviceInfo is audited with credentials; each lab device
keeps a log of what it received (``Device.received``), and the tests read those logs.
"""

from __future__ import annotations

import base64
import ipaddress
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from auditor.credentials import Credential, CredentialStore, Secret, sofia_hash
from auditor.engine import AuditConfig, Auditor
from auditor.lab import LoopbackSite, load_profiles
from auditor.lab.device import Device
from auditor.lab.hostile import review_profiles
from auditor.models import AuditReport, DeviceResult, Outcome, Reason
from auditor.render.interface import FormatName
from auditor.render.output import write_reports

pytestmark = pytest.mark.nmap

DEVICES = (
    "hikvision-ipc",
    "dahua-ipc",
    "axis-p1375",
    "xiongmai-dvr",
    "printer-hp",
    "nas-basic-401",
    "lighttpd-digest",
    "hostile-echo-auth",
    "printer-tls-stall",
)
#: Vendor API path prefixes and the maker whose platform serves them.
VENDOR_APIS = {"/ISAPI/": "Hikvision", "/cgi-bin/magicBox.cgi": "Dahua", "/axis-cgi/": "Axis"}
GENERIC = ("nas-basic-401", "lighttpd-digest", "printer-hp")


@dataclass
class Run:
    site: LoopbackSite
    report: AuditReport
    db: Path


def _audit(site: LoopbackSite, db: Path, password: str, allow_basic: tuple[str, ...] = ()) -> Run:
    user, _ = site.credentials
    entries = tuple(
        (
            ipaddress.ip_network(address),
            Credential(user, Secret(password), label=address, basic_over_http=True),
        )
        for address in allow_basic
    )
    store = CredentialStore(default=Credential(user, Secret(password)), per_network=entries)
    for d in site.devices:
        d.received.clear()
    config = AuditConfig(
        targets=site.targets,
        db_path=db,
        site="credentials",
        ports=site.port_plan,
        timeout=1.0,
        credentials=store,
        multicast=False,
    )
    return Run(site, Auditor(config).run(), db)


@pytest.fixture(scope="module")
def site() -> Iterator[LoopbackSite]:
    profiles = {**load_profiles(), **review_profiles()}
    with LoopbackSite(DEVICES, profiles=profiles) as running:
        yield running


def _device(run: Run, profile: str) -> DeviceResult:
    address = run.site.address_of(profile)
    return next(d for d in run.report.devices if str(d.host.address) == address)


def _sent_credentials(device: Device) -> list[str]:
    return [f"{r.protocol}:{r.port} {r.request}" for r in device.received if r.authorization]


def _foreign_vendor_requests(device: Device) -> list[str]:
    maker = device.profile.manufacturer
    out = []
    for r in device.received:
        path = r.request.split(" ", 1)[-1]
        for prefix, vendor in VENDOR_APIS.items():
            if path.startswith(prefix) and vendor != maker and r.authorization:
                out.append(f"{device.profile.id} got {r.request} with credentials")
    return out


@pytest.fixture(scope="module")
def right(site: LoopbackSite, tmp_path_factory: pytest.TempPathFactory) -> Run:
    echo = site.address_of("hostile-echo-auth")
    return _audit(site, tmp_path_factory.mktemp("right") / "a.db", site.credentials[1], (echo,))


def test_no_vendor_api_receives_credentials_meant_for_another_vendor(right: Run) -> None:
    assert [x for d in right.site.devices for x in _foreign_vendor_requests(d)] == []
    # ... and the right vendor's API did get them, and answered.
    assert _device(right, "hikvision-ipc").observations
    hik = {a.probe: a for a in _device(right, "hikvision-ipc").attempts}
    assert hik["isapi"].outcome is Outcome.COMPLETED, hik["isapi"].detail
    dahua = {a.probe: a for a in _device(right, "dahua-ipc").attempts}
    assert dahua["dahua"].outcome is Outcome.COMPLETED, dahua["dahua"].detail
    assert dahua["isapi"].reason is Reason.NOT_APPLICABLE


def test_generic_servers_never_receive_credentials(right: Run) -> None:
    for profile in GENERIC:
        device = right.site.device(profile)
        assert device.received, f"{profile} was not probed at all"
        assert _sent_credentials(device) == [], profile


def test_dvrip_logs_in_only_to_the_dvrip_device(right: Run) -> None:
    for device in right.site.devices:
        logins = [r for r in device.received if r.protocol == "dvrip"]
        if device.profile.id == "xiongmai-dvr":
            assert logins, "the Xiongmai DVR should get its one login"
        else:
            assert logins == [], device.profile.id


def test_a_bare_401_server_is_not_an_onvif_device_and_not_incomplete(right: Run) -> None:
    lighttpd = _device(right, "lighttpd-digest")
    onvif = next(a for a in lighttpd.attempts if a.probe == "onvif")
    assert (onvif.outcome, onvif.reason) == (Outcome.NOT_RUN, Reason.NOT_APPLICABLE), onvif
    assert lighttpd.complete
    assert lighttpd not in right.report.incomplete


def test_an_echoed_credential_is_in_no_value_and_no_artefact(right: Run, tmp_path: Path) -> None:
    user, password = right.site.credentials
    echo = _device(right, "hostile-echo-auth")
    # The echo device did receive Basic (allowed for it) and did echo it...
    assert any(r.login == "accepted" for r in right.site.device("hostile-echo-auth").received)
    values = [o.value for o in echo.observations]
    assert any("[credential redacted]" in v for v in values), values
    # ...but no form of it is anywhere: values, identification, reports, the SQLite bytes.
    forms = [
        password,
        f"{user}:{password}",
        base64.b64encode(f"{user}:{password}".encode()).decode(),
        sofia_hash(password),
    ]
    text = "\n".join(values) + repr(echo.identification)
    assert [f for f in forms if f in text] == []
    written = write_reports(
        right.report,
        [FormatName.JSON, FormatName.HTML, FormatName.CSV],
        str(tmp_path / "report"),
        None,
    )
    with sqlite3.connect(right.db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    blobs = [Path(p).read_bytes() for p in written] + [
        p.read_bytes() for p in right.db.parent.iterdir() if p.is_file()
    ]
    assert len(written) == 3
    assert [f for f in forms for b in blobs if f.encode() in b] == []


def test_basic_over_plain_http_is_withheld_unless_allowed(
    site: LoopbackSite, tmp_path: Path
) -> None:
    run = _audit(site, tmp_path / "a.db", site.credentials[1])
    echo = site.device("hostile-echo-auth")
    assert _sent_credentials(echo) == []
    isapi = next(a for a in _device(run, "hostile-echo-auth").attempts if a.probe == "isapi")
    assert (isapi.outcome, isapi.reason) == (Outcome.NOT_RUN, Reason.WITHHELD)
    assert "allow_basic_over_http" in isapi.detail


def test_a_wrong_password_costs_each_device_at_most_one_failed_login(
    site: LoopbackSite, tmp_path: Path
) -> None:
    wrong = "Wr0ng-but-secret-9f3a"
    run = _audit(site, tmp_path / "a.db", wrong)
    failed = {d.profile.id: d.failed_logins for d in site.devices}
    assert max(failed.values()) <= 1, failed
    # The cameras that ask for a login did refuse it once, and the report says whose.
    assert failed["hikvision-ipc"] == 1 and failed["dahua-ipc"] == 1, failed
    assert any("credentials 'default' (user admin) were refused" in n for n in run.report.notes)
    hik = {a.probe: a for a in _device(run, "hikvision-ipc").attempts}
    refused = [a for a in hik.values() if a.reason is Reason.AUTH_FAILED]
    assert len(refused) == 1, hik
    assert hik["isapi"].reason is Reason.WITHHELD, hik["isapi"]
    assert "were refused by this device" in hik["isapi"].detail
    assert wrong not in repr(run.report)


def test_a_printer_that_could_not_be_fully_probed_does_not_make_the_audit_incomplete(
    right: Run,
) -> None:
    printer = _device(right, "printer-tls-stall")
    tls = next(a for a in printer.attempts if a.probe == "tls")
    assert tls.outcome is Outcome.FAILED  # still reported...
    assert printer.identification.device_type.value == "printer"
    assert not printer.fully_probed and printer.complete  # ...but not a camera left unprobed
    assert printer not in right.report.incomplete
