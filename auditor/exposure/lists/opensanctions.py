"""OpenSanctions exports: ``targets.simple.csv`` and FollowTheMoney line-JSON (entities.ftm.json).

targets.simple.csv header: id, schema, name, aliases, birth_date, countries, addresses,
identifiers, sanctions, phones, emails, dataset, first_seen, last_seen, last_change; multi-value
cells are ``;``-joined with CSV quoting inside. ``dataset`` holds dataset titles.
FtM JSON: one object per line, {id, schema, properties: {name: [...], alias: [...], ...},
datasets: [...], referents, target, first_seen, last_seen, last_change}; Sanction objects point
at their entity through properties.entity.
OpenSanctions data is CC BY-NC 4.0; commercial use needs their licence (LICENCE, shown at import).
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
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
from auditor.exposure.lists.csl import instrument_for_source

SIMPLE_REQUIRED = ("id", "schema", "name", "aliases", "sanctions", "dataset")
COMPANY_SCHEMATA = frozenset({"Company", "Organization", "LegalEntity", "PublicBody"})
OS_SOURCE = "https://www.opensanctions.org/entities/"
OTHER = "opensanctions-other"

#: OpenSanctions' terms, shown at every import: the data is licensed CC BY-NC 4.0, free for
#: non-commercial users; businesses need a data licence (https://www.opensanctions.org/licensing/,
#: https://www.opensanctions.org/faq/23/targets).
LICENCE = (
    "OpenSanctions data is licensed under CC BY-NC 4.0 (Creative Commons Attribution-"
    "NonCommercial 4.0): free for non-commercial use with attribution; commercial use, including "
    "by businesses and the public sector, needs a data licence from OpenSanctions "
    "(https://www.opensanctions.org/licensing/)."
)

# Datasets whose every listing means one instrument (keys as in opensanctions/opensanctions
# datasets/us/*/*.yml: us_ofac_sdn, us_fcc_covered_list "US FCC Covered List",
# us_dod_chinese_milcorps "US DoD Chinese military companies"). Mixed datasets are read sanction
# by sanction instead: us_special_leg ("US Special Legislative Exclusions": sections 889, 1286,
# 5949, 154, 353...), us_trade_csl (each sanction's authority is the CSL source list) and
# us_ofac_cons (the program says which list). There is no OpenSanctions dataset for the BIS
# Entity List alone; it arrives through us_trade_csl.
DATASET_KEYS = {
    "us_ofac_sdn": "us-ofac-sdn",
    "us_fcc_covered_list": "us-fcc-covered-list",
    "us_dod_chinese_milcorps": "us-dod-1260h",
}
DATASET_TITLES = {
    "us ofac specially designated nationals (sdn) list": "us-ofac-sdn",
    "us fcc covered list": "us-fcc-covered-list",
    "us dod chinese military companies": "us-dod-1260h",
}
CSL_DATASET = "us_trade_csl"
CONS_DATASET = "us_ofac_cons"
CSL_TITLE = "us trade consolidated screening list"
#: Words in a sanction's program that name one instrument; anything else stays "other".
PROGRAM_WORDS = (
    ("section 889 of the john s. mccain", "us-ndaa-889-a"),
    ("us-mccain-889", "us-ndaa-889-a"),
    ("cmic", "us-ofac-ns-cmic"),
    ("chinese military-industrial complex", "us-ofac-ns-cmic"),
    ("1260h", "us-dod-1260h"),
)
_ISO_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")


def _multi(value: str) -> list[str]:
    if not value:
        return []
    return [v.strip() for v in next(csv.reader([value], delimiter=";")) if v.strip()]


def _from_program(text: str) -> str | None:
    lowered = text.lower()
    return next((inst for word, inst in PROGRAM_WORDS if word in lowered), None)


def _date_of(value: str) -> date | None:
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _latest(*values: str) -> date | None:
    return max((d for d in map(_date_of, values) if d is not None), default=None)


def _earliest(values: list[date]) -> str | None:
    return min(values).isoformat() if values else None


def _simple_instruments(row: dict[str, str]) -> dict[str, list[date]]:
    """Instrument -> listing dates, from one targets.simple.csv row; only what the row says.

    A sanction cell reads "program - reason - status - startDate - endDate" (zavod's simple CSV
    exporter); its first date is the start of that listing. The crawl dates (first_seen) are
    when OpenSanctions first saw the row, never a listing date.
    """
    found: dict[str, list[date]] = {}
    titles = [t.lower() for t in _multi(row["dataset"])]
    for sanction in _multi(row["sanctions"]):
        instrument = _from_program(sanction)
        if instrument is None:
            continue
        dates = [d for d in map(_date_of, _ISO_DATE.findall(sanction)) if d is not None]
        found.setdefault(instrument, []).extend(dates[:1])
    for title in titles:
        instrument = DATASET_TITLES.get(title)
        if instrument is not None:
            found.setdefault(instrument, [])
        elif title.startswith(CSL_TITLE) and not found:
            # The simple CSV does not carry the CSL source list (Entity List, MEU, UVL...).
            found.setdefault("us-csl-other", [])
    return found or {OTHER: []}


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
        for instrument, dates in sorted(_simple_instruments(row).items()):
            parsed.entries.append(
                ListEntry(
                    key=row["id"],
                    instrument=instrument,
                    name=row["name"],
                    aliases=tuple(_multi(row["aliases"])),
                    program="; ".join(_multi(row["sanctions"]) or _multi(row["dataset"])),
                    since=_earliest(dates),
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


@dataclass(frozen=True, slots=True)
class _Sanction:
    datasets: tuple[str, ...]
    program: str
    authority: str
    dates: tuple[date, ...]
    """The listing date where the data has one, else the sanction's start date."""

    def instrument(self) -> str:
        """What this one sanction is, from its dataset, its authority or its program."""
        for dataset in self.datasets:
            if dataset in DATASET_KEYS:
                return DATASET_KEYS[dataset]
        if CSL_DATASET in self.datasets:
            return instrument_for_source(self.authority) if self.authority else "us-csl-other"
        named = _from_program(self.program)
        if CONS_DATASET in self.datasets:
            return named if named == "us-ofac-ns-cmic" else "us-ofac-non-sdn-other"
        return named or OTHER


