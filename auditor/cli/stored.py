"""An audit in the store as `scan` and `report` write it: JSON and CSV device by device from the
store, the other formats from the report loaded for them (auditor.render.output.write_stored)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace

from auditor.models import AuditId, AuditReport, DeviceResult
from auditor.render.output import ReportSource, StoredAudit
from auditor.store import Store


def stored_audit(store: Store, audit_id: AuditId, report: AuditReport | None = None) -> StoredAudit:
    """The audit as it is stored; ``report``: the same audit, already loaded."""
    return StoredAudit(
        head=report if report is not None else store.load_head(audit_id),
        stream=lambda: store.report_stream(audit_id),
        load=(lambda: report) if report is not None else lambda: store.load_report(audit_id),
    )


def rendered_again(
    store: Store,
    audit_id: AuditId,
    head: AuditReport,
    device: Callable[[DeviceResult], DeviceResult],
    load: Callable[[], AuditReport],
) -> StoredAudit:
    """The audit as `report` renders it again: ``head`` (the stored head, assessed again) and
    each device passed through ``device`` as it is read; ``load``: the whole report so."""

    @contextmanager
    def stream() -> Iterator[ReportSource]:
        with store.report_stream(audit_id) as stored:
            yield replace(stored, head=head, devices=map(device, stored.devices))

    return StoredAudit(head=head, stream=stream, load=load)
