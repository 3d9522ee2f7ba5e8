"""The Markdown report: the summary and one table per section, for tickets and wikis."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from auditor.models import AuditReport
from auditor.render.interface import FormatName, ReportFormat
from auditor.render.safe import markdown as md
from auditor.render.view import devices_by_severity, notices, reaching, shortfalls, summarise
from auditor.render.wording import DISCLAIMER, reason_text, status_text


def _table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(md("" if c is None else c) for c in r) + " |" for r in rows]
    return lines + [""]


def _notices(report: AuditReport) -> list[str]:
    lines = []
    for n in notices(report):
        text = md(n.text)
        if n.kind in ("stale", "not-applied"):
            text = f"**{text}**"
        elif n.kind == "legal":
            text = f"*{text}*"
        lines += [f"> {text}", ">"]
    return lines[:-1] + [""]


class MarkdownFormat(ReportFormat):
    name = FormatName.MARKDOWN
    suffix = "md"

    def render(self, report: AuditReport) -> bytes:
        info = report.audit
        s = summarise(report)
        out: list[str] = [
            f"# Camera supply-chain audit: {md(info.site)}",
            "",
            f"Audit {md(info.id)}, started {info.started.isoformat()}, "
            + (f"finished {info.finished.isoformat()}" if info.finished else "**interrupted**")
            + f"; assessed for **{md(info.profile.value)}**.",
            "",
            *_notices(report),
            "## Summary",
            "",
            f"- Devices: **{s.devices}** ({s.cameras} cameras and recorders)",
            f"- Exposed to at least one instrument: **{s.exposed}**",
            f"- Maker unknown or manual review needed: **{s.review}**",
            f"- OEM relabels: **{s.relabels}**",
            f"- Incomplete (could not be fully probed): **{s.incomplete}**",
            f"- Unconfirmed (seen only in discovery replies, never answered): **{s.unconfirmed}**",
            "",
        ]
        out += _table(["Severity", "Devices"], ((sev.label, n) for sev, n in s.by_severity))
        if s.actions:
            out += ["### Top actions", ""]
            for a in s.actions:
                out.append(
                    f"1. **{md(a.headline)}** ({md(', '.join(a.devices))}): " + md(" ".join(a.why))
                )
            out.append("")
        out += ["## Exposure by instrument", ""]
        out += _table(
            ["Instrument", "Jurisdiction", "Binds", "Devices", "Highest", "Effect", "Source"],
            (
                (
                    r.name,
                    r.jurisdiction,
                    r.binds,
                    r.devices,
                    r.max_severity.label,
                    " / ".join(r.effects),
                    r.source,
                )
                for r in s.by_instrument
            ),
        )
        out += ["## Devices by manufacturer and brand", ""]
        out += _table(
            ["Manufacturer", "Brand", "Devices", "OEM relabel"],
            ((r.manufacturer, r.brand, r.devices, "yes" if r.relabel else "") for r in s.by_brand),
        )
        for sev, devices in devices_by_severity(report):
            out += [f"## Devices at severity {sev.label}", ""]
            out += _table(
                [
                    "Address",
                    "Manufacturer",
                    "Brand",
                    "Model",
                    "Type",
                    "Confidence",
                    "Exposures",
                    "Action",
                ],
                (
                    (
                        f"{d.host.address}" + (f" ({d.site})" if d.site else ""),
                        d.identification.manufacturer or "unknown",
                        d.identification.brand,
                        d.identification.model,
                        d.identification.device_type.value,
                        f"{d.identification.confidence:.0%}",
                        "; ".join(
                            f"{e.instrument_name}: {status_text(e.status)}" for e in reaching(d)
                        ),
                        d.remediation.action.value if d.remediation else "",
                    )
                    for d in devices
                ),
            )
        out += ["## Methodology and scope", ""]
        out += [
            f"- Targets: {md(', '.join(info.targets) or '-')}",
            f"- Excluded: {md(', '.join(info.excludes) or '-')}",
            f"- TCP ports: {md(', '.join(map(str, info.ports)) or '-')}",
            f"- Probes: {md(', '.join(info.probes) or '-')}",
            "",
        ]
        if report.incomplete:
            out += ["### Hosts that could not be fully probed", ""]
            out += _table(
                ["Address", "Probe", "Reason", "Detail"],
                (
                    (d.host.address, a.probe, reason_text(a.reason), a.detail)
                    for d in report.incomplete
                    for a in shortfalls(d)
                ),
            )
        if report.out_of_scope:
            out += ["### Out-of-scope references (recorded, not contacted)", ""]
            out += _table(
                ["Address", "Referred to by", "Via"],
                ((r.address, r.referrer, r.via) for r in report.out_of_scope),
            )
        if report.notes:
            out += ["### Notes", ""] + [f"- {md(n)}" for n in report.notes] + [""]
        out += ["## Data versions", ""]
        out += _table(
            ["Data", "Version", "As of", "Source"],
            (
                (v.name, v.version, v.as_of.isoformat() if v.as_of else "", v.source)
                for v in info.data_versions
            ),
        )
        out += [
            f"Evidence set SHA-256: `{report.evidence_sha256}` ({s.observations} observations).",
            "",
            f"*{DISCLAIMER}*",
            "",
        ]
        return "\n".join(out).encode("utf-8", "replace")
