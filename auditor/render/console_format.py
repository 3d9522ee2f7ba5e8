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

from auditor.models import AuditInfo, AuditReport, DeviceResult, RemediationAction, Severity
from auditor.render.actions import devices_by_action
from auditor.render.evidence import evidence
from auditor.render.findings import cvss_text, kev_text, vulnerability_rows
from auditor.render.interface import Detail, FormatName, ReportFormat
from auditor.render.notices import notices
from auditor.render.safe import one_line
from auditor.render.verdicts import device_label, driving, reaching, shortfalls, type_counts
from auditor.render.view import shortfall_counts, summarise
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


def heading(report: AuditReport) -> list[RenderableType]:
    """The title, the audit's line, then its notices. First thing under the title: the default
    output must carry the same warnings as every other format (not legal advice, the data's
    date, stale data and what to run). The notices read only the audit's record and notes."""
    info = report.audit
    state = f"finished {info.finished:%Y-%m-%d %H:%M} UTC" if info.finished else "INTERRUPTED"
    block = Text()
    for notice in notices(report):
        block.append(one_line(notice.text) + "\n", style=NOTICE_STYLE.get(notice.kind, ""))
    return [
        Text.assemble(("Camera audit ", "bold"), _t(info.site, "bold")),
        Text(
            f"{info.id}, started {info.started:%Y-%m-%d %H:%M} UTC, {state}, "
            f"profile {info.profile.value}"
        ),
        block,
    ]


def discovery_incomplete(info: AuditInfo) -> list[Text]:
    """One line per discovery channel that failed, with the command that runs it again."""
    return [
        Text.assemble(
            ("discovery incomplete: ", "bold yellow"),
            _t(f"{failure.channel} failed ({failure.message}); "),
            _t(f"camaudit scan --resume {info.id} runs it again"),
        )
        for failure in info.channel_failures
    ]


def actions_table() -> Table:
    """The empty "Top actions" table: a rank column, then the action's line."""
    actions = Table(
        title=Text("Top actions", style="bold"),
        title_justify="left",
        box=None,
        show_header=False,
        pad_edge=False,
    )
    actions.add_column("rank", justify="right", no_wrap=True)
    actions.add_column("what")
    return actions


def device_table(title: str) -> Table:
    """A table of devices, one a row, as the full report and the cut summary show them: its
    frame and its first columns. An address never wraps (split in two it reads as two hosts);
    a maker wraps between words."""
    table = Table(
        title=Text(title, style="bold"),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        collapse_padding=True,
        pad_edge=False,
    )
    table.add_column("address", no_wrap=True)
    table.add_column("maker", min_width=9)
    return table


