"""`camaudit identify`: offline identification of observations read as JSON Lines."""

from __future__ import annotations

import argparse
from typing import Any

from auditor.errors import NotBuiltError
from auditor.exitcodes import ExitCode


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "identify",
        help="identify devices from observations (JSON Lines on stdin)",
        description='Read JSON Lines on stdin: one observation {"kind": K, "value": S} or a '
        'record {"observations": [...]} per line; write one identification per line to stdout.',
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> ExitCode:
    raise NotBuiltError("`camaudit identify` is not built yet (issue: fingerprint database)")
