"""Terminal output for the CLI: a rich console on stderr, safe rendering of device strings."""

from __future__ import annotations

import os
import re
import sys

from rich.console import Console

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def clean(text: object) -> str:
    """Strip control characters (terminal escapes, bidi overrides) from a device-supplied string."""
    return _CONTROL.sub("\N{REPLACEMENT CHARACTER}", str(text))


def make_console(*, stderr: bool = True) -> Console:
    """A console that honours NO_COLOR and only animates on a terminal."""
    no_color = bool(os.environ.get("NO_COLOR"))
    stream = sys.stderr if stderr else sys.stdout
    return Console(
        file=stream,
        no_color=no_color,
        highlight=False,
        soft_wrap=False,
        force_terminal=None if stream.isatty() else False,
    )


def report_written(target: str) -> str:
    """The one wording every command ends with when it wrote a report file (scan, demo, report)."""
    return f"camaudit: report written to {clean(target)}"
