"""Known-vulnerability findings as every format lists them: their order, CVSS and KEV wording."""

from __future__ import annotations

from auditor.models import AuditReport, DeviceResult, VulnFinding, VulnStatus


def known_exploited(device: DeviceResult) -> bool:
    return any(v.kev and v.status is VulnStatus.AFFECTED for v in device.vulnerabilities)


def vulnerability_rows(report: AuditReport) -> tuple[tuple[DeviceResult, VulnFinding], ...]:
    """One row per device and finding: affected before possibly affected, KEV first, by CVE."""
    rows = [(d, v) for d in report.devices for v in d.vulnerabilities]
    rows.sort(
        key=lambda r: (
            r[1].status is not VulnStatus.AFFECTED,
            not r[1].kev,
            -r[1].severity.value,
            r[1].cve,
            _address_order(r[0]),
        )
    )
    return tuple(rows)


def _address_order(d: DeviceResult) -> tuple[int, int]:
    return (d.host.address.version, int(d.host.address))


def cvss_text(v: VulnFinding) -> str:
    """CVSS as published: score, version and who published it; "-" when none was."""
    if v.cvss_score is None:
        return "-"
    sev = f" {v.cvss_severity.lower()}" if v.cvss_severity else ""
    return f"{v.cvss_score:.1f}{sev} (CVSS {v.cvss_version}, {v.cvss_source or 'unknown source'})"


def kev_text(v: VulnFinding) -> str:
    if not v.kev:
        return "no"
    added = v.kev_added.isoformat() if v.kev_added else "?"
    due = f", due {v.kev_due.isoformat()}" if v.kev_due else ""
    return f"yes (added {added}{due})"
