"""The organisation view (auditor.store.org) as console tables, JSON, Markdown or one HTML page.

Site names and makers come from collectors and devices: untrusted text. The console strips
control characters, Markdown escapes its syntax, and the HTML template autoescapes.
"""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from auditor.models import Severity
from auditor.render.safe import clean, markdown
from auditor.store.org import EXPOSED_AT, SEVERITIES, AuditPoint, OrgView

#: The formats the organisation view renders to.
ORG_FORMATS = ("console", "json", "markdown", "html")
#: The version of reports/schema/camaudit-organisation-1.schema.json this output follows; like the
#: device report's and the diff's, so a pipeline can check what it reads before it reads it.
ORG_SCHEMA_VERSION = "1.0"

BASIS = (
    "Counts are of the assessment stored with each audit (as assessed when it ran), computed "
    "in the database; `camaudit report AUDIT` re-assesses one audit with today's lists and data."
)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _count(view: OrgView) -> str:
    return f"{_plural(len(view.sites), 'site')}, {_plural(view.audits, 'audit')}"


def _when(moment: datetime | None) -> str:
    return "interrupted" if moment is None else f"{moment:%Y-%m-%d %H:%M}"


def _mixed_profiles(view: OrgView) -> str | None:
    profiles = sorted({p.profile.value for s in view.sites for p in s.trend})
    if len(profiles) < 2:
        return None
    return (
        "The audits were assessed for different audiences (" + ", ".join(profiles) + "): their "
        "severities do not compare across sites."
    )


def notes(view: OrgView) -> list[str]:
    out = [BASIS]
    mixed = _mixed_profiles(view)
    if mixed:
        out.append(mixed)
    if view.left_out:
        out.append("Left out: " + ", ".join(view.left_out) + " (the emulated demo site).")
    interrupted = [s.site for s in view.sites if s.latest.finished is None]
    if interrupted:
        out.append(
            "The latest audit of "
            + ", ".join(interrupted)
            + " is interrupted: its counts cover the hosts saved so far."
        )
    return out


# -- console -----------------------------------------------------------------------------------


def _trend_row(p: AuditPoint, label: str) -> list[Any]:
    return [
        Text(clean(label)),
        f"{p.started:%Y-%m-%d}",
        Text(clean(p.audit_id)),
        str(p.devices),
        str(p.video),
        str(p.relabels),
        *(str(p.count(s)) for s in SEVERITIES),
        str(p.exposed_devices),
        str(p.incomplete) if p.finished else Text(f"{p.incomplete} (interrupted)", style="yellow"),
    ]


def _columns(table: Table, first: str) -> None:
    table.add_column(first)
    table.add_column("date (UTC)")
    table.add_column("audit")
    for col in ("devices", "video", "relabels", *(s.label for s in SEVERITIES)):
        table.add_column(col, justify="right")
    table.add_column(f"exposed (>= {EXPOSED_AT.label})", justify="right")
    table.add_column("incomplete", justify="right")


def print_console(view: OrgView, out: Console) -> None:
    latest = Table(
        title=f"Organisation: {_count(view)} — each site's latest audit",
        title_justify="left",
        box=box.SIMPLE_HEAD,
    )
    _columns(latest, "site")
    for s in view.sites:
        latest.add_row(*_trend_row(s.latest, s.site))
    latest.add_row(
        Text("all sites", style="bold"),
        "",
        "",
        str(view.total("devices")),
        str(view.total("video")),
        str(view.total("relabels")),
        *(str(view.total_exposures(s)) for s in SEVERITIES),
        str(view.total("exposed_devices")),
        str(view.total("incomplete")),
    )
    out.print(latest)
    makers = Table(
        title="Makers across the latest audits", title_justify="left", box=box.SIMPLE_HEAD
    )
    for col in ("maker", "devices", "relabels", f"exposed (>= {EXPOSED_AT.label})"):
        makers.add_column(col, justify="left" if col == "maker" else "right")
    for m in view.makers:
        makers.add_row(
            Text(clean(m.manufacturer or "unknown (manual review)")),
            str(m.devices),
            str(m.relabels),
            str(m.exposed),
        )
    out.print(makers)
    trend = Table(title="Trend per site", title_justify="left", box=box.SIMPLE_HEAD)
    _columns(trend, "site")
    for s in view.sites:
        for i, p in enumerate(s.trend):
            trend.add_row(*_trend_row(p, s.site if i == 0 else ""))
    out.print(trend)
    for note in notes(view):
        out.print(Text(clean(note)), soft_wrap=True)


# -- JSON --------------------------------------------------------------------------------------


