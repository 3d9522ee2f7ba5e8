"""An audit's summary counted in SQL equals the one computed from the loaded report, on both
engines, and the cut list holds the most severe devices (issue 16)."""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from pathlib import Path

from auditor.models import AuditReport, DeviceResult, Severity, VulnFinding, VulnStatus
from auditor.render.verdicts import reaching
from auditor.render.view import summarise
from auditor.store import Store
from auditor.store.summary import store_device_count, store_summary
from tests.render.camaudit_sample_audit import sample_report
from tests.store.store_engines import save_report

KEV = VulnFinding(
    cve="CVE-2021-33044",
    status=VulnStatus.AFFECTED,
    severity=Severity.CRITICAL,
    title="Dahua IP Camera Authentication Bypass Vulnerability",
    reason="firmware '2.800.0000000.16.R' is within the published range",
    evidence=("maker Dahua matched the published vendor",),
    remediation="Update to firmware 2.800.0000000.29.r.210630 or later.",
    source="https://nvd.nist.gov/vuln/detail/CVE-2021-33044",
    kev=True,
)
MINOR = replace(
    KEV, cve="CVE-2017-7921", status=VulnStatus.POSSIBLY_AFFECTED, severity=Severity.LOW
)


def _report() -> AuditReport:
    """The sample audit, where a known-exploited flaw makes the last device saved (medium by its
    exposures, as is another saved before it) one of the worst, and a minor finding leaves
    another as it was."""
    base = sample_report()
    devices = list(base.devices)
    devices[4] = replace(devices[4], vulnerabilities=(KEV,))
    devices[0] = replace(devices[0], vulnerabilities=(MINOR,))
    return replace(base, devices=tuple(devices))


def _saved(store: Store) -> AuditReport:
    report = save_report(store, _report())
    return store.load_report(report.audit.id)


def _order(d: DeviceResult) -> tuple[int, int, int]:
    return (-d.max_severity.value, d.host.address.version, int(d.host.address))


def test_counts_equal_the_loaded_reports_summary(store_location: Path | str) -> None:
    with Store(store_location) as store:
        report = _saved(store)
        cut = store_summary(store, report.audit.id, limit=50)
        assert store_device_count(store, report.audit.id) == len(report.devices)
    s = summarise(report)
    c = cut.counts
    assert c.audit == report.audit and c.notes == report.notes
    assert (c.devices, c.video, c.exposed, c.review, c.relabels, c.incomplete) == (
        s.devices,
        s.cameras,
        s.exposed,
        s.review,
        s.relabels,
        s.incomplete,
    )
    assert c.by_severity == s.by_severity
    assert (c.vulnerable, c.known_exploited) == (s.vulnerable, s.known_exploited) == (2, 1)
    assert c.out_of_scope == len(report.out_of_scope)
    assert c.worst is Severity.CRITICAL
    assert c.evidence_sha256 == report.evidence_sha256
    assert s.actions
    assert [(a.rank, a.action, a.priority, a.devices, a.makers) for a in c.actions] == [
        (a.rank, a.action, a.priority, len(a.devices), a.makers) for a in s.actions
    ]


def test_the_cut_list_is_the_most_severe_first(store_location: Path | str) -> None:
    with Store(store_location) as store:
        report = _saved(store)
        every = store_summary(store, report.audit.id, limit=50).worst
        three = store_summary(store, report.audit.id, limit=3).worst
    expected = sorted(report.devices, key=_order)
    assert [ipaddress.ip_address(d.address) for d in every] == [d.host.address for d in expected]
    # The third is among the worst only by its known-exploited flaw, not by its exposures.
    assert [d.address for d in three] == ["10.20.0.11", "10.20.0.12", "10.20.0.66"]
    assert three[2].max_severity is Severity.CRITICAL
    for line, device in zip(every, expected, strict=True):
        hits = reaching(device)
        assert line.max_severity is device.max_severity
        assert line.attention == len(hits)
        assert line.top_instrument == (hits[0].instrument if hits else None)
        assert line.manufacturer == device.identification.manufacturer
        assert line.complete == device.complete
