"""Markdown building blocks shared by the report's page one and its device sections: escaped
tables, the notice quote, code fences no reply can close, and a device's address label."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from auditor.models import AuditReport, DeviceResult
from auditor.render.notices import notices
from auditor.render.safe import clean
from auditor.render.safe import markdown as md


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(md("" if c is None else c) for c in r) + " |" for r in rows]
    return lines + [""]


def notice_lines(report: AuditReport) -> list[str]:
    lines = []
    for n in notices(report):
        text = md(n.text)
        if n.kind in ("stale", "not-applied"):
            text = f"**{text}**"
        elif n.kind == "legal":
            text = f"*{text}*"
        lines += [f"> {text}", ">"]
    return lines[:-1] + [""]


def fenced(text: str) -> list[str]:
    """A code block no reply can close early: the fence is longer than any backtick run in it."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence, clean(text), fence]


def address_label(d: DeviceResult) -> str:
    return f"{d.host.address}" + (f" ({d.site})" if d.site else "")
