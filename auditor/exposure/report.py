"""Audit-level helpers: re-assess a stored report for another audience, and totals."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from auditor.exposure.assess import Assessor
from auditor.models import Audience, AuditReport, DeviceResult
from auditor.resources import bundle_data_version, data_in_use

REASSESSED = "Re-assessed on"


def reassess(report: AuditReport, audience: Audience, assessor: Assessor) -> AuditReport:
    """The same devices, assessed for ``audience`` with the assessor's current data (no rescan)."""
    devices: list[DeviceResult] = []
    for device in report.devices:
        result = assessor.assess(device.identification, audience)
        devices.append(replace(device, exposures=result.exposures, remediation=result.remediation))
    ours = set(assessor.notes())
    lists = ", ".join(f"{r.kind} ({r.file_name})" for r in assessor.imports) or "none"
    ours.add(
        f"{REASSESSED} {assessor.today} with the data in use then ({data_in_use().label()}) "
        f"and the official lists imported by then: {lists}. The devices are as observed in the "
        "audit; only the assessment is new."
    )
    # Notes from an earlier assessment (another date or data version) are replaced, not stacked.
    kept = [n for n in report.notes if not _is_assessment_note(n)]
    audit = replace(
        report.audit, profile=Audience(audience), data_versions=_merge_versions(report, assessor)
    )
    return replace(
        report, audit=audit, devices=tuple(devices), notes=tuple(kept + sorted(ours, key=_order))
    )


def _is_assessment_note(note: str) -> bool:
    return note.startswith(
        ("Stale data:", "No official list imported", "camaudit's exposure", REASSESSED)
    )


def _order(note: str) -> tuple[int, str]:
    return (0 if note.startswith("camaudit's exposure") else 1, note)


def _merge_versions(report: AuditReport, assessor: Assessor) -> tuple[Any, ...]:
    ours = (bundle_data_version(assessor.today), *assessor.data_versions())
    names = {v.name for v in ours}
    others = tuple(
        v
        for v in report.audit.data_versions
        if v.name not in names and not v.name.startswith("list ")
    )
    return others + ours
