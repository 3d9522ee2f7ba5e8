"""`camaudit diff` output: console for people, JSON for pipelines, Markdown for a ticket or a PR.

Every device-supplied string is neutralised for its medium (control characters for the console,
markup for Markdown; JSON escapes by itself).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from auditor.cli.console import clean
from auditor.history.compare import AuditDiff, DeviceChange, Escalation, ExposureChange
from auditor.models import AuditInfo, DeviceResult, ExposureStatus, Severity
from auditor.render.safe import markdown as md

#: The diff document's contract (reports/schema/camaudit-diff-1.schema.json).
DIFF_SCHEMA_VERSION = "1.0"


def summary_line(result: AuditDiff) -> str:
    moved = f" ({result.moved} moved address)" if result.moved else ""
    return (
        f"{len(result.added)} new, {len(result.gone)} gone, {len(result.changed)} changed"
        f"{moved}, {result.unchanged} unchanged"
    )


def _state(pair: tuple[ExposureStatus, Severity] | None) -> str:
    if pair is None:
        return "-"
    status, severity = pair
    return f"{status.value} ({severity.label})"


def _what(name: str, instrument: str, entity: str | None) -> str:
    what = name or instrument
    return f"{what} ({entity})" if entity else what


def _split(changes: Sequence[DeviceChange]) -> tuple[list[DeviceChange], list[DeviceChange]]:
    """(moved only: a new address and nothing else, every other change)."""
    moved = [c for c in changes if c.moved and len(c.fields) == 1 and not c.exposures]
    return moved, [c for c in changes if not (c.moved and len(c.fields) == 1 and not c.exposures)]


def _label(d: DeviceResult) -> str:
    return f"{d.host.address} {d.host.mac or ''}".strip()


# --- console ---------------------------------------------------------------------------------


def _audit_title(info: AuditInfo) -> str:
    return f"{clean(info.id)} ({clean(info.site)}, {info.started:%Y-%m-%d})"


def print_console(
    result: AuditDiff, out: Console, fail_on: Severity, incomplete: Sequence[str] = ()
) -> None:
    out.print(
        Text.assemble(
            ("Changes from ", "bold"),
            _audit_title(result.old.audit),
            " to ",
            _audit_title(result.new.audit),
        )
    )
    out.print(summary_line(result))

    def device_table(title: str, devices: Sequence[DeviceResult], style: str) -> None:
        if not devices:
            return
        table = Table(title=Text(title, style=style), title_justify="left", box=box.SIMPLE_HEAD)
        for col in ("address", "mac", "serial", "manufacturer", "brand", "model", "highest"):
            table.add_column(col, overflow="fold")
        for d in devices:
            ident = d.identification
            values = (
                str(d.host.address),
                d.host.mac,
                ident.serial,
                ident.manufacturer,
                ident.brand,
                ident.model,
                d.max_severity.label,
            )
            table.add_row(*(Text(clean(v or "-")) for v in values))
        out.print(table)

    escalations = result.escalations(fail_on)
    if escalations:
        table = Table(
            title=Text(f"New or worsened exposures at {fail_on.label} or above", style="red"),
            title_justify="left",
            box=box.SIMPLE_HEAD,
        )
        for col in ("device", "exposure", "before", "now"):
            table.add_column(col, overflow="fold")
        for esc in escalations:
            table.add_row(
                Text(clean(_label(esc.device))),
                Text(clean(_what(esc.name, esc.instrument, esc.entity))),
                esc.before.label if esc.before else "-",
                esc.severity.label,
            )
        out.print(table)
    device_table("New devices", result.added, "green")
    device_table("Gone devices", result.gone, "red")
    moved, changed = _split(result.changed)
    if moved:
        table = Table(
            title="Moved devices (address only)", title_justify="left", box=box.SIMPLE_HEAD
        )
        for col in ("device", "matched by", "from", "to"):
            table.add_column(col, overflow="fold")
        for c in moved:
            ident = c.new.identification
            what = " ".join(v for v in (ident.manufacturer, ident.model) if v) or "-"
            table.add_row(
                Text(clean(what)), c.basis.value, str(c.old.host.address), str(c.new.host.address)
            )
        out.print(table)
    if changed:
        table = Table(title="Changed devices", title_justify="left", box=box.SIMPLE_HEAD)
        for col in ("device", "matched by", "what", "before", "after"):
            table.add_column(col, overflow="fold")
        for c in changed:
            label = Text(clean(_label(c.new)))
            for name, before, after in c.fields:
                table.add_row(label, c.basis.value, name, Text(clean(before)), Text(clean(after)))
            for e in c.exposures:
                table.add_row(
                    label,
                    c.basis.value,
                    Text(clean(_what(e.name, e.instrument, e.entity))),
                    _state(e.before),
                    _state(e.after),
                )
        out.print(table)
    if result.is_empty:
        out.print("No device or exposure changed.")
    if incomplete:
        out.print(Text(clean(f"The later audit is incomplete: {'; '.join(incomplete)}."), "yellow"))


# --- JSON ------------------------------------------------------------------------------------


def _audit(info: AuditInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "site": info.site,
        "started": info.started.isoformat(),
        "finished": info.finished.isoformat() if info.finished else None,
        "profile": info.profile.value,
    }


def _device(d: DeviceResult) -> dict[str, Any]:
    ident = d.identification
    return {
        "address": str(d.host.address),
        "site": d.site,
        "mac": d.host.mac,
        "serial": ident.serial,
        "manufacturer": ident.manufacturer,
        "brand": ident.brand,
        "model": ident.model,
        "firmware": ident.firmware,
        "device_type": ident.device_type.value,
        "max_severity": d.max_severity.label,
        "exposures": [
            {
                "instrument": e.instrument,
                "name": e.instrument_name,
                "entity": e.entity,
                "status": e.status.value,
                "severity": e.severity.label,
                "source": e.source,
            }
            for e in d.exposures
        ],
    }


def _exposure_state(pair: tuple[ExposureStatus, Severity] | None) -> dict[str, str] | None:
    if pair is None:
        return None
    return {"status": pair[0].value, "severity": pair[1].label}


def _exposure_change(e: ExposureChange) -> dict[str, Any]:
    return {
        "instrument": e.instrument,
        "name": e.name,
        "entity": e.entity,
        "move": e.move.value,
        "before": _exposure_state(e.before),
        "after": _exposure_state(e.after),
        "source": e.source,
    }


def _change(c: DeviceChange) -> dict[str, Any]:
    return {
        "matched_by": c.basis.value,
        "old": _device(c.old),
        "new": _device(c.new),
        "fields": [{"field": n, "before": b, "after": a} for n, b, a in c.fields],
        "exposures": [_exposure_change(e) for e in c.exposures],
    }


def _escalation(e: Escalation, fail_on: Severity) -> dict[str, Any]:
    return {
        "address": str(e.device.host.address),
        "mac": e.device.host.mac,
        "serial": e.device.identification.serial,
        "instrument": e.instrument,
        "name": e.name,
        "entity": e.entity,
        "severity": e.severity.label,
        "before": e.before.label if e.before else None,
        "reaches_fail_on": e.severity >= fail_on,
        "source": e.source,
    }


def diff_dict(
    result: AuditDiff, fail_on: Severity, exit_code: int, incomplete: Sequence[str]
) -> dict[str, Any]:
    escalations = result.escalations()
    return {
        "schema_version": DIFF_SCHEMA_VERSION,
        "old": _audit(result.old.audit),
        "new": _audit(result.new.audit),
        "summary": {
            "new": len(result.added),
            "gone": len(result.gone),
            "changed": len(result.changed),
            "moved": result.moved,
            "unchanged": result.unchanged,
            "escalations": len(escalations),
        },
        "gate": {
            "fail_on": fail_on.label,
            "reached": any(e.severity >= fail_on for e in escalations),
            "new_audit_incomplete": bool(incomplete),
            "incomplete_because": list(incomplete),
            "exit_code": exit_code,
        },
        "escalations": [_escalation(e, fail_on) for e in escalations],
        "devices": {
            "new": [_device(d) for d in result.added],
            "gone": [_device(d) for d in result.gone],
            "changed": [_change(c) for c in result.changed],
        },
    }


def render_json(
    result: AuditDiff, fail_on: Severity, exit_code: int, incomplete: Sequence[str]
) -> bytes:
    doc = diff_dict(result, fail_on, exit_code, incomplete)
    return json.dumps(doc, indent=2, ensure_ascii=False).encode("utf-8", "backslashreplace") + b"\n"


# --- Markdown --------------------------------------------------------------------------------


def _table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(md(c if c is not None else "-") for c in r) + " |" for r in rows]
    return [*lines, ""]


def _md_audit(info: AuditInfo) -> str:
    return f"{md(info.id)} ({md(info.site)}, {info.started:%Y-%m-%d})"


def render_markdown(result: AuditDiff, fail_on: Severity, incomplete: Sequence[str] = ()) -> bytes:
    lines = [
        f"# Changes from {_md_audit(result.old.audit)} to {_md_audit(result.new.audit)}",
        "",
        summary_line(result) + ".",
        "",
    ]
    escalations = result.escalations(fail_on)
    if escalations:
        lines += [f"## New or worsened exposures at {fail_on.label} or above", ""]
        lines += _table(
            ("Device", "Exposure", "Before", "Now", "Source"),
            (
                (
                    _label(e.device),
                    _what(e.name, e.instrument, e.entity),
                    e.before.label if e.before else "-",
                    e.severity.label,
                    e.source,
                )
                for e in escalations
            ),
        )
    for title, devices in (("New devices", result.added), ("Gone devices", result.gone)):
        if not devices:
            continue
        lines += [f"## {title}", ""]
        lines += _table(
            ("Address", "MAC", "Serial", "Manufacturer", "Brand", "Model", "Highest"),
            (
                (
                    str(d.host.address),
                    d.host.mac,
                    d.identification.serial,
                    d.identification.manufacturer,
                    d.identification.brand,
                    d.identification.model,
                    d.max_severity.label,
                )
                for d in devices
            ),
        )
    moved, changed = _split(result.changed)
    if moved:
        lines += ["## Moved devices (address only)", ""]
        lines += _table(
            ("Device", "Matched by", "From", "To"),
            (
                (
                    " ".join(
                        v
                        for v in (c.new.identification.manufacturer, c.new.identification.model)
                        if v
                    )
                    or "-",
                    c.basis.value,
                    str(c.old.host.address),
                    str(c.new.host.address),
                )
                for c in moved
            ),
        )
    if changed:
        lines += ["## Changed devices", ""]
        rows: list[tuple[object, ...]] = []
        for c in changed:
            rows += [(_label(c.new), c.basis.value, n, b, a) for n, b, a in c.fields]
            rows += [
                (
                    _label(c.new),
                    c.basis.value,
                    _what(e.name, e.instrument, e.entity),
                    _state(e.before),
                    _state(e.after),
                )
                for e in c.exposures
            ]
        lines += _table(("Device", "Matched by", "What", "Before", "After"), rows)
    if result.is_empty:
        lines += ["No device or exposure changed.", ""]
    if incomplete:
        lines += [md(f"The later audit is incomplete: {'; '.join(incomplete)}."), ""]
    return ("\n".join(lines)).encode("utf-8")
