"""Argument types and option groups shared by several commands."""

from __future__ import annotations

import argparse
from pathlib import Path

from auditor.errors import StoreError
from auditor.exitcodes import ExitCode
from auditor.models import Audience, Severity
from auditor.ports import PortPlan
from auditor.render.interface import Detail, FormatName
from auditor.store import location as store_location


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0: {text!r}")
    return value


def port_plan(text: str) -> PortPlan:
    """``--ports 80,443,8000-8010,7443/https``: ports, optionally with the role each speaks."""
    try:
        return PortPlan.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_output_options(p: argparse.ArgumentParser, default_format: str | None = None) -> None:
    p.add_argument(
        "-f",
        "--format",
        dest="formats",
        action="append",
        choices=[f.value for f in FormatName],
        metavar="FORMAT",
        help="report format, repeatable: "
        + ", ".join(f.value for f in FormatName)
        + (f" (default: {default_format})" if default_format else ""),
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="PATH",
        help="where to write the report: a file, '-' for stdout, or with several formats a "
        "base path to which each format's suffix is added",
    )
    p.add_argument(
        "--template-dir",
        type=Path,
        metavar="DIR",
        help="a folder whose templates override the HTML/PDF report's (logo, wording)",
    )
    p.add_argument(
        "--detail",
        choices=[d.value for d in Detail],
        default=Detail.STANDARD.value,
        metavar="LEVEL",
        help="how much the report shows: summary (page one and the counts), standard (also "
        "each device and the evidence that identified it) or full (also every probe and raw "
        "reply; collapsible in HTML) (default: standard); JSON, CSV and CycloneDX always carry "
        "everything",
    )


def add_profile_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--profile",
        choices=[a.value for a in Audience],
        default=Audience.GENERIC.value,
        metavar="AUDIENCE",
        help="who the report is for; decides which instruments bind and their severity: "
        + ", ".join(a.value for a in Audience)
        + " (default: generic)",
    )


def add_gate_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--fail-on",
        choices=[s.label for s in Severity if s > Severity.NONE],
        default="high",
        metavar="LEVEL",
        help=f"exit {int(ExitCode.EXPOSURE_FOUND)} when an exposure or a known-vulnerability "
        "finding (diff: a new or worsened exposure) reaches this severity: "
        + ", ".join(s.label for s in Severity if s > Severity.NONE)
        + " (default: high; a known-exploited flaw on an affected firmware is high, critical "
        "for us-federal-agency)",
    )
    p.add_argument(
        "--exit-zero",
        action="store_true",
        help=f"exit {int(ExitCode.CLEAN)} whatever was found (errors still exit "
        f"{int(ExitCode.USAGE_ERROR)}, "
        f"internal errors {int(ExitCode.INTERNAL_ERROR)})",
    )


def db_location(text: str) -> Path | str:
    """A --db value: a path (SQLite) or a postgresql:// URL without a password."""
    try:
        return store_location.parse(text)
    except StoreError as exc:
        # ArgumentTypeError: argparse prints our message, never the raw value (a password).
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_db_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db",
        type=db_location,
        metavar="PATH|URL",
        help="the audit store: an SQLite file, or a PostgreSQL database as "
        "postgresql://USER@HOST/DB (the password from PGPASSWORD, ~/.pgpass or a service file, "
        "never in the URL); default: camaudit.db in the user's data folder, or $CAMAUDIT_DB",
    )