def _exposure_cell(d: DeviceResult) -> str:
    """A count and the top instrument by id ("5: us-ndaa-889-a"): never a list that wraps."""
    hits = reaching(d)
    if not hits:
        return "-"
    return f"{len(hits)} {driving(d, hits).instrument}"


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
        parts: list[RenderableType] = heading(report)
        summary = Table(box=box.SIMPLE, show_header=False, pad_edge=False)
        summary.add_column("what")
        summary.add_column("n", justify="right")
        summary.add_row("devices", str(s.devices))
        summary.add_row("video devices", str(s.cameras))
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
        parts.extend(discovery_incomplete(info))
        if s.actions:
            # The rank, not the remediation priority, numbers the list: 1, 2, 3... and a long
            # line wraps under its text, not under its number.
            actions = actions_table()
            for action in s.actions:
                line = Text(action.headline, style="bold")
                line.append(f" ({one_line(action.makers_text)})")
                if action.because:
                    line.append(f", mainly {one_line(action.because)}")
                actions.add_row(f"{action.rank}.", line)
            parts += [actions, Text("")]

        if self.options.detail is Detail.SUMMARY:
            table = Table(
                title="Devices by action and maker", title_justify="left", box=box.SIMPLE_HEAD
            )
            table.add_column("action", no_wrap=True)
            table.add_column("maker")
            table.add_column("devices", justify="right", no_wrap=True)
            table.add_column("types")
            for act, makers in devices_by_action(report):
                for i, (m, ds) in enumerate(makers):
                    table.add_row(
                        _t((act.value if act else "none") if i == 0 else ""),
                        _t(m),
                        str(len(ds)),
                        _t(type_counts(ds)),
                    )
            parts.append(table)
        else:
            for act, makers in devices_by_action(report):
                devices = [d for _m, ds in makers for d in ds]
                parts.append(self._device_table(act, devices))
            if self.options.detail is Detail.FULL:
                parts += [Text("Evidence per device", style="bold")]
                for _act, makers in devices_by_action(report):
                    for _m, ds in makers:
                        parts.extend(self._evidence(d) for d in ds)

        rows = vulnerability_rows(report)
        if rows:
            table = Table(
                title=Text(
                    f"Known vulnerabilities: {s.known_exploited} device(s) run a firmware with a "
                    f"known-exploited flaw, {s.vulnerable} with any finding",
                    style="bold",
                ),
                title_justify="left",
                box=box.SIMPLE_HEAD,
            )
            for col in ("address", "cve", "status", "kev", "cvss", "fixed in", "why", "source"):
                # Addresses and CVE ids are never folded: a reader copies them.
                table.add_column(col, overflow="fold", no_wrap=col in ("address", "cve"))
            for d, v in rows:
                table.add_row(
                    _t(device_label(d)),
                    _t(v.cve, SEVERITY_STYLE[v.severity]),
                    _t(v.status.label),
                    _t(kev_text(v)),
                    _t(cvss_text(v)),
                    _t(v.fixed_version or "-"),
                    _t(v.reason + (f" (through {v.matched_through})" if v.matched_through else "")),
                    _t(f"{v.source} ({v.source_date or 'date unknown'})"),
                )
            parts.append(table)
        if report.incomplete and self.options.detail is Detail.SUMMARY:
            table = Table(title="Not fully probed", title_justify="left", box=box.SIMPLE_HEAD)
            table.add_column("probe", no_wrap=True)
            table.add_column("why")
            table.add_column("hosts", justify="right", no_wrap=True)
            for probe, reason, n in shortfall_counts(report):
                table.add_row(_t(probe), _t(reason_text(reason) or "failed"), str(n))
            parts.append(table)
        elif report.incomplete:
            table = Table(title="Not fully probed", title_justify="left", box=box.SIMPLE_HEAD)
            table.add_column("address", no_wrap=True)
            for col in ("probe", "reason", "detail"):
                table.add_column(col)
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

    @staticmethod
    def _evidence(d: DeviceResult) -> Table:
        """Each reply once (numbered, how it starts) and the fingerprints that matched it."""
        ident = d.identification
        title = Text(f"{d.host.address} ", style="bold")
        title.append(_t(f"{ident.manufacturer or 'maker unknown'} {ident.model or ''}".strip()))
        table = Table(
            title=title, title_justify="left", box=None, show_header=False, pad_edge=False
        )
        table.add_column("#", justify="right", no_wrap=True)
        table.add_column("reply", no_wrap=True)
        table.add_column("fingerprints")
        ev = evidence(d)
        for r in ev.replies:
            port = f":{r.observation.port}" if r.observation.port else ""
            table.add_row(
                f"{r.number}.",
                _t(f"{r.observation.kind.value}{port}"),
                _t(", ".join(r.fingerprints)),
            )
        if ev.unmatched:
            table.add_row("", _t(f"+{len(ev.unmatched)} other replies"), _t("no fingerprint"))
        if not ev.replies and not ev.unmatched:
            table.add_row("", _t("no reply recorded"), "")
        return table

    def _device_table(self, act: RemediationAction | None, devices: list[DeviceResult]) -> Table:
        title = f"{act.value.upper() if act else 'NO ACTION'} ({len(devices)})"
        narrow = self.options.width < 100
        # Severities and instrument ids never wrap either; only a model longer than 20
        # characters folds. Below 100 columns the brand joins the maker and the type and
        # confidence give way (the HTML and Markdown reports keep them).
        table = device_table(title)
        if not narrow:
            table.add_column("brand")
        table.add_column("model", max_width=20, overflow="fold")
        if not narrow:
            table.add_column("type", no_wrap=True)
        if not narrow:
            table.add_column("conf.", justify="right", no_wrap=True)
        table.add_column("sev.", no_wrap=True)
        table.add_column("exposures", no_wrap=True, overflow="ellipsis")
        for d in devices:
            ident = d.identification
            address = _t(f"{d.host.address}" + (f" {d.site}" if d.site else ""))
            if not d.complete:
                address.append("*", style="yellow")
            maker = _t(ident.manufacturer or "unknown", "" if ident.manufacturer else "dim")
            brand = _t(ident.brand)
            if ident.oem_relabel:
                brand.append(" (relabel)", style="magenta")
            if narrow and ident.brand and ident.brand != ident.manufacturer:
                maker.append(" / ")
                maker.append_text(brand)
            row = [address, maker] + ([] if narrow else [brand])
            row.append(_t(ident.model))
            if not narrow:
                row += [_t(ident.device_type.value), _t(f"{ident.confidence:.0%}")]
            row += [
                _t(d.max_severity.label, SEVERITY_STYLE[d.max_severity]),
                _t(_exposure_cell(d)),
            ]
            table.add_row(*row)
        if any(not d.complete for d in devices):
            table.caption = "* not fully probed"
            table.caption_justify = "left"
        return table
