"""Model values to column values and back, field by field: the primitives and JSON values that
every table's codec uses (``codec_audit`` and ``codec_device`` build whole rows from them).

Only the typed fields of the domain model are written, each checked for its type, so an object
that does not belong in the store (a credentials ``Secret`` slipped into a detail string, say)
raises instead of being stringified into the file.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from auditor.models import (
    Channel,
    Remediation,
    RemediationAction,
    Service,
    Severity,
    VulnFinding,
    VulnStatus,
)


def text(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"the store only keeps text here, not {type(value).__name__}")
    return value


def opt_text(value: object) -> str | None:
    return None if value is None else text(value)


def dump(value: Any) -> str:
    # ensure_ascii: a lone surrogate becomes a \u escape that json.loads restores exactly.
    return json.dumps(value, ensure_ascii=True, separators=(",", ":"))


def load(raw: str) -> Any:
    return json.loads(raw)


def moment(value: datetime) -> str:
    # isoformat keeps microseconds and the UTC offset, so fromisoformat restores an equal value.
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise TypeError("the store keeps timezone-aware datetimes only")
    return value.isoformat()


def opt_moment(value: datetime | None) -> str | None:
    return None if value is None else moment(value)


def parse_moment(raw: str) -> datetime:
    return datetime.fromisoformat(raw)


def opt_parse_moment(raw: str | None) -> datetime | None:
    return None if raw is None else parse_moment(raw)


def opt_day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def opt_parse_day(raw: str | None) -> date | None:
    return None if raw is None else date.fromisoformat(raw)


def services_to_json(services: tuple[Service, ...]) -> str:
    return dump(
        [
            {
                "port": s.port,
                "protocol": text(s.protocol),
                "name": opt_text(s.name),
                "product": opt_text(s.product),
                "version": opt_text(s.version),
                "extrainfo": opt_text(s.extrainfo),
                "device_type": opt_text(s.device_type),
                "tunnel": opt_text(s.tunnel),
                "cpes": [text(c) for c in s.cpes],
            }
            for s in services
        ]
    )


def services_from_json(raw: str) -> tuple[Service, ...]:
    return tuple(
        Service(
            port=int(d["port"]),
            protocol=d["protocol"],
            name=d["name"],
            product=d["product"],
            version=d["version"],
            extrainfo=d["extrainfo"],
            device_type=d["device_type"],
            tunnel=d["tunnel"],
            cpes=tuple(d["cpes"]),
        )
        for d in load(raw)
    )


def channels_to_json(channels: frozenset[Channel]) -> str:
    return dump(sorted(Channel(c).value for c in channels))


def channels_from_json(raw: str) -> frozenset[Channel]:
    return frozenset(Channel(c) for c in load(raw))


def remediation_to_json(rem: Remediation | None) -> str | None:
    if rem is None:
        return None
    return dump({"action": rem.action.value, "priority": rem.priority, "why": text(rem.why)})


def remediation_from_json(raw: str | None) -> Remediation | None:
    if raw is None:
        return None
    d = load(raw)
    return Remediation(action=RemediationAction(d["action"]), priority=d["priority"], why=d["why"])


def finding_to_json(v: VulnFinding) -> str:
    return dump(
        {
            "cve": text(v.cve),
            "status": v.status.value,
            "severity": v.severity.label,
            "title": text(v.title),
            "reason": text(v.reason),
            "evidence": [text(e) for e in v.evidence],
            "remediation": text(v.remediation),
            "source": text(v.source),
            "source_date": opt_day(v.source_date),
            "kev": v.kev,
            "kev_added": opt_day(v.kev_added),
            "kev_due": opt_day(v.kev_due),
            "cvss_score": v.cvss_score,
            "cvss_version": text(v.cvss_version),
            "cvss_source": text(v.cvss_source),
            "cvss_severity": text(v.cvss_severity),
            "affected_range": text(v.affected_range),
            "fixed_version": text(v.fixed_version),
            "matched_through": text(v.matched_through),
        }
    )


def finding_from_json(raw: str) -> VulnFinding:
    d = load(raw)
    return VulnFinding(
        cve=d["cve"],
        status=VulnStatus(d["status"]),
        severity=Severity.from_label(d["severity"]),
        title=d["title"],
        reason=d["reason"],
        evidence=tuple(d["evidence"]),
        remediation=d["remediation"],
        source=d["source"],
        source_date=opt_parse_day(d["source_date"]),
        kev=bool(d["kev"]),
        kev_added=opt_parse_day(d["kev_added"]),
        kev_due=opt_parse_day(d["kev_due"]),
        cvss_score=d["cvss_score"],
        cvss_version=d["cvss_version"],
        cvss_source=d["cvss_source"],
        cvss_severity=d["cvss_severity"],
        affected_range=d["affected_range"],
        fixed_version=d["fixed_version"],
        matched_through=d["matched_through"],
    )
