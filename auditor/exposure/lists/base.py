"""What every list importer produces: entries in one shape, whatever the official format."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from auditor.errors import DataFileError

#: A single row kept verbatim is capped: a report quotes it, it never needs megabytes.
MAX_ROW_CHARS = 4000
#: Official lists are tens of MB; anything far larger is not the file the user meant.
MAX_FILE_BYTES = 2 * 1024**3

#: Entity kinds that cannot be a camera maker; importers skip them (they are still counted).
NON_COMPANY_TYPES = frozenset({"individual", "person", "vessel", "aircraft", "airplane"})


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One listed party: enough to match it and to quote it in a report."""

    key: str
    """The list's own id for the party (OFAC ent_num, CSL _id, OpenSanctions id)."""
    instrument: str
    name: str
    aliases: tuple[str, ...] = ()
    program: str = ""
    since: str | None = None
    source_url: str = ""
    row: str = ""
    """The source row (or JSON object) as it appeared in the file, capped at MAX_ROW_CHARS."""
    line: int = 0


@dataclass(slots=True)
class ParsedList:
    kind: str
    entries: list[ListEntry] = field(default_factory=list)
    rows_read: int = 0
    files: list[Path] = field(default_factory=list)
    published: date | None = None
    """The list's own date where the format carries one; else the file's modification date."""
    warnings: list[str] = field(default_factory=list)


Parser = Callable[[Path], ParsedList]


def read_text(path: Path) -> str:
    """Read a list file as text; OFAC's legacy files are not always UTF-8."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DataFileError(path, f"cannot read: {exc.strerror or exc}") from None
    if size > MAX_FILE_BYTES:
        raise DataFileError(path, f"{size} bytes is larger than any official list")
    data = path.read_bytes()
    if not data.strip():
        raise DataFileError(path, "the file is empty")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def csv_rows(path: Path, text: str, delimiter: str = ",") -> Iterator[tuple[int, list[str], str]]:
    """Yield (line number, fields, raw text) and turn a csv error into one naming the line."""
    stream = io.StringIO(text, newline="")
    reader = csv.reader(stream, delimiter=delimiter, strict=True)
    start = 1
    while True:
        position = stream.tell()
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise DataFileError(path, f"malformed CSV ({exc}); truncated file?", start) from None
        raw = text[position : stream.tell()].rstrip("\r\n")
        line, start = start, reader.line_num + 1
        if fields:
            yield line, fields, raw[:MAX_ROW_CHARS]


def file_date(path: Path) -> date:
    return date.fromtimestamp(path.stat().st_mtime)


def split_multi(value: str, sep: str = ";") -> tuple[str, ...]:
    """Split a multi-value cell ("a; b") and drop empties."""
    return tuple(part.strip() for part in value.split(sep) if part.strip())
