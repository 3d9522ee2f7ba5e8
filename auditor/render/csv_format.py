"""The CSV report: one table a spreadsheet can filter, one row per device and one per exposure.

The ``record`` column says which a row is: ``notice`` rows come first (not legal advice, the data
in use and its as-of date, stale-data warnings; the kind in ``status``, the text in ``effect``,
the as-of date in ``since``), then ``device``, ``exposure`` and ``vulnerability`` rows (one per
device and CVE, with the KEV dates, CVSS as published, the fixed version and the evidence chain
in the last columns). Exposure and vulnerability rows repeat the device's identity so that a
filter on them alone still reads well. Cells that a spreadsheet would run as a formula are
neutralised (a leading quote), since device strings are untrusted.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import BinaryIO

from auditor.models import AuditReport, DeviceResult, Exposure, VulnFinding
from auditor.render.findings import cvss_text
from auditor.render.interface import FormatName, ReportFormat
from auditor.render.notices import notices
from auditor.render.safe import csv_cell, one_line

COLUMNS = (
    "record",
    "site",
    "address",
    "mac",
    "manufacturer",
    "brand",
    "model",
    "firmware",
    "serial",
    "device_type",
    "confidence",
    "oem_relabel",
    "complete",
    "max_severity",
    "action",
    "instrument",
    "instrument_name",
    "status",
    "severity",
    "effect",
    "since",
    "entity",
    "source",
    "audit_id",
    # Known-vulnerability rows (record "vulnerability"): one per device and CVE.
    "cve",
    "kev",
    "kev_date_added",
    "kev_due_date",
    "cvss",
    "affected_range",
    "fixed_version",
    "matched_through",
    "evidence",
    "remediation",
    "source_date",
)


def _identity(d: DeviceResult, audit_id: str) -> dict[str, object]:
    ident = d.identification
    return {
        "site": d.site,
        "address": d.host.address,
        "mac": d.host.mac,
        "manufacturer": ident.manufacturer,
        "brand": ident.brand,
        "model": ident.model,
        "firmware": ident.firmware,
        "serial": ident.serial,
        "device_type": ident.device_type.value,
        "confidence": f"{ident.confidence:.2f}",
        "oem_relabel": "yes" if ident.oem_relabel else "no",
        "complete": "yes" if d.complete else "no",
        "max_severity": d.max_severity.label,
        "action": d.remediation.action.value if d.remediation else None,
        "audit_id": audit_id,
    }


def _exposure(e: Exposure) -> dict[str, object]:
    return {
        "instrument": e.instrument,
        "instrument_name": e.instrument_name,
        "status": e.status.value,
        "severity": e.severity.label,
        "effect": e.effect,
        "since": e.since.isoformat() if e.since else None,
        "entity": e.entity,
        "source": e.source,
    }


def _vulnerability(v: VulnFinding) -> dict[str, object]:
    return {
        "instrument": v.cve,
        "instrument_name": v.title,
        "status": v.status.value,
        "severity": v.severity.label,
        "effect": v.reason,
        "entity": v.matched_through or None,
        "source": v.source,
        "cve": v.cve,
        "kev": "yes" if v.kev else "no",
        "kev_date_added": v.kev_added.isoformat() if v.kev_added else None,
        "kev_due_date": v.kev_due.isoformat() if v.kev_due else None,
        "cvss": cvss_text(v),
        "affected_range": v.affected_range or None,
        "fixed_version": v.fixed_version or None,
        "matched_through": v.matched_through or None,
        "evidence": " | ".join(v.evidence),
        "remediation": v.remediation,
        "source_date": v.source_date.isoformat() if v.source_date else None,
    }


def write_csv(out: BinaryIO, head: AuditReport, devices: Iterable[DeviceResult]) -> None:
    """The CSV report of ``head``'s audit and ``devices``, written device by device (issue 16:
    nothing is kept of a device once its rows are written). ``head.devices`` is not read."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")

    def flush() -> None:
        # Encoded piece by piece: "replace" treats each character alone, so the bytes are those
        # of the whole text encoded at once.
        out.write(buf.getvalue().encode("utf-8", "replace"))
        buf.seek(0)
        buf.truncate()

    def row(values: dict[str, object]) -> None:
        # one_line: a cell never holds a control character or a line break from a device.
        writer.writerow(
            [csv_cell(None if values.get(c) is None else one_line(values[c])) for c in COLUMNS]
        )

    # A UTF-8 BOM makes Excel read the file as UTF-8 instead of the locale's code page.
    buf.write("\ufeff")
    writer.writerow(COLUMNS)
    # Notices are rows too (record "notice", the kind in status, the text in effect), so the
    # file stays one rectangular table that every spreadsheet and CSV reader accepts.
    for notice in notices(head):
        row(
            {
                "record": "notice",
                "status": notice.kind,
                "effect": notice.text,
                "since": notice.as_of.isoformat() if notice.as_of else None,
                "audit_id": head.audit.id,
            }
        )
    flush()
    for d in devices:
        identity = _identity(d, head.audit.id)
        row({"record": "device", **identity})
        for e in d.exposures:
            row({"record": "exposure", **identity, **_exposure(e)})
        for v in d.vulnerabilities:
            row({"record": "vulnerability", **identity, **_vulnerability(v)})
        flush()


class CsvFormat(ReportFormat):
    name = FormatName.CSV
    suffix = "csv"

    def render(self, report: AuditReport) -> bytes:
        out = io.BytesIO()
        write_csv(out, report, report.devices)
        return out.getvalue()
