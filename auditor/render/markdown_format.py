"""The Markdown report, in layers: page one (audited, found, actions, certainty), devices by
action, then per device its evidence, each raw reply once. For tickets and wikis."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from auditor.models import AuditReport, DeviceResult
from auditor.render.actions import advice, devices_by_action
from auditor.render.evidence import Reply, evidence
from auditor.render.findings import cvss_text, kev_text, vulnerability_rows
from auditor.render.interface import Detail, FormatName, ReportFormat
from auditor.render.notices import notices
from auditor.render.safe import clean, truncate
from auditor.render.safe import markdown as md
from auditor.render.verdicts import (
    device_label,
    not_listed,
    reaching,
    shortfalls,
    top_exposure,
    type_counts,
)
from auditor.render.view import Summary, certainty, summarise
from auditor.render.wording import (
    DISCLAIMER,
    age_text,
    elapsed_text,
    first_line,
    first_sentence,
    reason_text,
    scope_text,
    status_short,
    status_text,
    type_label,
)

#: Raw replies longer than this are cut in the Markdown (the JSON report keeps them whole).
RAW_LIMIT = 2000


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


def _fenced(text: str) -> list[str]:
    """A code block no reply can close early: the fence is longer than any backtick run in it."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence, clean(text), fence]


def _label(d: DeviceResult) -> str:
    return f"{d.host.address}" + (f" ({d.site})" if d.site else "")


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
    out += _table(
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
            *_notices(report),
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
        out += _table(["Highest severity", "Devices"], ((v.label, n) for v, n in s.by_severity))
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
        out += _table(
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
            out += _table(
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
                out += _table(
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
                            _label(d),
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
                        out += self._device(d, full)
        out += self._methodology(report, detail)
        out += ["## Data versions", ""]
        out += _table(
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
    def _device(d: DeviceResult, full: bool) -> list[str]:
        ident = d.identification
        title = f"### {md(_label(d))}: {md(ident.manufacturer or 'maker unknown')}"
        if ident.brand and ident.brand != ident.manufacturer:
            title += f" / {md(ident.brand)}"
        if ident.model:
            title += f" {md(ident.model)}"
        out = [
            title,
            "",
            f"{md(type_label(ident.device_type))}, confidence {ident.confidence:.0%}, highest "
            f"severity **{d.max_severity.label}**"
            + (", OEM relabel" if ident.oem_relabel else "")
            + ("" if d.complete else ", **incomplete**")
            + f". Firmware {md(ident.firmware or '-')}, serial {md(ident.serial or '-')}, "
            f"MAC {md(d.host.mac or '-')}.",
            "",
        ]
        if d.remediation:
            why = d.remediation.why if full else advice(d.remediation.why) + "."
            out += [
                f"**{md(d.remediation.action.value.capitalize())}** "
                f"(priority {d.remediation.priority}): {md(why)}",
                "",
            ]
        hits = reaching(d)
        if hits:
            top = hits[0].severity
            shown = hits if full else tuple(e for e in hits if e.severity is top)
            out.append(
                "Exposures: "
                + "; ".join(
                    f"{md(e.instrument_name)} ({e.severity.label}, "
                    + md(status_text(e.status) if full else status_short(e.status))
                    + ")"
                    for e in shown
                )
                + (
                    f"; and {len(hits) - len(shown)} at lower severities"
                    if len(shown) < len(hits)
                    else ""
                )
                + "."
            )
            out.append("")
        clear = not_listed(d)
        if clear and full:
            out += [
                "Not listed under: " + md("; ".join(e.instrument_name for e in clear)) + ".",
                "",
            ]
        ev = evidence(d)
        if ev.replies:
            if full:
                for r in ev.replies:
                    out += MarkdownFormat._reply(r, full=True)
            else:
                out += _table(
                    ["#", "Reply", "Starts with", "Fingerprints that matched it"],
                    (
                        (
                            r.number,
                            f"{r.observation.kind.value} {r.where}",
                            first_line(r.observation.value, 80),
                            ", ".join(r.fingerprints),
                        )
                        for r in ev.replies
                    ),
                )
        else:
            out += ["No fingerprint matched this device.", ""]
        if full:
            for r in ev.unmatched:
                out += MarkdownFormat._reply(r, full=True)
        elif ev.unmatched:
            out += [
                f"{len(ev.unmatched)} other repl{'y' if len(ev.unmatched) == 1 else 'ies'} "
                "recorded that no fingerprint matched.",
                "",
            ]
        probes = d.attempts if full else shortfalls(d)
        if probes:
            out += _table(
                ["Probe", "Outcome", "Reason", "Detail"],
                (
                    (a.probe, a.outcome.value.replace("_", " "), reason_text(a.reason), a.detail)
                    for a in probes
                ),
            )
        return out

    @staticmethod
    def _reply(r: Reply, full: bool) -> list[str]:
        o = r.observation
        head = f"**{r.number}. {md(o.kind.value)}** {md(r.where)}"
        head += ", sha256 " + ", ".join(f"`{x.sha256[:16]}`" for x in r.seen)
        if r.matches:
            head += ", matched by " + md(", ".join(r.fingerprints))
            if full:
                head += " asserting " + md(", ".join(f"{k}={v}" for k, v in r.asserts))
        else:
            head += ", matched by no fingerprint"
        text, cut = truncate(o.value, RAW_LIMIT)
        lines = [head, "", *_fenced(text)]
        if cut:
            lines.append(
                f"(first {len(text)} of {len(o.value)} characters; the JSON report keeps it whole)"
            )
        return [*lines, ""]

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
        return out
