"""An audit in the store as `scan` and `report` write it: JSON and CSV device by device from the
store, the other formats from the report loaded for them (auditor.render.output.write_stored);
and `scan`'s console summary, full or cut, beside them."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace

from auditor.models import AuditId, AuditReport, DeviceResult
from auditor.render.console_summary import write_cut_summary
from auditor.render.interface import FormatName
from auditor.render.output import ReportSource, StoredAudit, write_reports, write_stored
from auditor.store import Store
from auditor.store.summary import AuditCounts, CutSummary, store_device_count, store_summary


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


def write_audit(
    store: Store,
    audit_id: AuditId,
    formats: Sequence[FormatName],
    args: argparse.Namespace,
    large_at: int,
    cut_list: int,
) -> tuple[AuditReport | AuditCounts, list[str]]:
    """`scan`'s output once the audit is done: the console summary and the files asked for.

    Returns the report, or its counts when the report was not loaded: for an audit of more than
    ``large_at`` devices (the console then shows a cut summary of ``cut_list`` devices, read
    from the store), or when only JSON or CSV files were asked for (written from the store
    device by device); and where the files went."""
    cut: CutSummary | None = None
    if store_device_count(store, audit_id) > large_at:
        # Counted in the database, with a bounded list of the worst devices: the end of a
        # 50,000-device scan stays flat in memory (issue 16).
        cut = store_summary(store, audit_id, cut_list)
    # The whole report only when it is the console summary (a small audit); the files are written
    # from the store (JSON and CSV device by device, the others from a report loaded for them).
    console = FormatName.CONSOLE in formats
    report = store.load_report(audit_id) if cut is None and console else None
    # The console summary always goes to the terminal; -o names where the other formats go.
    if cut is not None and console:
        db = f" --db {args.db}" if getattr(args, "db", None) else ""
        write_cut_summary(cut, report_options=db)
    elif report is not None:
        write_reports(report, [FormatName.CONSOLE], "-", None, args.detail)
    files = [f for f in formats if f is not FormatName.CONSOLE]
    audit = stored_audit(store, audit_id, report)
    written = write_stored(audit, files, args.output, args.template_dir, args.detail)
    if report is not None:
        return report, written
    if cut is None:
        # Only files were asked for: the exit code is counted in the store, as for a cut.
        cut = store_summary(store, audit_id, 0)
    return cut.counts, written
