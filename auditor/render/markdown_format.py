"""The Markdown report, in layers: page one (audited, found, actions, certainty), devices by
action, then per device its evidence, each raw reply once. For tickets and wikis."""

from __future__ import annotations

from auditor.models import AuditReport
from auditor.render.actions import devices_by_action
from auditor.render.findings import cvss_text, kev_text, vulnerability_rows
from auditor.render.interface import Detail, FormatName, ReportFormat
from auditor.render.markdown_blocks import address_label, notice_lines, table
from auditor.render.markdown_devices import device_section
from auditor.render.safe import markdown as md
from auditor.render.verdicts import device_label, shortfalls, top_exposure, type_counts
from auditor.render.view import Summary, certainty, summarise
from auditor.render.wording import (
    DISCLAIMER,
    age_text,
    elapsed_text,
    first_sentence,
    reason_text,
    scope_text,
    type_label,
)


def _vulnerabilities(report: AuditReport, s: Summary) -> list[str]:
    rows = vulnerability_rows(report)
    if not rows:
        return []
    out = [
        "## Known vulnerabilities",
        "",
        f"- Devices with a known-vulnerability finding: **{s.vulnerable}**",
        f"- Devices running a firmware with a known-exploited flaw (CISA KEV): "
        f"**{s.known_exploited}**",
        "",
    ]
    out += table(
        [
            "Device",
            "CVE",
            "Status",
            "Severity",
            "KEV",
            "CVSS (as published)",
            "Fixed version",
            "Why",
            "Evidence",
            "Remediation",
            "Source (as of)",
        ],
        (
            (
                f"{device_label(d)} {d.identification.manufacturer or ''} "
                f"{d.identification.model or ''} fw {d.identification.firmware or 'unknown'}",
                v.cve,
                v.status.label,
                v.severity.label,
                kev_text(v),
                cvss_text(v),
                v.fixed_version or "-",
                v.reason,
                "; ".join(v.evidence),
                v.remediation,
                f"{v.source} ({v.source_date.isoformat() if v.source_date else 'date unknown'})",
            )
            for d, v in rows
        ),
    )
    return out


