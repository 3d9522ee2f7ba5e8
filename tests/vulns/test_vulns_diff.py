"""camaudit diff: a firmware update that removes a known-exploited flaw shows as a change."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from auditor.history.compare import diff
from auditor.models import AuditReport, Severity, VulnFinding, VulnStatus
from tests.render.camaudit_sample_audit import sample_report

FINDING = VulnFinding(
    cve="CVE-2021-33044",
    status=VulnStatus.AFFECTED,
    severity=Severity.HIGH,
    title="Dahua IP Camera Authentication Bypass Vulnerability",
    reason="firmware '2.800.0000000.16.R' is within the published range",
    evidence=("maker Dahua matched the published vendor",),
    remediation="Update to firmware 2.800.0000000.29.r.210630 or later.",
    source="https://nvd.nist.gov/vuln/detail/CVE-2021-33044",
    kev=True,
)


def _with(report: AuditReport, findings: tuple[VulnFinding, ...]) -> AuditReport:
    first = replace(report.devices[0], vulnerabilities=findings)
    return replace(report, devices=(first, *report.devices[1:]))


def test_a_fixed_flaw_and_a_new_one_are_changes() -> None:
    base = sample_report()
    before, after = _with(base, (FINDING,)), _with(base, ())
    (change,) = diff(before, after).changed
    (v,) = change.vulnerabilities
    assert (v.cve, v.before, v.after) == (
        "CVE-2021-33044",
        (VulnStatus.AFFECTED, Severity.HIGH),
        None,
    )
    (back,) = diff(after, before).changed
    assert back.vulnerabilities[0].after == (VulnStatus.AFFECTED, Severity.HIGH)
    assert diff(before, before).is_empty


def test_hostile_device_strings_in_a_finding_stay_inert_in_every_format(tmp_path: Path) -> None:
    import csv
    import io

    from auditor.models import Audience
    from auditor.render import renderer
    from auditor.render.interface import FormatName
    from auditor.vulns import VulnMatcher, import_kev, load
    from tests.vulns.conftest import ASSETS, ident

    import_kev(tmp_path, ASSETS / "kev-excerpt.json")
    brand, model = '=HYPERLINK("http://x")', "<script>alert(1)</script>\x1b]0;pwned\x07"
    hostile = ident("Hikvision", brand, model, "V5.5.0", relabel=True)
    (finding,) = VulnMatcher(load(tmp_path)).match(hostile, Audience.GENERIC)
    assert brand in finding.evidence[0] and brand in finding.remediation  # its own words
    base = sample_report()
    device = replace(base.devices[0], identification=hostile, vulnerabilities=(finding,))
    report = replace(base, devices=(device,))
    html = renderer(FormatName.HTML).render(report).decode()
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    rows = csv.DictReader(io.StringIO(renderer(FormatName.CSV).render(report).decode("utf-8-sig")))
    (row,) = [r for r in rows if r["record"] == "vulnerability"]
    assert not any(cell.startswith("=") for cell in row.values() if cell)
    for fmt in (FormatName.CONSOLE, FormatName.MARKDOWN):
        assert "\x1b" not in renderer(fmt).render(report).decode()
