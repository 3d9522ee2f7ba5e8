"""Loading the reviewed regulatory data (instruments, corporate families, listings and audience
severities) and checking it.

Loaded from ``fingerprints/regulatory/*.yaml`` (shipped in the wheel). Every entry must name a
public source and an as-of date; a file that breaks that rule is refused with DataFileError, so a
report can never cite a fact without its source.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Mapping
from datetime import date
from importlib.abc import Traversable
from typing import Any

import yaml

from auditor.dataschema import enforce
from auditor.errors import DataFileError
from auditor.exposure.regulatory import (
    AFFILIATE_REACH,
    DEVICE_SCOPES,
    INSTRUMENT_KINDS,
    INSTRUMENT_STATUSES,
    LISTING_STATUSES,
    SOURCE_KINDS,
    AudienceProfile,
    Entity,
    Instrument,
    Listing,
    Ownership,
    RegulatoryData,
)
from auditor.models import Audience, InstrumentId, Severity
from auditor.resources import fingerprints_dir

logger = logging.getLogger(__name__)
# libyaml's safe loader when PyYAML was built with it: the pure-Python one costs ~0.2 s a load.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read(folder: Traversable, name: str) -> dict[str, Any]:
    node = folder / name
    try:
        loaded = yaml.load(node.read_text(encoding="utf-8"), Loader=_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise DataFileError(name, f"not valid YAML: {exc}", line) from None
    if not isinstance(loaded, dict):
        raise DataFileError(name, "expected a mapping at the top level")
    # Fields, types and vocabularies as fingerprints/schema/regulatory-*.schema.json declare them;
    # the code below checks what a schema cannot say (references between the files).
    enforce(loaded, f"regulatory/{name}", name)
    return loaded


def _date(value: object, where: str, name: str) -> date:
    if isinstance(value, date):
        return value
    if isinstance(value, str):  # quoted: a YAML 1.2 reader (an editor's) sees every date so
        with contextlib.suppress(ValueError):
            return date.fromisoformat(value)
    raise DataFileError(name, f"{where}: expected a date (YYYY-MM-DD), got {value!r}")


def _opt_date(value: object, where: str, name: str) -> date | None:
    return None if value is None else _date(value, where, name)


def _sourced(row: Mapping[str, Any], where: str, name: str) -> tuple[str, date]:
    source = row.get("source")
    if not isinstance(source, str) or not source.strip():
        raise DataFileError(name, f"{where}: every entry needs a source")
    return source, _date(row.get("as_of"), f"{where} as_of", name)


def _one_of(
    row: Mapping[str, Any], key: str, allowed: frozenset[str], where: str, name: str
) -> str:
    """A required field whose value must come from a closed vocabulary."""
    value = row.get(key)
    if value not in allowed:
        choices = ", ".join(sorted(allowed))
        raise DataFileError(name, f"{where}: {key} {value!r} is not one of: {choices}")
    return str(value)


def _instruments(doc: Mapping[str, Any], name: str) -> dict[str, Instrument]:
    out: dict[str, Instrument] = {}
    for row in doc.get("instruments") or []:
        iid = str(row.get("id", ""))
        source, as_of = _sourced(row, f"instrument {iid!r}", name)
        reach = str(row.get("extends_to_affiliates", "no"))
        if reach not in AFFILIATE_REACH:
            raise DataFileError(name, f"instrument {iid!r}: extends_to_affiliates {reach!r}")
        kind = _one_of(row, "kind", INSTRUMENT_KINDS, f"instrument {iid!r}", name)
        status = _one_of(row, "status", INSTRUMENT_STATUSES, f"instrument {iid!r}", name)
        source_kind = _one_of(row, "source_kind", SOURCE_KINDS, f"instrument {iid!r}", name)
        scope = str(row.get("device_scope", "any"))
        if scope not in DEVICE_SCOPES:
            raise DataFileError(name, f"instrument {iid!r}: device_scope {scope!r}")
        out[iid] = Instrument(
            id=InstrumentId(iid),
            name=str(row["name"]),
            jurisdiction=str(row["jurisdiction"]),
            target=str(row["target"]),
            binds=str(row["binds"]),
            effect=" ".join(str(row["effect"]).split()),
            source=source,
            as_of=as_of,
            kind=kind,
            status=status,
            verified=_date(row.get("verified"), f"instrument {iid!r} verified", name),
            source_kind=source_kind,
            device_scope=scope,
            informational=bool(row.get("informational", False)),
            deadline=" ".join(str(row["deadline"]).split()) if row.get("deadline") else None,
            source_also=str(row["source_also"]) if row.get("source_also") else None,
            use_condition=" ".join(str(row["use_condition"]).split())
            if row.get("use_condition")
            else None,
            extends_to_affiliates=reach,
            applies_via=InstrumentId(row["applies_via"]) if row.get("applies_via") else None,
            parent_listed_under=InstrumentId(row["parent_listed_under"])
            if row.get("parent_listed_under")
            else None,
            applies_to_country=row.get("applies_to_country"),
            applies_to_all_video=bool(row.get("applies_to_all_video", False)),
            component_exposure=bool(row.get("component_exposure", False)),
            effective=_opt_date(row.get("effective"), f"instrument {iid!r} effective", name),
            suspended_from=_opt_date(row.get("suspended_from"), f"{iid} suspended_from", name),
            suspended_until=_opt_date(row.get("suspended_until"), f"{iid} suspended", name),
            note=" ".join(str(row["note"]).split()) if row.get("note") else None,
            uncertain=bool(row.get("uncertain", False)),
        )
    for inst in out.values():
        for ref in (inst.applies_via, inst.parent_listed_under):
            if ref is not None and ref not in out:
                raise DataFileError(name, f"instrument {inst.id!r} refers to unknown {ref!r}")
    return out


def _entities(doc: Mapping[str, Any], name: str) -> dict[str, Entity]:
    out: dict[str, Entity] = {}
    for row in doc.get("entities") or []:
        eid = str(row.get("id", ""))
        source, as_of = _sourced(row, f"entity {eid!r}", name)
        names = [str(n["name"]) for n in row.get("names") or []]
        names += [str(n["name"]) for n in row.get("chinese_names") or []]
        edges = [
            _edge(e, str(e.get("owner")), False, eid, name) for e in row.get("ownership") or []
        ]
        edges += [
            _edge(e, str(e.get("supplier")), True, eid, name) for e in row.get("suppliers") or []
        ]
        out[eid] = Entity(
            id=eid,
            legal_name=str(row["legal_name"]),
            source=source,
            as_of=as_of,
            country=row.get("country"),
            names=tuple(dict.fromkeys([eid, str(row["legal_name"]), *names])),
            subsidiaries=tuple(str(s) for s in row.get("subsidiaries") or []),
            brands=tuple(str(b) for b in row.get("brands") or []),
            ownership=tuple(edges),
        )
    for entity in out.values():
        for edge in entity.ownership:
            if edge.owner not in out:
                raise DataFileError(name, f"entity {entity.id!r}: unknown owner {edge.owner!r}")
    return out


def _edge(row: Mapping[str, Any], owner: str, supplier: bool, eid: str, name: str) -> Ownership:
    source = row.get("source")
    if not source:
        raise DataFileError(name, f"entity {eid!r}: the edge to {owner!r} needs a source")
    return Ownership(
        owner=owner,
        relationship=str(row.get("relationship", "")),
        source=str(source),
        since=_opt_date(row.get("from"), f"{eid}->{owner} from", name),
        until=_opt_date(row.get("until"), f"{eid}->{owner} until", name),
        uncertain=bool(row.get("uncertain", False)),
        supplier=supplier,
    )


def _listings(doc: Mapping[str, Any], name: str, known: Mapping[str, Any]) -> tuple[Listing, ...]:
    instruments, entities = known["instruments"], known["entities"]
    out: list[Listing] = []
    for row in doc.get("listings") or []:
        where = f"listing {row.get('entity')!r} x {row.get('instrument')!r}"
        source, as_of = _sourced(row, where, name)
        if row.get("entity") not in entities or row.get("instrument") not in instruments:
            raise DataFileError(name, f"{where}: unknown entity or instrument")
        if row.get("status") not in LISTING_STATUSES:
            raise DataFileError(name, f"{where}: unknown status {row.get('status')!r}")
        source_kind = _one_of(row, "source_kind", SOURCE_KINDS, where, name)
        out.append(
            Listing(
                entity=str(row["entity"]),
                instrument=InstrumentId(str(row["instrument"])),
                status=str(row["status"]),
                source=source,
                as_of=as_of,
                since=_opt_date(row.get("since"), f"{where} since", name),
                until=_opt_date(row.get("until"), f"{where} until", name),
                listed_as=row.get("listed_as"),
                note=row.get("note"),
                uncertain=bool(row.get("uncertain", False)),
                verified=_date(row.get("verified"), f"{where} verified", name),
                source_kind=source_kind,
            )
        )
    return tuple(out)


def _audiences(doc: Mapping[str, Any], name: str) -> dict[Audience, AudienceProfile]:
    out: dict[Audience, AudienceProfile] = {}
    rows = doc.get("audiences") or {}
    for audience in Audience:
        row = rows.get(audience.value)
        if row is None:
            raise DataFileError(name, f"audience {audience.value!r} has no severity mapping")
        try:
            levels = {k: Severity.from_label(v) for k, v in (row.get("instruments") or {}).items()}
            unknown = Severity.from_label(row["unknown_maker"])
            default = Severity.from_label(row.get("default", "info"))
        except (KeyError, ValueError) as exc:
            raise DataFileError(name, f"audience {audience.value!r}: {exc}") from None
        if unknown is Severity.NONE:
            raise DataFileError(
                name, f"audience {audience.value!r}: an unknown maker is never none"
            )
        out[audience] = AudienceProfile(
            audience, str(row.get("description", "")), unknown, default, levels
        )
    return out


def load_regulatory_data(folder: Traversable | None = None) -> RegulatoryData:
    """Load and check the reviewed data; ``folder`` defaults to the shipped one (cached)."""
    if folder is None:
        return _shipped()
    return _load(folder)


@functools.cache
def _shipped() -> RegulatoryData:
    # The shipped data cannot change while the process runs, and the values are frozen.
    return _load(fingerprints_dir() / "regulatory")


def _load(folder: Traversable) -> RegulatoryData:
    meta = _read(folder, "dataset.yaml")
    instruments = _instruments(_read(folder, "instruments.yaml"), "instruments.yaml")
    entities = _entities(_read(folder, "entities.yaml"), "entities.yaml")
    listings = _listings(
        _read(folder, "listings.yaml"),
        "listings.yaml",
        {"instruments": instruments, "entities": entities},
    )
    audiences = _audiences(_read(folder, "audiences.yaml"), "audiences.yaml")
    for profile in audiences.values():
        for iid in profile.instruments:
            if iid not in instruments:
                raise DataFileError("audiences.yaml", f"unknown instrument {iid!r}")
    return RegulatoryData(
        version=str(meta["version"]),
        as_of=_date(meta.get("as_of"), "dataset as_of", "dataset.yaml"),
        max_age_days=int(meta.get("max_age_days", 90)),
        disclaimer=" ".join(str(meta.get("disclaimer", "")).split()),
        instruments=instruments,
        entities=entities,
        listings=listings,
        audiences=audiences,
    )