def _sanction(obj: dict[str, Any], props: dict[str, Any]) -> _Sanction:
    listed = [d for d in map(_date_of, _strings(props, "listingDate")) if d is not None]
    started = [d for d in map(_date_of, _strings(props, "startDate")) if d is not None]
    return _Sanction(
        datasets=tuple(str(d) for d in obj.get("datasets") or ()),
        program=" ".join(_strings(props, "program") + _strings(props, "programId")),
        authority=" ".join(_strings(props, "authority")),
        dates=tuple(listed or started),
    )


def parse_ftm_json(path: Path) -> ParsedList:
    parsed = ParsedList(kind="ftm-json", files=[path])
    companies: list[tuple[int, dict[str, Any], str]] = []
    sanctions: dict[str, list[_Sanction]] = {}
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
            sanction = _sanction(obj, props)
            for target in _strings(props, "entity"):
                sanctions.setdefault(target, []).append(sanction)
        elif obj["schema"] in COMPANY_SCHEMATA:
            companies.append((number, obj, text))
    for number, obj, text in companies:
        props = obj["properties"]
        names = _strings(props, "name")
        if not names:
            raise DataFileError(path, "a company without a name", number)
        own = sanctions.get(obj["id"], [])
        found: dict[str, list[date]] = {}
        for sanction in own:
            found.setdefault(sanction.instrument(), []).extend(sanction.dates)
        for dataset in obj.get("datasets") or ():
            if dataset in DATASET_KEYS:
                found.setdefault(DATASET_KEYS[dataset], [])
        words = "; ".join(
            dict.fromkeys(" - ".join(filter(None, (s.authority, s.program))) for s in own)
        )
        for instrument, dates in sorted((found or {OTHER: []}).items()):
            parsed.entries.append(
                ListEntry(
                    key=str(obj["id"]),
                    instrument=instrument,
                    name=names[0],
                    aliases=tuple(
                        names[1:] + _strings(props, "alias") + _strings(props, "previousName")
                    ),
                    program=words or "; ".join(obj.get("datasets") or []),
                    since=_earliest(dates),
                    source_url=OS_SOURCE + str(obj["id"]),
                    row=text[:MAX_ROW_CHARS],
                    line=number,
                )
            )
    parsed.published = newest or file_date(path)
    return parsed
