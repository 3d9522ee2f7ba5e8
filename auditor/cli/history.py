"""`camaudit audits`, `report` and `diff`: work with audits kept in the store."""

from __future__ import annotations

import argparse
from typing import Any

from auditor.cli.common import add_db_option, add_output_options, add_profile_option
from auditor.errors import NotBuiltError
from auditor.exitcodes import ExitCode


def register(sub: Any) -> None:
    a: argparse.ArgumentParser = sub.add_parser("audits", help="list the audits in the store")
    add_db_option(a)
    a.set_defaults(func=run_audits)

    r: argparse.ArgumentParser = sub.add_parser(
        "report",
        help="render a stored audit again, in any format, without rescanning",
    )
    r.add_argument("audit", nargs="?", metavar="AUDIT", help="audit id (default: the latest)")
    add_output_options(r, default_format="console")
    add_profile_option(r)
    add_db_option(r)
    r.set_defaults(func=run_report)

    d: argparse.ArgumentParser = sub.add_parser(
        "diff", help="new, gone and changed devices and exposures between two audits"
    )
    d.add_argument("old", metavar="A")
    d.add_argument("new", metavar="B")
    add_db_option(d)
    d.set_defaults(func=run_diff)


def run_audits(args: argparse.Namespace) -> ExitCode:
    raise NotBuiltError("`camaudit audits` is not built yet (issue: audit store)")


def run_report(args: argparse.Namespace) -> ExitCode:
    raise NotBuiltError("`camaudit report` is not built yet (issue: audit store and reports)")


def run_diff(args: argparse.Namespace) -> ExitCode:
    raise NotBuiltError("`camaudit diff` is not built yet (issue: audit store)")
