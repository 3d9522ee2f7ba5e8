"""Plain-text result tables: every figure next to its target, and PASS/MISS."""

from __future__ import annotations

from collections.abc import Sequence

Row = tuple[str, str, str, str, str, str]
HEADER: Row = ("measure", "camaudit", "nmap -sV", "nmap/camaudit", "target", "verdict")


def verdict(ok: bool | None) -> str:
    return "" if ok is None else ("PASS" if ok else "MISS")


def render(title: str, rows: Sequence[Sequence[str]], header: Sequence[str] = HEADER) -> str:
    cols = len(header)
    cells = [list(header)] + [list(r) + [""] * (cols - len(r)) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(cols)]
    line = "-+-".join("-" * w for w in widths)
    out = [title, "=" * len(title)]
    for n, r in enumerate(cells):
        out.append(" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
        if n == 0:
            out.append(line)
    return "\n".join(out)