class MarkdownFormat(ReportFormat):
    name = FormatName.MARKDOWN
    suffix = "md"

    def render(self, report: AuditReport) -> bytes:
        detail = self.options.detail
        info = report.audit
        s = summarise(report)
        sure = certainty(report)
        at = info.started.date()
        out: list[str] = [
            f"# Camera supply-chain audit: {md(info.site)}",
            "",
            f"Audit {md(info.id)}, {detail.value} detail.",
            "",
            *notice_lines(report),
            "## What was audited",
            "",
            f"- When: {info.started:%Y-%m-%d %H:%M} UTC, "
            + (md(elapsed_text(info)) if info.finished else "**interrupted**"),
            f"- Scope: {md(scope_text(info))}",
            f"- Read for: **{md(info.profile.value)}**",
        ]
        for v in info.data_versions:
            line = f"- {md(v.name)}: {md(v.version)}"
            if v.as_of is not None:
                line += f", as of {v.as_of.isoformat()} ({age_text(v.as_of, at)} at the audit)"
            out.append(line)
        out += [
            "",
            "## What was found",
            "",
            f"- Devices: **{s.devices}** ({s.cameras} video devices)",
            f"- Exposed to at least one instrument: **{s.exposed}**",
            f"- OEM relabels: **{s.relabels}**",
            "- Makers: " + md(", ".join(f"{m} {n}" for m, n in s.by_manufacturer)),
            f"- Unconfirmed (seen only in discovery replies, never answered): **{s.unconfirmed}**",
            *(
                [
                    "- Running a firmware with a known-exploited flaw (CISA KEV): "
                    f"**{s.known_exploited}**"
                ]
                if s.vulnerable
                else []
            ),
            "",
        ]
        out += table(["Highest severity", "Devices"], ((v.label, n) for v, n in s.by_severity))
        out += ["## What to do first", ""]
        if s.actions:
            for a in s.actions:
                line = f"{a.rank}. **{md(a.headline)}** ({md(a.makers_text)})"
                if a.because:
                    line += f", mainly {md(a.because)}"
                out.append(line + (f": {md(a.advice)}." if a.advice else "."))
        else:
            out.append("No action is needed on the devices found.")
        out += [
            "",
            "## How sure we are",
            "",
            f"- Maker named with high confidence (80 % or more) for {sure.high} of {s.devices} "
            f"devices; medium {sure.medium}, low {sure.low}.",
            f"- No maker named: {sure.unknown_maker}; manual review needed: {s.review}.",
            f"- Not fully probed: {sure.incomplete}"
            + (
                f"; discovery channels failed: {sure.discovery_failures}"
                if sure.discovery_failures
                else ""
            )
            + ".",
            "",
            "## Exposure by instrument",
            "",
        ]
        full = detail is Detail.FULL
        out += table(
            ["Instrument", "Jurisdiction", "Devices", "Highest", "Effect", "Source"],
            (
                (
                    r.name,
                    r.jurisdiction,
                    r.devices,
                    r.max_severity.label,
                    " / ".join(r.effects) if full else first_sentence(r.effects[0]),
                    r.source,
                )
                for r in s.by_instrument
            ),
        )
        out += _vulnerabilities(report, s)
        out += ["## Devices by action", ""]
        groups = devices_by_action(report)
        if detail is Detail.SUMMARY:
            out += table(
                ["Action", "Manufacturer", "Devices", "Types"],
                (
                    (action.value if action else "none", m, len(ds), type_counts(ds))
                    for action, makers in groups
                    for m, ds in makers
                ),
            )
        else:
            for action, makers in groups:
                devices = [d for _m, ds in makers for d in ds]
                out += [
                    f"### {action.value.capitalize() if action else 'No action'} ({len(devices)})",
                    "",
                ]
                out += table(
                    [
                        "Address",
                        "Manufacturer",
                        "Brand",
                        "Model",
                        "Type",
                        "Confidence",
                        "Highest",
                        "Mainly",
                    ],
                    (
                        (
                            address_label(d),
                            d.identification.manufacturer or "unknown",
                            d.identification.brand,
                            d.identification.model,
                            type_label(d.identification.device_type),
                            f"{d.identification.confidence:.0%}",
                            d.max_severity.label,
                            top_exposure(d),
                        )
                        for d in devices
                    ),
                )
            out += ["## Evidence per device", ""]
            out += [
                "Each raw reply appears once, numbered; the fingerprints that matched it "
                "refer to it.",
                "",
            ]
            for _action, makers in groups:
                for _m, ds in makers:
                    for d in ds:
                        out += device_section(d, full)
        out += self._methodology(report, detail)
        out += ["## Data versions", ""]
        out += table(
            ["Data", "Version", "As of", "Age at the audit", "Source"],
            (
                (
                    v.name,
                    v.version,
                    v.as_of.isoformat() if v.as_of else "",
                    age_text(v.as_of, at) if v.as_of else "",
                    v.source,
                )
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

    @staticmethod
    def _methodology(report: AuditReport, detail: Detail) -> list[str]:
        info = report.audit
        out = ["## Methodology and scope", ""]
        out += [
            f"- Targets: {md(', '.join(info.targets) or '-')}",
            f"- Excluded: {md(', '.join(info.excludes) or '-')}",
            f"- TCP ports: {md(', '.join(map(str, info.ports)) or '-')}",
            f"- Probes: {md(', '.join(info.probes) or '-')}",
            "",
        ]
        if report.incomplete:
            out += ["### Hosts that could not be fully probed", ""]
            out += table(
                ["Address", "Probe", "Reason", "Detail"],
                (
                    (d.host.address, a.probe, reason_text(a.reason), a.detail)
                    for d in report.incomplete
                    for a in shortfalls(d)
                ),
            )
        if report.out_of_scope:
            out += ["### Out-of-scope references (recorded, not contacted)", ""]
            out += table(
                ["Address", "Referred to by", "Via"],
                ((r.address, r.referrer, r.via) for r in report.out_of_scope),
            )
        if report.notes:
            out += ["### Notes", ""] + [f"- {md(n)}" for n in report.notes] + [""]
        return out
