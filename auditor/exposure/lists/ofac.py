"""OFAC legacy CSV files: SDN.CSV or CONS_PRIM.CSV, with ALT/ADD files beside them.

Format (OFAC data specification; no header row; ``-0-`` is an empty field; quoted strings;
the file may end with a 0x1A end-of-file byte):
  primary: ent_num, SDN_Name, SDN_Type, Program, Title, Call_Sign, Vess_type, Tonnage, GRT,
           Vess_flag, Vess_owner, Remarks
  ALT:     ent_num, alt_num, alt_type, alt_name, alt_remarks
  ADD:     ent_num, add_num, address, city/state/province/postal code, country, add_remarks
Several programs in one cell are written ``SDGT] [IFSR`` (the outer brackets stripped).
"""

from __future__ import annotations

import logging
from pathlib import Path

from auditor.errors import DataFileError
from auditor.exposure.lists.base import (
    NON_COMPANY_TYPES,
    ListEntry,
    ParsedList,
    csv_rows,
    file_date,
    read_text,
)

logger = logging.getLogger(__name__)

PRIMARY_FIELDS = 12
ALT_FIELDS = 5
ADD_FIELDS = 6
SDN_SOURCE = "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/SDN.CSV"
CONS_SOURCE = (
    "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports/CONS_PRIM.CSV"
)


def _value(cell: str) -> str:
    cell = cell.strip()
    return "" if cell == "-0-" else cell


def _rows(path: Path, width: int) -> list[tuple[int, list[str], str]]:
    text = read_text(path).rstrip("\x1a\r\n \t")
    out = []
    for line, fields, raw in csv_rows(path, text):
        if len(fields) != width:
            raise DataFileError(
                path,
                f"expected {width} fields, found {len(fields)} (truncated or not this list)",
                line,
            )
        if not fields[0].strip().isdigit():
            raise DataFileError(path, f"ent_num {fields[0]!r} is not a number", line)
        out.append((line, fields, raw))
    return out


def _companion(primary: Path, role: str) -> Path | None:
    """Find ALT.CSV / ADD.CSV (or CONS_ALT.CSV / CONS_ADD.CSV) next to the primary file."""
    prefix = "cons_" if primary.name.lower().startswith("cons") else ""
    wanted = f"{prefix}{role}.csv"
    for candidate in primary.parent.iterdir():
        if candidate.name.lower() == wanted:
            return candidate
    return None


def _programs(cell: str) -> str:
    return "; ".join(p.strip(" []") for p in _value(cell).split("] [") if p.strip(" []"))


def _parse(path: Path, kind: str) -> ParsedList:
    parsed = ParsedList(kind=kind, files=[path], published=file_date(path))
    primary = _rows(path, PRIMARY_FIELDS)
    parsed.rows_read = len(primary)
    by_ent: dict[str, tuple[int, list[str], str]] = {}
    for line, fields, raw in primary:
        ent = fields[0].strip()
        if ent in by_ent:
            raise DataFileError(path, f"ent_num {ent} appears twice", line)
        by_ent[ent] = (line, fields, raw)
    aliases: dict[str, list[str]] = {}
    extra_rows: dict[str, list[str]] = {}
    for role, width in (("alt", ALT_FIELDS), ("add", ADD_FIELDS)):
        other = _companion(path, role)
        if other is None:
            note = f"no {role.upper()}.CSV beside {path.name}: aliases or addresses missing"
            logger.warning(note)
            parsed.warnings.append(note)
            continue
        parsed.files.append(other)
        for line, fields, raw in _rows(other, width):
            ent = fields[0].strip()
            if ent not in by_ent:
                raise DataFileError(
                    other,
                    f"ent_num {ent} is not in {path.name} (files from different dates?)",
                    line,
                )
            extra_rows.setdefault(ent, []).append(raw)
            if role == "alt" and _value(fields[3]):
                aliases.setdefault(ent, []).append(_value(fields[3]))
    for ent, (line, fields, raw) in by_ent.items():
        if _value(fields[2]).lower() in NON_COMPANY_TYPES:
            continue
        programs = _programs(fields[3])
        if kind == "ofac-sdn":
            instrument = "us-ofac-sdn"
        elif "CMIC" in programs.upper():
            instrument = "us-ofac-ns-cmic"
        else:
            instrument = "us-ofac-non-sdn-other"
        parsed.entries.append(
            ListEntry(
                key=ent,
                instrument=instrument,
                name=_value(fields[1]),
                aliases=tuple(aliases.get(ent, ())),
                program=programs,
                source_url=SDN_SOURCE if kind == "ofac-sdn" else CONS_SOURCE,
                row="\n".join([raw, *extra_rows.get(ent, [])]),
                line=line,
            )
        )
    return parsed


def parse_sdn(path: Path) -> ParsedList:
    return _parse(path, "ofac-sdn")


def parse_consolidated(path: Path) -> ParsedList:
    return _parse(path, "ofac-cons")
