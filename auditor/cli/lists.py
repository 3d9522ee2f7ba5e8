"""`camaudit lists import|status`: official sanctions and screening lists, imported offline."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from auditor.cli.common import add_db_option
from auditor.errors import NotBuiltError
from auditor.exitcodes import ExitCode

LIST_KINDS = ("ofac-sdn", "ofac-cons", "csl-csv", "csl-json", "opensanctions-csv", "ftm-json")


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "lists", help="import official lists (OFAC, CSL, OpenSanctions) and show their status"
    )
    lsub = p.add_subparsers(dest="lists_command", metavar="COMMAND", required=True)
    imp: argparse.ArgumentParser = lsub.add_parser("import", help="import a downloaded list file")
    imp.add_argument("file", type=Path, metavar="FILE")
    imp.add_argument(
        "--kind",
        required=True,
        choices=LIST_KINDS,
        metavar="KIND",
        help="the file's format: " + ", ".join(LIST_KINDS),
    )
    add_db_option(imp)
    imp.set_defaults(func=run_import)
    st: argparse.ArgumentParser = lsub.add_parser("status", help="what is loaded, and how old")
    add_db_option(st)
    st.set_defaults(func=run_status)


def run_import(args: argparse.Namespace) -> ExitCode:
    raise NotBuiltError("`camaudit lists import` is not built yet (issue: exposure assessment)")


def run_status(args: argparse.Namespace) -> ExitCode:
    raise NotBuiltError("`camaudit lists status` is not built yet (issue: exposure assessment)")
