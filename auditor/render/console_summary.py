"""The console summary of a large audit: counts from the store and a cut list of its worst devices.

A console table of 50,000 devices is read by no one and costs a full report in memory (issue
16); this summary carries the same title, notices and counts as the console report
(auditor.render.console_format), then at most N devices, worst first, and says plainly that the
list is cut and which command writes every device.
"""

from __future__ import annotations

import io
import os
import shutil
import sys

from rich import box
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from auditor.models import AuditReport
from auditor.render.console_format import (
    SEVERITY_STYLE,
    actions_table,
    device_table,
    discovery_incomplete,
    heading,
)
from auditor.render.interface import RenderOptions
from auditor.render.safe import one_line
from auditor.store.summary import CutSummary, DeviceLine


def _t(value: object, style: str = "") -> Text:
    return Text("" if value is None else one_line(value), style=style)


def write_cut_summary(summary: CutSummary, report_options: str = "") -> None:
    """Print the summary on stdout, as auditor.render.output writes the console report."""
    to_terminal = sys.stdout.isatty()
    options = RenderOptions(
        color=to_terminal and not os.environ.get("NO_COLOR"),
        width=shutil.get_terminal_size((120, 40)).columns if to_terminal else 120,
    )
    sys.stdout.buffer.write(render_cut_summary(summary, options, report_options))
    sys.stdout.flush()


def render_cut_summary(
    summary: CutSummary, options: RenderOptions, report_options: str = ""
) -> bytes:
    """The summary as the console report prints it; ``report_options`` go into the `camaudit
    report` command it names (e.g. the --db the scan was given)."""
    buf = io.StringIO()
    console = Console(
        file=buf,
        width=options.width,
        force_terminal=options.color,
        color_system="standard" if options.color else None,
        no_color=not options.color,
        highlight=False,
        emoji=False,
        markup=False,
    )
    for part in _parts(summary, report_options):
        console.print(part)
    return buf.getvalue().encode("utf-8", "replace")


def _parts(summary: CutSummary, report_options: str) -> list[RenderableType]:
    c = summary.counts
    info = c.audit
    # The heading reads only the audit's record and notes: a report without devices gives it.
    parts: list[RenderableType] = heading(AuditReport(audit=info, notes=c.notes))
    table = Table(box=box.SIMPLE, show_header=False, pad_edge=False)
    table.add_column("what")
    table.add_column("n", justify="right")
    table.add_row("devices", f"{c.devices}")
    table.add_row("video devices", f"{c.video}")
    table.add_row(Text("exposed", style="bold"), Text(f"{c.exposed}", style="bold"))
    table.add_row("maker unknown / review", f"{c.review}")
    table.add_row("OEM relabels", f"{c.relabels}")
    table.add_row("incomplete hosts", f"{c.incomplete}")
    for sev, n in c.by_severity:
        if n:
            table.add_row(Text(f"  {sev.label}", style=SEVERITY_STYLE[sev]), f"{n}")
    parts.append(table)
    # The full console counts unconfirmed hosts device by device; here the audit's own note
    # says how many there were (the engine writes it when the audit finishes).
    parts.extend(Text(one_line(n), style="yellow") for n in c.notes if n.startswith("Unconfirmed:"))
    parts.extend(discovery_incomplete(info))
    if c.actions:
        actions = actions_table()
        for a in c.actions:
            noun = "device" if a.devices == 1 else "devices"
            # The verbs of auditor.render.actions: the action's own name, capitalised.
            line = Text(f"{a.action.value.capitalize()} {a.devices} {noun}", style="bold")
            line.append(f" ({one_line(', '.join(f'{m} {n}' for m, n in a.makers))})")
            actions.add_row(f"{a.rank}.", line)
        parts += [actions, Text("")]
    if c.vulnerable:
        parts.append(
            Text(
                f"Known vulnerabilities: {c.known_exploited} device(s) run a firmware with a "
                f"known-exploited flaw, {c.vulnerable} with any finding",
                style="bold",
            )
        )
    shown = len(summary.worst)
    parts.append(_device_table(summary.worst, shown, c.devices))
    parts.append(
        Text(
            f"The list is cut: {shown} of {c.devices} devices shown, the most severe first. "
            f"Every device, with its evidence and actions: camaudit report {info.id}"
            f"{report_options} -f html -o FILE (or -f json, csv, markdown, pdf).",
            style="bold",
        )
    )
    if c.out_of_scope:
        parts.append(
            Text(
                f"{c.out_of_scope} out-of-scope address(es) referenced by devices were recorded "
                "and not contacted.",
                style="dim",
            )
        )
    parts.append(Text(f"Evidence SHA-256 {c.evidence_sha256}", style="dim"))
    return parts


def _device_table(lines: tuple[DeviceLine, ...], shown: int, total: int) -> Table:
    table = device_table(f"Most severe devices ({shown} of {total})")
    table.add_column("brand")
    table.add_column("model", max_width=20, overflow="fold")
    table.add_column("type", no_wrap=True)
    table.add_column("sev.", no_wrap=True)
    table.add_column("exposures", no_wrap=True, overflow="ellipsis")
    for d in lines:
        address = _t(d.address + (f" {d.site}" if d.site else ""))
        if not d.complete:
            address.append("*", style="yellow")
        brand = _t(d.brand)
        if d.oem_relabel:
            brand.append(" (relabel)", style="magenta")
        table.add_row(
            address,
            _t(d.manufacturer or "unknown", "" if d.manufacturer else "dim"),
            brand,
            _t(d.model),
            _t(d.device_type.value),
            _t(d.max_severity.label, SEVERITY_STYLE[d.max_severity]),
            _t(f"{d.attention} {d.top_instrument}" if d.top_instrument else "-"),
        )
    if any(not d.complete for d in lines):
        table.caption = "* not fully probed"
        table.caption_justify = "left"
    return table
