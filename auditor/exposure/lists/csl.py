"""The trade.gov Consolidated Screening List, CSV and JSON.

CSV header: _id, source, entity_number, type, programs, name, title, addresses,
federal_register_notice, start_date, end_date, standard_order, license_requirement,
license_policy, call_sign, vessel_type, gross_tonnage, gross_registered_tonnage, vessel_flag,
vessel_owner, remarks, source_list_url, alt_names, citizenships, dates_of_birth, nationalities,
places_of_birth, source_information_url, ids. Multi-value cells are joined with "; ".
JSON: ``{"results": [...]}`` with the same keys, lists for alt_names/programs/addresses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from auditor.errors import DataFileError
from auditor.exposure.lists.base import (
    MAX_ROW_CHARS,
    NON_COMPANY_TYPES,
    ListEntry,
    ParsedList,
    csv_rows,
    file_date,
    read_text,
    split_multi,
)

REQUIRED_COLUMNS = ("_id", "source", "type", "programs", "name", "start_date", "alt_names")
CSL_SOURCE = "https://www.trade.gov/consolidated-screening-list"

# Entity List names can carry the parent they are listed as an affiliate of; the parent's name
# must not become a name of this entry, or the parent would look listed.
_AFFILIATED = re.compile(r"\s*[,;(\-–]?\s*\(?\s*\baffiliated entit(?:y|ies)\b.*$", re.I | re.S)
_SUCCESSOR = re.compile(r",?\s*and any successor, sub-unit, or subsidiary thereof", re.I)


def instrument_for_source(source: str) -> str:
    """Map a CSL ``source`` string to a reviewed instrument id.

    The source names are the CSL's own, e.g. "Entity List (EL) - Bureau of Industry and
    Security", "Military End User (MEU) List - Bureau of Industry and Security", "Unverified
    List (UVL) - Bureau of Industry and Security" (https://www.trade.gov/consolidated-screening-list).
    """
    lowered = source.lower()
    if "(EL)" in source or lowered.startswith("entity list"):
        return "us-bis-entity-list"
    if "(MEU)" in source or lowered.startswith("military end user"):
        return "us-bis-meu-list"
    if "(UVL)" in source or lowered.startswith("unverified list"):
        return "us-bis-unverified-list"
    if "(SDN)" in source:
        return "us-ofac-sdn"
    if "(CMIC)" in source or "CMIC" in source:
        return "us-ofac-ns-cmic"
    return "us-csl-other"


def split_affiliated(name: str) -> tuple[str, str | None]:
    """'X Co., Ltd. - Affiliated Entity: Y' -> ('X Co., Ltd.', 'Affiliated Entity: Y')."""
    name = _SUCCESSOR.sub("", name)
    match = _AFFILIATED.search(name)
    if match is None or match.start() == 0:
        return name.strip(), None
    return name[: match.start()].strip(" ,;-"), match.group(0).strip(" ,;()-")


def _entry(
    result: Mapping[str, Any], line: int, raw: str, path: Path, json_index: int | None = None
) -> ListEntry | None:
    kind = str(result.get("type") or "").strip().lower()
    if kind in NON_COMPANY_TYPES:
        return None
    name = str(result.get("name") or "").strip()
    source = str(result.get("source") or "").strip()
    if not name or not source:
        if json_index is not None:
            raise DataFileError(path, f"results[{json_index}] has no name or no source")
        raise DataFileError(path, "an entry without a name or a source", line)
    primary, _affiliation = split_affiliated(name)
    alt = result.get("alt_names") or []
    alt_names = split_multi(alt) if isinstance(alt, str) else tuple(str(a) for a in alt)
    programs = result.get("programs") or []
    program = programs if isinstance(programs, str) else "; ".join(str(p) for p in programs)
    return ListEntry(
        key=str(result.get("_id") or result.get("id") or result.get("entity_number") or line),
        instrument=instrument_for_source(source),
        name=primary,
        aliases=tuple(split_affiliated(a)[0] for a in alt_names),
        program=f"{source}: {program}" if program else source,
        since=str(result.get("start_date") or "") or None,
        source_url=str(result.get("source_list_url") or CSL_SOURCE),
        row=raw[:MAX_ROW_CHARS],
        line=line,
    )


def parse_csv(path: Path) -> ParsedList:
    parsed = ParsedList(kind="csl-csv", files=[path], published=file_date(path))
    header: list[str] | None = None
    for line, fields, raw in csv_rows(path, read_text(path)):
        if header is None:
            header = [f.strip() for f in fields]
            missing = [c for c in REQUIRED_COLUMNS if c not in header]
            if missing:
                raise DataFileError(
                    path, f"not a Consolidated Screening List CSV: no {', '.join(missing)}", line
                )
            continue
        if len(fields) != len(header):
            raise DataFileError(
                path, f"expected {len(header)} fields, found {len(fields)} (truncated?)", line
            )
        parsed.rows_read += 1
        entry = _entry(dict(zip(header, fields, strict=True)), line, raw, path)
        if entry is not None:
            parsed.entries.append(entry)
    if header is None:
        raise DataFileError(path, "no header row")
    return parsed


def parse_json(path: Path) -> ParsedList:
    parsed = ParsedList(kind="csl-json", files=[path], published=file_date(path))
    try:
        doc = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise DataFileError(
            path, f"not valid JSON ({exc.msg}); truncated file?", exc.lineno
        ) from None
    results = doc.get("results") if isinstance(doc, dict) else doc
    if not isinstance(results, list):
        raise DataFileError(path, 'expected {"results": [...]} (the CSL JSON download)')
    for index, result in enumerate(results, start=1):
        if not isinstance(result, dict):
            raise DataFileError(path, f"results[{index - 1}] is not an object")
        parsed.rows_read += 1
        raw = json.dumps(result, ensure_ascii=False, sort_keys=True)
        # JSON has no useful line numbers once parsed; the result's position stands in.
        entry = _entry(result, index, raw, path, json_index=index - 1)
        if entry is not None:
            parsed.entries.append(entry)
    return parsed
