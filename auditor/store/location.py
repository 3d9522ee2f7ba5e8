"""Where the store is: an SQLite file (a path) or a PostgreSQL database (a ``postgresql://`` URL).

A URL never carries a password: camaudit logs and prints where the store is, and a command line
is visible to every user of the machine (ps, shell history). libpq's own means supply it instead:
the PGPASSWORD variable, the ~/.pgpass file (PGPASSFILE) or a service file (PGSERVICE). Any URL
we show goes through :func:`redact` first, so a password given anyway is never echoed.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from auditor.errors import StoreError

URL_SCHEMES = ("postgresql://", "postgres://")

#: Query parameters that libpq treats as secrets (a password, or the key of a client certificate).
_SECRET_PARAMS = frozenset({"password", "sslpassword"})

_NO_PASSWORD_HINT = (
    "give the password through libpq instead: the PGPASSWORD environment variable, a "
    "~/.pgpass file (or PGPASSFILE), or a service in pg_service.conf (PGSERVICE or ?service=)"
)


def is_url(value: object) -> bool:
    return isinstance(value, str) and value.lower().startswith(URL_SCHEMES)


def redact(url: str) -> str:
    """The URL with any password (in the user part or the query) replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return re.sub(r"//[^@/]*@", "//***@", url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hosts = netloc.rpartition("@")
        if ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + ":***"
        netloc = f"{userinfo}@{hosts}"
    query = "&".join(
        f"{k}=***" if k.lower() in _SECRET_PARAMS else f"{k}={quote(v, safe='/:,')}"
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
    )
    out = f"{parts.scheme}://{netloc}{parts.path}"
    return f"{out}?{query}" if query else out


def check_url(url: str) -> str:
    """The URL, if it carries no password; a clear StoreError (with the URL redacted) otherwise."""
    try:
        parts = urlsplit(url)
        userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
        secret_params = [
            k for k, _ in parse_qsl(parts.query, keep_blank_values=True) if k in _SECRET_PARAMS
        ]
    except ValueError as exc:
        raise StoreError(f"{redact(url)} is not a valid PostgreSQL URL: {exc}") from None
    if ":" in userinfo or secret_params:
        raise StoreError(
            f"refusing a database URL with a password in it ({redact(url)}): a command line and "
            f"the logs are readable by others; {_NO_PASSWORD_HINT}"
        )
    return url


def parse(value: str | Path) -> Path | str:
    """A ``--db`` value: a checked URL (str) or a Path."""
    if isinstance(value, Path):
        return value
    if is_url(value):
        return check_url(value)
    return Path(value)


def describe(location: Path | str) -> str:
    """The location as it may be shown: a path, or the URL without any secret."""
    return redact(location) if isinstance(location, str) and is_url(location) else str(location)


def database_name(url: str) -> str:
    """The database a URL names (for messages), '' when libpq's default applies."""
    try:
        return unquote(urlsplit(url).path.lstrip("/"))
    except ValueError:
        return ""
