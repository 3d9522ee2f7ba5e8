"""The JSON report: the stable, versioned contract other tools read (schema in reports/schema/)."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from typing import Any, BinaryIO

from auditor.models import (
    AuditReport,
    Component,
    DeviceResult,
    EvidenceLink,
    Exposure,
    Observation,
    VulnFinding,
)
from auditor.render.interface import FormatName, ReportFormat
from auditor.render.notices import notices
from auditor.render.tally import SummaryTally

#: Bumped on an incompatible change only; new fields are added without a bump.
SCHEMA_VERSION = "1.0"
SCHEMA_FILE = "camaudit-report-1.schema.json"


def _observation(o: Observation) -> dict[str, Any]:
    return {
        "kind": o.kind.value,
        "value": o.value,
        "source": o.source,
        "port": o.port,
        "observed_at": o.observed_at.isoformat(),
        "sha256": o.sha256,
    }


def _link(link: EvidenceLink) -> dict[str, Any]:
    return {
        "fingerprint": link.fingerprint_id,
        "description": link.description,
        "asserts": dict(link.asserts),
        "weight": link.weight,
        "source": link.source,
        "observation": _observation(link.observation),
    }


def _component(c: Component) -> dict[str, Any]:
    return {
        "kind": c.kind,
        "vendor": c.vendor,
        "model": c.model,
        "evidence": [_link(link) for link in c.evidence],
    }


def _exposure(e: Exposure) -> dict[str, Any]:
    return {
        "instrument": e.instrument,
        "instrument_name": e.instrument_name,
        "jurisdiction": e.jurisdiction,
        "status": e.status.value,
        "severity": e.severity.label,
        "effect": e.effect,
        "binds": e.binds,
        "since": e.since.isoformat() if e.since else None,
        "source": e.source,
        "entity": e.entity,
        "uncertain": e.uncertain,
        "match_score": e.match_score,
        "list_row": e.list_row,
    }


def _vulnerability(v: VulnFinding) -> dict[str, Any]:
    return {
        "cve": v.cve,
        "status": v.status.value,
        "severity": v.severity.label,
        "title": v.title,
        "reason": v.reason,
        "kev": v.kev,
        "kev_date_added": v.kev_added.isoformat() if v.kev_added else None,
        "kev_due_date": v.kev_due.isoformat() if v.kev_due else None,
        "cvss": (
            None
            if v.cvss_score is None
            else {
                "score": v.cvss_score,
                "version": v.cvss_version,
                "severity": v.cvss_severity,
                "source": v.cvss_source,
            }
        ),
        "affected_range": v.affected_range or None,
        "fixed_version": v.fixed_version or None,
        "matched_through": v.matched_through or None,
        "evidence": list(v.evidence),
        "remediation": v.remediation,
        "source": v.source,
        "source_date": v.source_date.isoformat() if v.source_date else None,
    }


def device_dict(d: DeviceResult) -> dict[str, Any]:
    ident = d.identification
    host = d.host
    return {
        "address": str(host.address),
        "site": d.site,
        "mac": host.mac,
        "mac_vendor": host.mac_vendor,
        "manufacturer": ident.manufacturer,
        "brand": ident.brand,
        "model": ident.model,
        "firmware": ident.firmware,
        "serial": ident.serial,
        "device_type": ident.device_type.value,
        "confidence": ident.confidence,
        "oem_relabel": ident.oem_relabel,
        "complete": d.complete,
        "unconfirmed": d.unconfirmed,
        "max_severity": d.max_severity.label,
        "rationale": list(ident.rationale),
        "services": [
            {
                "port": s.port,
                "protocol": s.protocol,
                "name": s.name,
                "product": s.product,
                "version": s.version,
            }
            for s in host.services
        ],
        "seen_by": sorted(c.value for c in host.seen_by),
        "evidence": [_link(link) for link in ident.evidence],
        "components": [_component(c) for c in ident.components],
        "probes": [
            {
                "probe": a.probe,
                "outcome": a.outcome.value,
                "reason": a.reason.value if a.reason else None,
                "detail": a.detail,
                "duration_s": a.duration_s,
            }
            for a in d.attempts
        ],
        "observations": [_observation(o) for o in d.observations],
        "exposures": [_exposure(e) for e in d.exposures],
        "vulnerabilities": [_vulnerability(v) for v in d.vulnerabilities],
        "remediation": (
            None
            if d.remediation is None
            else {
                "action": d.remediation.action.value,
                "priority": d.remediation.priority,
                "why": d.remediation.why,
            }
        ),
    }


def audit_dict(report: AuditReport, evidence_sha256: str) -> dict[str, Any]:
    """The "audit" object: everything but the devices and the summary (``report.devices`` is
    not read: ``evidence_sha256`` is the whole audit's, counted where the devices are)."""
    info = report.audit
    return {
        "id": info.id,
        "site": info.site,
        "started": info.started.isoformat(),
        "finished": info.finished.isoformat() if info.finished else None,
        "profile": info.profile.value,
        "tool_version": info.tool_version,
        "scope": {
            "targets": list(info.targets),
            "excludes": list(info.excludes),
            "ports": list(info.ports),
        },
        "probes": list(info.probes),
        "options": {"rate": info.rate, "timeout_s": info.timeout},
        "channel_failures": [
            {"channel": f.channel, "message": f.message} for f in info.channel_failures
        ],
        "data_versions": [
            {
                "name": v.name,
                "version": v.version,
                "as_of": v.as_of.isoformat() if v.as_of else None,
                "source": v.source,
            }
            for v in info.data_versions
        ],
        "notes": list(report.notes),
        "notices": [
            {
                "kind": n.kind,
                "text": n.text,
                "as_of": n.as_of.isoformat() if n.as_of else None,
            }
            for n in notices(report)
        ],
        "out_of_scope": [
            {"address": r.address, "referrer": str(r.referrer), "via": r.via}
            for r in report.out_of_scope
        ],
        "evidence_sha256": evidence_sha256,
    }


_ENCODER = json.JSONEncoder(indent=2, ensure_ascii=False)


def _encoded(value: object, level: int) -> bytes:
    """``value`` as ``json.JSONEncoder(indent=2)`` writes it ``level`` objects deep. Only the line
    breaks between items are indented (a string's own line breaks are escaped, \\n), so the
    value encoded alone, with each break indented further, is the same text. A lone surrogate
    (a leniently decoded byte) becomes a JSON \\u escape of itself, as it always did."""
    text = _ENCODER.encode(value)
    if level:
        text = text.replace("\n", "\n" + "  " * level)
    return text.encode("utf-8", "backslashreplace")


def write_json(
    out: BinaryIO, head: AuditReport, devices: Iterable[DeviceResult], evidence_sha256: str
) -> None:
    """The JSON report of ``head``'s audit and ``devices``, written device by device: the bytes
    of the whole report encoded as one value (tests/store/test_store_report_stream.py builds it
    with ``summarise`` and compares), with nothing kept of a device once it is written (issue 16: a
    report of 20,000 devices from the store stays flat in memory). ``head.devices`` is not
    read; ``evidence_sha256`` is the devices' (AuditReport.evidence_sha256)."""
    out.write(b'{\n  "schema_version": ' + _encoded(SCHEMA_VERSION, 1))
    out.write(b',\n  "audit": ' + _encoded(audit_dict(head, evidence_sha256), 1))
    out.write(b',\n  "devices": ')
    tally = SummaryTally()
    separator = b"[\n    "
    for d in devices:
        tally.add(d)
        out.write(separator + _encoded(device_dict(d), 2))
        separator = b",\n    "
    out.write(b"[]" if tally.empty else b"\n  ]")
    summary = tally.summary_dict(head.discovery_incomplete)
    out.write(b',\n  "summary": ' + _encoded(summary, 1) + b"\n}\n")


class JsonFormat(ReportFormat):
    name = FormatName.JSON
    suffix = "json"

    def render(self, report: AuditReport) -> bytes:
        # Written device by device, as from the store: json.dumps(indent=2) of the whole report
        # joined millions of small strings at once (496 MB for a 2,000-device report).
        out = io.BytesIO()
        write_json(out, report, report.devices, report.evidence_sha256)
        return out.getvalue()
