"""`camaudit fingerprints verify`: check the fingerprint database the way the test suite does."""

from __future__ import annotations

import argparse
from typing import Any

from auditor.errors import NotBuiltError
from auditor.exitcodes import ExitCode


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("fingerprints", help="work with fingerprint data")
    fsub = p.add_subparsers(dest="fingerprints_command", metavar="COMMAND", required=True)
    v: argparse.ArgumentParser = fsub.add_parser(
        "verify", help="check every fingerprint file: examples, captures, vendors, sources"
    )
    v.set_defaults(func=run_verify)


def run_verify(args: argparse.Namespace) -> ExitCode:
    raise NotBuiltError("`camaudit fingerprints verify` is not built yet (issue: fingerprints)")
