"""What both engines refuse, and how their errors are explained to the user."""

from __future__ import annotations

from auditor.errors import StoreError
from auditor.store.schema import CURRENT_VERSION


def explain(exc: BaseException) -> str:
    """An engine's error, with what the user can do about it."""
    message = str(exc)
    lowered = message.lower()
    if "disk is full" in lowered or "no space" in lowered:
        return f"{message} (free some disk space; every host saved so far is kept)"
    if "permission denied for" in lowered or "must be owner of" in lowered:
        # PostgreSQL's wording: a role without the privilege, not a file's permissions.
        return (
            f"{message} (the database role lacks this privilege: connect as the store's owner "
            "to create or migrate it; `camaudit store init` prints the GRANTs of each role)"
        )
    if "readonly" in lowered or "read-only" in lowered or "permission denied" in lowered:
        return f"{message} (the file or its folder is not writable; choose another with --db)"
    if "unable to open" in lowered:
        return f"{message} (check that the folder exists and is writable, or use --db)"
    if any(
        lost in lowered
        for lost in (
            "server closed the connection",
            "connection is closed",
            "terminating conn",
            "reconnecting failed",
        )
    ):
        return (
            f"{message} (the database server went away; every host saved so far is kept: "
            "`camaudit scan --resume` continues the audit once it is back)"
        )
    if "not a database" in lowered:
        return f"{message} (this file is not a camaudit store; choose another with --db)"
    return message


def check_tables(where: str, what: str, tables: set[str], version: object, read_only: bool) -> None:
    """Refuse a database that holds someone else's tables, or a schema we cannot use."""
    # `lists import` may have made the file before any scan: its list_* tables are ours.
    foreign = sorted(t for t in tables if not t.startswith("list_"))
    if foreign and "schema_version" not in tables:
        raise StoreError(
            f"{where} is {what} but not a camaudit store (it has tables "
            f"{', '.join(foreign[:5])}); point --db at an audit store"
        )
    if version is not None and int(str(version)) > CURRENT_VERSION:
        raise StoreError(
            f"audit store {where}: schema version {version} is newer than this "
            f"camaudit supports ({CURRENT_VERSION}); upgrade camaudit"
        )
    if read_only and (version is None or int(str(version)) < CURRENT_VERSION):
        raise StoreError(
            f"audit store {where}: schema version {version or 0} predates this camaudit "
            f"({CURRENT_VERSION}); run a camaudit command that writes to it (scan) to "
            "migrate it, or use the camaudit that wrote it"
        )