def _point(p: AuditPoint) -> dict[str, Any]:
    return {
        "audit": p.audit_id,
        "started": p.started.isoformat(),
        "finished": None if p.finished is None else p.finished.isoformat(),
        "profile": p.profile.value,
        "devices": p.devices,
        "video_devices": p.video,
        "relabels": p.relabels,
        "exposures": {s.label: n for s, n in p.exposures},
        "exposed_devices": p.exposed_devices,
        "incomplete": p.incomplete,
    }


def as_dict(view: OrgView) -> dict[str, Any]:
    return {
        "schema_version": ORG_SCHEMA_VERSION,
        "kind": "camaudit-organisation-view",
        "exposed_at": EXPOSED_AT.label,
        "sites": [
            {"site": s.site, "latest": _point(s.latest), "trend": [_point(p) for p in s.trend]}
            for s in view.sites
        ],
        "totals": {
            "sites": len(view.sites),
            "audits": view.audits,
            "devices": view.total("devices"),
            "video_devices": view.total("video"),
            "relabels": view.total("relabels"),
            "exposures": {s.label: view.total_exposures(s) for s in SEVERITIES},
            "exposed_devices": view.total("exposed_devices"),
            "incomplete": view.total("incomplete"),
        },
        "makers": [
            {
                "manufacturer": m.manufacturer,
                "devices": m.devices,
                "relabels": m.relabels,
                "exposed": m.exposed,
            }
            for m in view.makers
        ],
        "notes": notes(view),
    }


def render_json(view: OrgView) -> bytes:
    return (json.dumps(as_dict(view), indent=2, ensure_ascii=False) + "\n").encode("utf-8")


# -- Markdown ----------------------------------------------------------------------------------


def _md(text: object) -> str:
    return markdown(text)


def _md_row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def render_markdown(view: OrgView) -> bytes:
    head = [
        "site",
        "date (UTC)",
        "devices",
        "video",
        "relabels",
        *(s.label for s in SEVERITIES),
        f"exposed (>= {EXPOSED_AT.label})",
        "incomplete",
    ]

    def row(label: str, p: AuditPoint) -> str:
        return _md_row(
            [
                _md(label),
                f"{p.started:%Y-%m-%d}" + ("" if p.finished else " (interrupted)"),
                str(p.devices),
                str(p.video),
                str(p.relabels),
                *(str(p.count(s)) for s in SEVERITIES),
                str(p.exposed_devices),
                str(p.incomplete),
            ]
        )

    lines = [
        f"# Organisation: {_count(view)}",
        "",
        "## Each site's latest audit",
        "",
        _md_row(head),
        _md_row(["---"] * len(head)),
        *(row(s.site, s.latest) for s in view.sites),
        "",
        "## Makers across the latest audits",
        "",
        "| maker | devices | relabels | exposed |",
        "| --- | --- | --- | --- |",
        *(
            _md_row(
                [
                    _md(m.manufacturer or "unknown (manual review)"),
                    str(m.devices),
                    str(m.relabels),
                    str(m.exposed),
                ]
            )
            for m in view.makers
        ),
        "",
        "## Trend per site",
        "",
        _md_row(head),
        _md_row(["---"] * len(head)),
        *(row(s.site, p) for s in view.sites for p in s.trend),
        "",
        *(f"- {_md(n)}" for n in notes(view)),
        "",
    ]
    return "\n".join(lines).encode("utf-8")


# -- HTML --------------------------------------------------------------------------------------


def _spark(points: tuple[AuditPoint, ...], width: int = 160, height: int = 32) -> str:
    """An inline SVG polyline of exposed devices over the site's audits (numbers only)."""
    values = [p.exposed_devices for p in points]
    if len(values) < 2:
        return ""
    top = max(values) or 1
    step = width / (len(values) - 1)
    coords = " ".join(
        f"{i * step:.1f},{height - 2 - (v / top) * (height - 4):.1f}" for i, v in enumerate(values)
    )
    return (
        f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="exposed devices over time"><polyline fill="none" stroke="#b3261e" '
        f'stroke-width="2" points="{coords}"/></svg>'
    )


def render_html(view: OrgView, template_dir: Path | None = None) -> bytes:
    from markupsafe import Markup

    from auditor.render.html_format import environment

    env = environment(template_dir)  # --template-dir's brand.html, report.css, ...
    template = env.get_template("organisation.html")
    html = template.render(
        view=view,
        severities=SEVERITIES,
        exposed_at=EXPOSED_AT,
        notes=notes(view),
        spark=lambda pts: Markup(_spark(pts)),
        when=_when,
        count=_count(view),
        Severity=Severity,
    )
    return html.encode("utf-8")


def render(view: OrgView, fmt: str, template_dir: Path | None = None) -> bytes:
    if fmt == "json":
        return render_json(view)
    if fmt == "markdown":
        return render_markdown(view)
    if fmt == "html":
        return render_html(view, template_dir)
    console = Console(record=True, width=160, file=io.StringIO(), no_color=True)
    print_console(view, console)
    return console.export_text().encode("utf-8")
