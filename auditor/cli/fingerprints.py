"""`camaudit fingerprints verify`: check the fingerprint database the way the test suite does.

First every data file against its JSON Schema (``fingerprints/schema/``), all violations at once
with file, line and path; then the loaders and the verifier (examples, captures, vendors).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.table import Table

from auditor.cli.console import clean, make_console
from auditor.dataschema import check_folder
from auditor.errors import DataFileError
from auditor.exitcodes import ExitCode
from auditor.identify import load_data
from auditor.identify.verify import verify
from auditor.resources import fingerprints_dir


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("fingerprints", help="work with fingerprint data")
    fsub = p.add_subparsers(dest="fingerprints_command", metavar="COMMAND", required=True)
    v: argparse.ArgumentParser = fsub.add_parser(
        "verify",
        help="check every fingerprint file: schema, examples, captures, vendors, sources",
    )
    v.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="fingerprint folder to check (default: the shipped database)",
    )
    v.set_defaults(func=run_verify)


def run_verify(args: argparse.Namespace) -> ExitCode:
    console = make_console(stderr=False)
    root = args.dir if args.dir is not None else fingerprints_dir()
    if args.dir is not None and not args.dir.is_dir():
        console.print(f"[bold red]fingerprints:[/] {clean(str(args.dir))} is not a folder")
        return ExitCode.USAGE_ERROR
    violations = check_folder(root)
    for violation in violations:
        console.print(f"[red]schema:[/] {clean(str(violation))}", soft_wrap=True)
    if violations:
        console.print(
            f"[bold red]{len(violations)} schema violation(s)[/] "
            "(the schemas are in fingerprints/schema/)"
        )
        return ExitCode.USAGE_ERROR
    try:
        data = load_data(args.dir)
    except (DataFileError, FileNotFoundError) as exc:
        console.print(f"[bold red]fingerprints: schema error:[/] {clean(exc)}", soft_wrap=True)
        return ExitCode.USAGE_ERROR
    report = verify(data)
    table = Table(title="Fingerprint files")
    table.add_column("file")
    table.add_column("fingerprints", justify="right")
    table.add_column("examples", justify="right")
    for path in sorted(report.fingerprints_per_file):
        table.add_row(
            path, str(report.fingerprints_per_file[path]), str(report.examples_per_file[path])
        )
    console.print(table)
    vendors = Table(title="Examples per asserted manufacturer")
    vendors.add_column("manufacturer")
    vendors.add_column("examples", justify="right")
    for vendor, n in report.examples_per_vendor.most_common():
        vendors.add_row(vendor, str(n))
    console.print(vendors)
    console.print(
        f"{report.example_count} examples, "
        f"{sum(report.fingerprints_per_file.values())} fingerprints, "
        f"{len(data.oui.entries)} OUI prefixes (as of {data.oui.as_of}), "
        f"{len(data.brands.brands)} brands, "
        f"{len(data.vendors)} vendors, "
        f"{sum(1 + len(e.aliases) for e in data.aliases.entries)} reviewed maker names, "
        f"{len(data.aliases.placeholders)} placeholder patterns"
    )
    if data.oui.provenance:
        console.print(f"OUI registry: {clean(data.oui.provenance)}", soft_wrap=True)
    for problem in report.problems:
        console.print(f"[red]problem:[/] {clean(problem)}", soft_wrap=True)
    if report.problems:
        console.print(f"[bold red]{len(report.problems)} problem(s)[/]")
        return ExitCode.USAGE_ERROR
    console.print("[bold green]all checks passed[/]")
    return ExitCode.CLEAN
