"""The console report (rich): the summary, then a table per severity, then what was not reached.

Every device string passes through one_line(), so a banner cannot move the cursor, retitle the
terminal or reorder text; rich Text objects keep it from being read as markup.
"""

from __future__ import annotations

import io

from rich import box
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from auditor.models import AuditReport, DeviceResult, Severity
from auditor.render.interface import FormatName, ReportFormat
from auditor.render.safe import one_line
from auditor.render.view import devices_by_severity, notices, reaching, shortfalls, summarise
from auditor.render.wording import reason_text

SEVERITY_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "blue",
    Severity.NONE: "green",
}

NOTICE_STYLE = {
    "legal": "italic",
    "stale": "bold red",
    "lists": "yellow",
    "not-applied": "bold yellow",
}


def _t(value: object, style: str = "") -> Text:
    return Text("" if value is None else one_line(value), style=style)


def _exposure_cell(d: DeviceResult) -> str:
    """The instruments at the device's highest severity, by id; the rest as a count."""
    hits = reaching(d)
    if not hits:
        return "-"
    top = [e.instrument for e in hits if e.severity is hits[0].severity]
    more = len(hits) - len(top)
    return ", ".join(top) + (f" +{more} more" if more else "")


class ConsoleFormat(ReportFormat):
    name = FormatName.CONSOLE
    suffix = "txt"

    def render(self, report: AuditReport) -> bytes:
        buf = io.StringIO()
        console = Console(
            file=buf,
            width=self.options.width,
            force_terminal=self.options.color,
            color_system="standard" if self.options.color else None,
            no_color=not self.options.color,
            highlight=False,
            emoji=False,
            markup=False,
        )
        for part in self._parts(report):
            console.print(part)
        return buf.getvalue().encode("utf-8", "replace")

    def _parts(self, report: AuditReport) -> list[RenderableType]:
        info = report.audit
        s = summarise(report)
        state = f"finished {info.finished:%Y-%m-%d %H:%M} UTC" if info.finished else "INTERRUPTED"
        parts: list[RenderableType] = [
            Text.assemble(
                ("Camera audit ", "bold"),
                _t(info.site, "bold"),
                f"  {info.id}  started {info.started:%Y-%m-%d %H:%M} UTC, {state}, "
                f"profile {info.profile.value}",
            )
        ]
        # First thing under the title: the default output must carry the same warnings as
        # every other format (not legal advice, the data's date, stale data and what to run).
        block = Text()
        for notice in notices(report):
            block.append(one_line(notice.text) + "\n", style=NOTICE_STYLE.get(notice.kind, ""))
        parts.append(block)
        summary = Table(box=box.SIMPLE, show_header=False, pad_edge=False)
        summary.add_column("what")
        summary.add_column("n", justify="right")
        summary.add_row("devices", str(s.devices))
        summary.add_row("cameras and recorders", str(s.cameras))
        summary.add_row(Text("exposed", style="bold"), Text(str(s.exposed), style="bold"))
        summary.add_row("maker unknown / review", str(s.review))
        summary.add_row("OEM relabels", str(s.relabels))
        summary.add_row("incomplete hosts", str(s.incomplete))
        if s.unconfirmed:
            summary.add_row("unconfirmed (discovery replies only)", str(s.unconfirmed))
        for sev, n in s.by_severity:
            if n:
                summary.add_row(Text(f"  {sev.label}", style=SEVERITY_STYLE[sev]), str(n))
        parts.append(summary)
        parts.extend(
            Text.assemble(
                ("discovery incomplete: ", "bold yellow"),
                _t(f"{failure.channel} failed ({failure.message}); "),
                _t(f"camaudit scan --resume {info.id} runs it again"),
            )
            for failure in info.channel_failures
        )
        if s.actions:
            actions = Text("Top actions\n", style="bold")
            for action in s.actions:
                actions.append(f"  {action.priority}. {action.headline}: ")
                actions.append(one_line(", ".join(action.devices)))
                actions.append("\n")
            parts.append(actions)

        for sev, devices in devices_by_severity(report):
            table = Table(
                title=Text(f"{sev.label.upper()} ({len(devices)})", style=SEVERITY_STYLE[sev]),
                title_justify="left",
                box=box.SIMPLE_HEAD,
            )
            for col in ("address", "maker", "brand", "model", "type", "conf.", "exposures", "do"):
                table.add_column(col, overflow="fold")
            for d in devices:
                ident = d.identification
                brand = _t(ident.brand)
                if ident.oem_relabel:
                    brand.append(" (relabel)", style="magenta")
                table.add_row(
                    _t(f"{d.host.address}" + (f" {d.site}" if d.site else "")),
                    _t(ident.manufacturer or "unknown", "" if ident.manufacturer else "dim"),
                    brand,
                    _t(ident.model),
                    _t(ident.device_type.value),
                    _t(f"{ident.confidence:.0%}"),
                    _t(_exposure_cell(d)),
                    _t(d.remediation.action.value if d.remediation else "-"),
                )
            parts.append(table)

        if report.incomplete:
            table = Table(title="Not fully probed", title_justify="left", box=box.SIMPLE_HEAD)
            for col in ("address", "probe", "reason", "detail"):
                table.add_column(col, overflow="fold")
            for d in report.incomplete:
                for a in shortfalls(d):
                    if a.reason is not None:
                        table.add_row(
                            _t(d.host.address), _t(a.probe), _t(reason_text(a.reason)), _t(a.detail)
                        )
            parts.append(table)
        if report.out_of_scope:
            parts.append(
                Text(
                    f"{len(report.out_of_scope)} out-of-scope address(es) referenced by "
                    "devices were recorded and not contacted.",
                    style="dim",
                )
            )
        parts.append(Group(Text(f"Evidence SHA-256 {report.evidence_sha256}", style="dim")))
        return parts
