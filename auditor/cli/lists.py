"""`camaudit lists import|status`: official sanctions and screening lists, imported offline."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.table import Table

from auditor import clock, resources
from auditor.cli.common import add_db_option
from auditor.cli.console import clean, make_console
from auditor.errors import UsageError
from auditor.exitcodes import ExitCode
from auditor.exposure import Assessor
from auditor.exposure.lists import LIST_FORMATS
from auditor.exposure.liststore import current_imports, import_list
from auditor.store.paths import default_db

#: The --kind choices: the importer registry's, in its order (a new importer is one entry there).
LIST_KINDS = tuple(LIST_FORMATS)


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


def _db(args: argparse.Namespace) -> Path | str:
    where: Path | str = args.db if args.db is not None else default_db()
    return where


def run_import(args: argparse.Namespace) -> ExitCode:
    path: Path = args.file
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    record = import_list(_db(args), path, args.kind)
    out = make_console(stderr=False)
    out.print(
        f"imported {clean(record.file_name)} as {record.kind}: {record.entries} entries "
        f"(companies and organisations) of {record.rows_read} rows, sha256 {record.sha256[:16]}, "
        f"dated {record.published or 'unknown'}",
        soft_wrap=True,
    )
    licence = LIST_FORMATS[args.kind].licence
    if licence:
        out.print(f"[yellow]licence:[/] {licence}", soft_wrap=True)
    return ExitCode.CLEAN


def run_status(args: argparse.Namespace) -> ExitCode:
    db = _db(args)
    today = clock.today()
    assessor = Assessor.load(db, today=today)
    limit = assessor.data.max_age_days
    table = Table(title=f"Data used for exposure assessment ({clean(db)})")
    for column in ("data", "file / version", "sha256", "dated", "age (days)", "imported", "rows"):
        table.add_column(column)
    table.add_column("entries", justify="right")
    data = assessor.data
    age = (today - data.as_of).days
    table.add_row(
        "regulatory (reviewed)",
        data.version,
        "-",
        data.as_of.isoformat(),
        _age(age, limit),
        "shipped",
        "-",
        str(len(data.listings)),
    )
    for rec in current_imports(db):
        days = rec.age_days(today)
        table.add_row(
            rec.kind,
            clean(rec.file_name),
            rec.sha256[:16],
            rec.published.isoformat() if rec.published else "unknown",
            _age(days, limit),
            rec.imported_at.strftime("%Y-%m-%d %H:%M UTC"),
            str(rec.rows_read),
            str(rec.entries),
        )
    out = make_console(stderr=False)
    if not out.is_terminal:
        out.width = max(out.width, 150)  # a log or a pipe: do not fold the table into 80 columns
    out.print(table)
    for note in assessor.notes()[1:]:
        out.print(f"[yellow]note:[/] {clean(note)}", soft_wrap=True)
    if age > limit:
        out.print(
            f"[yellow]note:[/] update the reviewed data with `{resources.UPDATE_COMMAND}` "
            "(`camaudit data status` shows the bundle in use)",
            soft_wrap=True,
        )
    return ExitCode.CLEAN


def _age(days: int | None, limit: int) -> str:
    if days is None:
        return "[yellow]unknown[/]"
    return f"[bold red]{days} STALE[/]" if days > limit else str(days)
