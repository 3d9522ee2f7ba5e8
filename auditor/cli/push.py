"""`camaudit push` (a site's audits to the central store) and `camaudit store init`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from auditor.cli.common import add_db_option
from auditor.cli.console import clean, make_console
from auditor.errors import ConfigError, StoreError, UsageError
from auditor.exitcodes import ExitCode
from auditor.store import location as loc
from auditor.store.paths import default_db

_URL_HELP = (
    "the central store, a postgresql:// URL without a password (libpq reads it from "
    "PGPASSWORD, ~/.pgpass or a service file)"
)


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "push",
        help="send this site's audits to the central PostgreSQL store",
        description="Send finished and interrupted audits from the local store to the central "
        "PostgreSQL store, one host per transaction. Pushing again stores nothing twice (a "
        "push that was cut off is finished by running it again); an audit is marked finished "
        "centrally once all its hosts are there.",
    )
    p.add_argument(
        "audits",
        nargs="*",
        metavar="AUDIT",
        help="audit id or a unique prefix of one (default: every audit in the local store)",
    )
    p.add_argument("--to", required=True, metavar="URL", help=_URL_HELP)
    add_db_option(p)
    p.set_defaults(func=run_push)

    s: argparse.ArgumentParser = sub.add_parser(
        "store", help="set up the central PostgreSQL store (administrators)"
    )
    ssub = s.add_subparsers(dest="store_command", metavar="COMMAND", required=True)
    init: argparse.ArgumentParser = ssub.add_parser(
        "init",
        help="create the central store's schema and print the roles' GRANTs",
        description="Create (or upgrade) the audit store's schema and the push functions in a "
        "PostgreSQL database, then print the statements that create a collector role (may only "
        "push audits of its site) and a reader role (may only read), for the administrator to "
        "review and run.",
    )
    init.add_argument("--db", required=True, metavar="URL", help=_URL_HELP)
    init.add_argument(
        "--collector-role",
        default="camaudit_collector",
        metavar="NAME",
        help="the group role that may only push (default: camaudit_collector)",
    )
    init.add_argument(
        "--reader-role",
        default="camaudit_reader",
        metavar="NAME",
        help="the group role that may only read (default: camaudit_reader)",
    )
    init.add_argument(
        "--site-login",
        default="site_berlin",
        metavar="NAME",
        help="the example per-site login role in the printed statements",
    )
    init.add_argument(
        "--site", default="Berlin", metavar="SITE", help="the example login's site name"
    )
    init.set_defaults(func=run_store_init)


def _local_store(args: argparse.Namespace) -> Path:
    path = args.db or default_db()
    if not isinstance(path, Path):
        raise UsageError("push reads this site's local SQLite store: give --db a file, not a URL")
    if not path.exists():
        raise ConfigError(
            f"no audit store at {path}; run `camaudit scan` first, or point --db at one"
        )
    return path


def _central_url(text: str) -> str:
    if not loc.is_url(text):
        raise UsageError(f"the central store must be a postgresql:// URL, not {text!r}")
    return text


def run_push(args: argparse.Namespace) -> ExitCode:
    # The PostgreSQL client loads only for the commands that talk to a central store: every
    # other command (a scan among them) would pay about 0.1 s of start-up for it.
    import psycopg

    from auditor.store.central import connect
    from auditor.store.push import push

    to = _central_url(args.to)
    local = _local_store(args)
    err = make_console()
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
    tasks: dict[str, TaskID] = {}

    def on_host(audit_id: str, done: int, total: int) -> None:
        if audit_id not in tasks:
            tasks[audit_id] = bar.add_task(f"pushing {clean(audit_id)}", total=total)
        bar.update(tasks[audit_id], completed=done)

    with connect(to, application_name="camaudit push") as central, bar:
        try:
            for pushed in push(local, central, args.audits, on_host):
                state = "finished" if pushed.finished else "interrupted (push again once resumed)"
                err.print(
                    f"camaudit: pushed audit {clean(pushed.audit_id)} (site "
                    f"{clean(pushed.site)}): {pushed.hosts} hosts, {pushed.sent} new to the "
                    f"central store; {state}",
                    soft_wrap=True,
                )
        except psycopg.Error as exc:
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise StoreError(
                f"push stopped: {text}. Every host sent before this is kept centrally, none "
                "half-way; run the same push again to send the rest"
            ) from None
    return ExitCode.CLEAN


def run_store_init(args: argparse.Namespace) -> ExitCode:
    from auditor.store.central import check_role_name, connect, grant_statements, install

    try:
        for name in (args.collector_role, args.reader_role, args.site_login):
            check_role_name(name)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    _central_url(args.db)
    from auditor.store import Store

    # The schema and its migrations are the store's own, the same as SQLite's.
    Store(args.db).close()
    with connect(args.db, application_name="camaudit store init") as conn:
        install(conn)
        row = conn.execute("SELECT current_schema(), current_database()").fetchone()
    assert row is not None
    schema, database = str(row[0]), str(row[1])
    make_console().print(
        f"camaudit: the central store's schema is ready in database {clean(database)}, schema "
        f"{clean(schema)}. Review and run these statements as its owner:",
        soft_wrap=True,
    )
    print(
        grant_statements(
            schema,
            database,
            collector=args.collector_role,
            reader=args.reader_role,
            example_login=args.site_login,
            example_site=args.site,
        ),
        end="",
    )
    return ExitCode.CLEAN
