"""The Markdown report's per-device sections: identification, action, exposures, each raw reply
once with the fingerprints that matched it, and the probes that fell short."""

from __future__ import annotations

from auditor.models import DeviceResult
from auditor.render.actions import advice
from auditor.render.evidence import Reply, evidence
from auditor.render.markdown_blocks import address_label, fenced, table
from auditor.render.safe import markdown as md
from auditor.render.safe import truncate
from auditor.render.verdicts import not_listed, reaching, shortfalls
from auditor.render.wording import first_line, reason_text, status_short, status_text, type_label

#: Raw replies longer than this are cut in the Markdown (the JSON report keeps them whole).
RAW_LIMIT = 2000


def device_section(d: DeviceResult, full: bool) -> list[str]:
    ident = d.identification
    title = f"### {md(address_label(d))}: {md(ident.manufacturer or 'maker unknown')}"
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
                out += reply_block(r, full=True)
        else:
            out += table(
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
            out += reply_block(r, full=True)
    elif ev.unmatched:
        out += [
            f"{len(ev.unmatched)} other repl{'y' if len(ev.unmatched) == 1 else 'ies'} "
            "recorded that no fingerprint matched.",
            "",
        ]
    probes = d.attempts if full else shortfalls(d)
    if probes:
        out += table(
            ["Probe", "Outcome", "Reason", "Detail"],
            (
                (a.probe, a.outcome.value.replace("_", " "), reason_text(a.reason), a.detail)
                for a in probes
            ),
        )
    return out


def reply_block(r: Reply, full: bool) -> list[str]:
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
    lines = [head, "", *fenced(text)]
    if cut:
        lines.append(
            f"(first {len(text)} of {len(o.value)} characters; the JSON report keeps it whole)"
        )
    return [*lines, ""]
