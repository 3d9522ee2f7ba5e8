"""The loopback lab audited end to end with the real KEV and CVE excerpts imported: the findings
each device gets, and how every report format shows them (source, date, KEV, CVSS, fix)."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from auditor import resources
from auditor.cli.app import main
from auditor.credentials import Credential, CredentialStore, Secret
from auditor.engine import AuditConfig, Auditor
from auditor.exitcodes import ExitCode, exit_code_for
from auditor.lab import DeviceProfile, LoopbackSite
from auditor.lab.profiles import load_profiles
from auditor.models import AuditReport, DeviceResult, Severity, VulnStatus
from auditor.render import renderer
from auditor.render.interface import FormatName
from auditor.store import Store
from auditor.vulns import import_cve, import_kev
from tests.vulns.conftest import ASSETS, CVE5, NVD

pytestmark = pytest.mark.nmap

#: A Dahua camera of the IPC-HX3XXX family that NVD's CVE-2021-33044/33045 configurations name,
#: served by the lab's Dahua profile: at the lab's firmware, and at one past the published fix.
HX3_MODEL = "IPC-HFW3441E-AS"
FIXED_FW = "2.800.0000000.30.R"


@dataclasses.dataclass(frozen=True)
class LabAudit:
    report: AuditReport
    addresses: dict[str, str]
    """Each lab profile's address."""
    db: Path
    root: Path
    """The data folder the audit used."""


@pytest.fixture(scope="module")
def lab_audit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabAudit]:
    root = tmp_path_factory.mktemp("kev") / "data"
    import_kev(root, ASSETS / "kev-excerpt.json")
    import_cve(root, [*NVD, *CVE5])
    resources.use_data_root(root)
    profiles = load_profiles()
    dahua = profiles["dahua-ipc"]
    devices: list[str | DeviceProfile] = [
        dataclasses.replace(dahua, id="dahua-hx3-old", model=HX3_MODEL),
        dataclasses.replace(dahua, id="dahua-hx3-fixed", model=HX3_MODEL, firmware=FIXED_FW),
        "dahua-ipc",
        "annke-ipc",
        "lts-ipc",
        "lorex-nvr",
    ]
    try:
        with LoopbackSite(devices) as site:
            user, password = site.credentials
            config = AuditConfig(
                targets=site.targets,
                db_path=root / "audit.db",
                site="kev",
                ports=site.port_plan,
                timeout=2.0,
                credentials=CredentialStore(default=Credential(user, Secret(password))),
                multicast=False,
            )
            report = Auditor(config).run()
            by_profile = {t.profile: t.address for t in site.truth}
        yield LabAudit(report, by_profile, root / "audit.db", root)
    finally:
        resources.use_data_root(None)


def _device(lab: LabAudit, profile: str) -> DeviceResult:
    (device,) = [d for d in lab.report.devices if str(d.host.address) == lab.addresses[profile]]
    return device


def test_lab_dahua_at_its_firmware_is_affected_and_not_once_fixed(lab_audit: LabAudit) -> None:
    old = _device(lab_audit, "dahua-hx3-old")
    assert old.identification.firmware == "2.800.0000000.16.R"  # read from the device
    assert {v.cve: v.status for v in old.vulnerabilities} == {
        "CVE-2021-33044": VulnStatus.AFFECTED,
        "CVE-2021-33045": VulnStatus.AFFECTED,
    }
    assert old.max_severity >= Severity.HIGH
    fixed = _device(lab_audit, "dahua-hx3-fixed")
    assert fixed.identification.firmware == FIXED_FW
    assert fixed.vulnerabilities == ()
    # The lab's own model (IPC-HFW2431S, a 2-series) is in no family the records name.
    assert _device(lab_audit, "dahua-ipc").vulnerabilities == ()


def test_lab_relabels_are_matched_through_their_true_maker(lab_audit: LabAudit) -> None:
    for profile in ("annke-ipc", "lts-ipc"):
        device = _device(lab_audit, profile)
        assert device.identification.oem_relabel
        (finding,) = [v for v in device.vulnerabilities if v.cve == "CVE-2021-36260"]
        assert finding.matched_through == "Hikvision"
        assert finding.status is VulnStatus.POSSIBLY_AFFECTED
        assert "matched through true maker Hikvision" in finding.evidence[0]


def test_a_device_without_firmware_is_never_affected(lab_audit: LabAudit) -> None:
    lorex = _device(lab_audit, "lorex-nvr")
    assert lorex.identification.firmware is None
    assert lorex.vulnerabilities
    assert {v.status for v in lorex.vulnerabilities} == {VulnStatus.POSSIBLY_AFFECTED}
    assert all(v.matched_through == "Dahua" for v in lorex.vulnerabilities)


def render(report: AuditReport, fmt: FormatName) -> bytes:
    return renderer(fmt).render(report)


