"""OpenSanctions exports: ``targets.simple.csv`` and FollowTheMoney line-JSON (entities.ftm.json).

targets.simple.csv header: id, schema, name, aliases, birth_date, countries, addresses,
identifiers, sanctions, phones, emails, dataset, first_seen, last_seen, last_change; multi-value
cells are ``;``-joined with CSV quoting inside. ``dataset`` holds dataset titles.
FtM JSON: one object per line, {id, schema, properties: {name: [...], alias: [...], ...},
datasets: [...], referents, target, first_seen, last_seen, last_change}; Sanction objects point
at their entity through properties.entity.
OpenSanctions data is CC BY-NC 4.0; commercial use needs their licence.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from typing import Any

from auditor.errors import DataFileError
from auditor.exposure.lists.base import (
    MAX_ROW_CHARS,
    ListEntry,
    ParsedList,
    csv_rows,
    file_date,
    read_text,
)

SIMPLE_REQUIRED = ("id", "schema", "name", "aliases", "sanctions", "dataset")
COMPANY_SCHEMATA = frozenset({"Company", "Organization", "LegalEntity", "PublicBody"})
OS_SOURCE = "https://www.opensanctions.org/entities/"

# Dataset keys (FtM) and words in dataset titles / sanction text (simple CSV) -> instrument.
DATASET_KEYS = {
    "us_ofac_sdn": "us-ofac-sdn",
    "us_fcc_covered_list": "us-fcc-covered-list",
    "us_dod_chinese_milcorps": "us-dod-1260h",
    "us_special_leg": "us-ndaa-889-a",
    "us_bis_entity": "us-bis-entity-list",
}
TITLE_WORDS = (
    ("specially designated nationals", "us-ofac-sdn"),
    ("chinese military-industrial", "us-ofac-ns-cmic"),
    ("ns-cmic", "us-ofac-ns-cmic"),
    ("entity list", "us-bis-entity-list"),
    ("fcc covered", "us-fcc-covered-list"),
    ("1260h", "us-dod-1260h"),
    ("chinese military compan", "us-dod-1260h"),
    ("section 889", "us-ndaa-889-a"),
)


def _multi(value: str) -> list[str]:
    if not value:
        return []
    return [v.strip() for v in next(csv.reader([value], delimiter=";")) if v.strip()]


def _from_text(text: str) -> set[str]:
    lowered = text.lower()
    return {instrument for word, instrument in TITLE_WORDS if word in lowered}


def _latest(*values: str) -> date | None:
    dates = []
    for value in values:
        try:
            dates.append(date.fromisoformat(value[:10]))
        except ValueError:
            continue
    return max(dates, default=None)


def parse_simple_csv(path: Path) -> ParsedList:
    parsed = ParsedList(kind="opensanctions-csv", files=[path])
    header: list[str] | None = None
    newest: date | None = None
    for line, fields, raw in csv_rows(path, read_text(path)):
        if header is None:
            header = fields
            missing = [c for c in SIMPLE_REQUIRED if c not in header]
            if missing:
                raise DataFileError(path, f"not targets.simple.csv: no {', '.join(missing)}", line)
            continue
        if len(fields) != len(header):
            raise DataFileError(
                path, f"expected {len(header)} fields, found {len(fields)} (truncated?)", line
            )
        parsed.rows_read += 1
        row = dict(zip(header, fields, strict=True))
        seen = _latest(row.get("last_change", ""), row.get("last_seen", ""))
        newest = max(filter(None, (newest, seen)), default=None)
        if row["schema"] not in COMPANY_SCHEMATA:
            continue
        instruments = _from_text(row["dataset"] + " " + row["sanctions"]) or {"opensanctions-other"}
        for instrument in sorted(instruments):
            parsed.entries.append(
                ListEntry(
                    key=row["id"],
                    instrument=instrument,
                    name=row["name"],
                    aliases=tuple(_multi(row["aliases"])),
                    program="; ".join(_multi(row["sanctions"]) or _multi(row["dataset"])),
                    since=row.get("first_seen") or None,
                    source_url=OS_SOURCE + row["id"],
                    row=raw[:MAX_ROW_CHARS],
                    line=line,
                )
            )
    if header is None:
        raise DataFileError(path, "no header row")
    parsed.published = newest or file_date(path)
    return parsed


def _strings(props: dict[str, Any], key: str) -> list[str]:
    values = props.get(key) or []
    return [str(v) for v in values] if isinstance(values, list) else [str(values)]


def parse_ftm_json(path: Path) -> ParsedList:
    parsed = ParsedList(kind="ftm-json", files=[path])
    companies: list[tuple[int, dict[str, Any], str]] = []
    sanction_text: dict[str, list[str]] = {}
    newest: date | None = None
    for number, text in enumerate(read_text(path).splitlines(), start=1):
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataFileError(
                path, f"not valid JSON ({exc.msg}); truncated file?", number
            ) from None
        if not isinstance(obj, dict) or not obj.get("id") or not obj.get("schema"):
            raise DataFileError(path, "not a FollowTheMoney entity (no id or schema)", number)
        props = obj.get("properties") or {}
        if not isinstance(props, dict):
            raise DataFileError(path, "properties is not an object", number)
        parsed.rows_read += 1
        seen = _latest(str(obj.get("last_change") or ""), str(obj.get("last_seen") or ""))
        newest = max(filter(None, (newest, seen)), default=None)
        if obj["schema"] == "Sanction":
            terms = _strings(props, "program") + _strings(props, "authority")
            for target in _strings(props, "entity"):
                sanction_text.setdefault(target, []).extend(terms)
        elif obj["schema"] in COMPANY_SCHEMATA:
            companies.append((number, obj, text))
    for number, obj, text in companies:
        props = obj["properties"]
        names = _strings(props, "name")
        if not names:
            raise DataFileError(path, "a company without a name", number)
        words = " ".join(sanction_text.get(obj["id"], []))
        instruments = {DATASET_KEYS[d] for d in obj.get("datasets") or [] if d in DATASET_KEYS}
        instruments |= _from_text(words)
        for instrument in sorted(instruments or {"opensanctions-other"}):
            parsed.entries.append(
                ListEntry(
                    key=str(obj["id"]),
                    instrument=instrument,
                    name=names[0],
                    aliases=tuple(
                        names[1:] + _strings(props, "alias") + _strings(props, "previousName")
                    ),
                    program=words or "; ".join(obj.get("datasets") or []),
                    since=str(obj.get("first_seen") or "") or None,
                    source_url=OS_SOURCE + str(obj["id"]),
                    row=text[:MAX_ROW_CHARS],
                    line=number,
                )
            )
    parsed.published = newest or file_date(path)
    return parsed
