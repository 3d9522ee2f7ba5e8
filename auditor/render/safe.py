"""Neutralising device-supplied strings for each output medium.

Everything a device sends (banners, titles, realms, model names) is untrusted: it may carry
terminal escapes, bidi overrides, markup or spreadsheet formulas. HTML escaping is Jinja2's
autoescape; the rest is here.
"""

from __future__ import annotations

import re

# C0/C1 controls except tab and newline, DEL, and the bidi embedding/override/isolate characters
# that can make a line read differently from what it holds.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CONTROL_AND_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Inline markup only: cells and list items never start a block, so "-", "#" and "." are inert.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def clean(text: object) -> str:
    """Replace control characters with U+FFFD, keeping tabs and newlines."""
    return _CONTROL.sub("\N{REPLACEMENT CHARACTER}", str(text))


def one_line(text: object) -> str:
    """Like clean(), and newlines and tabs too: for table cells and headings."""
    return _CONTROL_AND_BREAKS.sub("\N{REPLACEMENT CHARACTER}", str(text))


def csv_cell(value: object) -> str:
    """A spreadsheet-safe cell: a leading formula character is neutralised with a quote (OWASP)."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def markdown(text: object) -> str:
    """Markdown-inert text: one line, markup characters escaped, HTML tags shown as text."""
    line = one_line(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_SPECIAL.sub(r"\\\1", line)


def truncate(text: str, limit: int) -> tuple[str, bool]:
    if len(text) <= limit:
        return text, False
    return text[:limit], True