def test_fail_on_counts_a_known_exploited_flaw(lab_audit: LabAudit) -> None:
    report = lab_audit.report
    # The sanctions side left out: the known-exploited flaw alone decides the exit code.
    old = dataclasses.replace(_device(lab_audit, "dahua-hx3-old"), exposures=())
    only_vulns = dataclasses.replace(report, devices=(old,))
    assert exit_code_for(only_vulns, Severity.HIGH) is ExitCode.EXPOSURE_FOUND
    assert exit_code_for(only_vulns, Severity.CRITICAL) is ExitCode.CLEAN
    clean = dataclasses.replace(report, devices=(dataclasses.replace(old, vulnerabilities=()),))
    assert exit_code_for(clean, Severity.LOW) is ExitCode.CLEAN


def test_every_format_shows_each_match_with_its_source_and_date(lab_audit: LabAudit) -> None:
    report = lab_audit.report
    doc = json.loads(render(report, FormatName.JSON))
    schema = json.loads(
        (resources.reports_dir() / "schema" / "camaudit-report-1.schema.json").read_text()
    )
    jsonschema.validate(doc, schema)
    rows = [(d["address"], v) for d in doc["devices"] for v in d["vulnerabilities"]]
    assert doc["summary"]["known_exploited_devices"] == 1
    old = _device(lab_audit, "dahua-hx3-old")
    (v,) = [v for a, v in rows if a == str(old.host.address) and v["cve"] == "CVE-2021-33044"]
    assert v["kev"] and v["kev_date_added"] == "2024-08-21" and v["kev_due_date"] == "2024-09-11"
    assert v["cvss"] == {"score": 9.8, "version": "3.1", "severity": "CRITICAL", "source": "NVD"}
    assert v["fixed_version"] == "2.800.0000000.29.r.210630"
    assert v["source"] == "https://nvd.nist.gov/vuln/detail/CVE-2021-33044"
    assert v["source_date"] == "2025-10-21"
    data = {x["name"]: x for x in doc["audit"]["data_versions"]}
    assert data["vulnerability data: CISA KEV catalogue"]["as_of"] == "2025-08-25"

    table = list(csv.DictReader(io.StringIO(render(report, FormatName.CSV).decode("utf-8-sig"))))
    vuln_rows = [r for r in table if r["record"] == "vulnerability"]
    assert len(vuln_rows) == len(rows)  # one row per device match
    (row,) = [
        r
        for r in vuln_rows
        if r["address"] == str(old.host.address) and r["cve"] == "CVE-2021-33044"
    ]
    assert (row["kev"], row["kev_due_date"], row["status"]) == ("yes", "2024-09-11", "affected")
    assert row["cvss"] == "9.8 critical (CVSS 3.1, NVD)"

    md = render(report, FormatName.MARKDOWN).decode()
    assert "## Known vulnerabilities" in md
    assert "known-exploited flaw (CISA KEV): **1**" in md
    assert "https://nvd.nist.gov/vuln/detail/CVE-2021-33044 (2025-10-21)" in md
    assert "matched through true maker Hikvision" in md
    html = render(report, FormatName.HTML).decode()
    assert "<strong>Known-exploited firmware:</strong> 1 device(s)" in html
    assert 'id="vulnerabilities"' in html and "yes (added 2024-08-21, due 2024-09-11)" in html
    console = render(report, FormatName.CONSOLE).decode()
    assert "Known vulnerabilities: 1 device(s)" in console
    assert "CVE-2021-36260" in console and "possibly" in console


def test_findings_are_saved_with_the_audit_and_re_rendered_with_todays_data(
    lab_audit: LabAudit, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report, db = lab_audit.report, lab_audit.db
    with Store(db, read_only=True) as store:
        stored = store.load_report(report.audit.id)
    assert [d.vulnerabilities for d in stored.devices] == [
        d.vulnerabilities for d in report.devices
    ]
    # --as-recorded shows what the audit found; a re-render applies the data in use now (here:
    # none imported), and says the flaws were not checked.
    assert main(["report", "--db", str(db), "--as-recorded", "-f", "json", "-o", "-"]) == 0
    recorded = json.loads(capsys.readouterr().out)
    assert recorded["summary"]["known_exploited_devices"] == 1
    # A newer catalogue imported after the audit: --as-recorded says it is not applied.
    root = lab_audit.root
    import_kev(root, ASSETS / "kev-excerpt.csv")
    args = ["report", "--db", str(db), "--as-recorded", "-f", "markdown", "-o", "-"]
    assert main(["--data-dir", str(root), *args]) == 0
    assert "NOT APPLIED" in (out := capsys.readouterr().out)
    assert "the vulnerability data imported since (kev-excerpt.csv as of 2024-08-21)" in out
    empty = str(tmp_path / "empty")
    assert main(["--data-dir", empty, "report", "--db", str(db), "-f", "json", "-o", "-"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["summary"]["vulnerable_devices"] == 0
    assert any(n.startswith("No vulnerability data imported") for n in again["audit"]["notes"])
