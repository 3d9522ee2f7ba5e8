"""Exposures from matches against the imported official lists (OFAC, CSL, OpenSanctions).

An exact match on the maker's own names is LISTED (or, when the reviewed data already has the
listing, attaches the list row and score to it); a fuzzy match alone is POSSIBLE_MATCH and is
skipped when the reviewed data already settles that instrument.
"""

from __future__ import annotations

from datetime import date

from auditor.exposure import rules
from auditor.exposure.matching import ListMatch, Matcher
from auditor.exposure.regulatory import Entity
from auditor.models import ExposureStatus


def add_list_matches(
    out: rules.ExposureSet, matcher: Matcher, entity: Entity | None, maker: str
) -> None:
    """Exposures from the imported official lists: exact is LISTED, fuzzy only POSSIBLE_MATCH."""
    names = entity.names if entity is not None else (maker,)
    owner = entity.id if entity is not None else maker
    by_instrument: dict[str, list[ListMatch]] = {}
    for match in matcher.match(names):
        by_instrument.setdefault(match.entry.instrument, []).append(match)
    for instrument_id, matches in by_instrument.items():
        instrument = (
            out.data.instruments.get(instrument_id) or out.data.instruments["opensanctions-other"]
        )
        exact = [m for m in matches if m.exact]
        for match in exact or matches[:1]:
            entry, kind = match.entry, match.kind
            row = f"[{kind} line {entry.line}] {entry.row}"
            if match.exact and out.enrich(instrument.id, owner, match_score=100.0, list_row=row):
                continue
            if match.exact:
                status, effect = (
                    ExposureStatus.LISTED,
                    (
                        f"Named in the imported {kind} list as {entry.name!r} "
                        f"(matched {match.query!r}). {instrument.effect}"
                    ),
                )
            elif out.has(instrument.id, owner):
                continue  # the reviewed data already settles this instrument
            else:
                status, effect = (
                    ExposureStatus.POSSIBLE_MATCH,
                    (
                        f"Possible match, review: the imported {kind} list names "
                        f"{entry.name!r}, similar to {match.query!r} "
                        f"(score {match.score:.0f}). A fuzzy match is not a listing."
                    ),
                )
            out.add(
                instrument,
                status,
                owner,
                effect,
                entry.source_url or instrument.source,
                since=_parse_date(entry.since),
                match_score=match.score,
                list_row=row,
            )


def _parse_date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def add_owner_list_matches(out: rules.ExposureSet, matcher: Matcher, entity: Entity) -> None:
    """An owner (e.g. CETC for Hikvision) named exactly on an imported list reaches the maker.

    Whether the list reaches owned companies depends on the list (OFAC's ownership rule for SDN,
    none for NS-CMIC), so the exposure is "covered through ownership", uncertain, and says so.
    """
    for edge in entity.ownership:
        if edge.supplier or not edge.active(out.on):
            continue
        owner = out.data.entities[edge.owner]
        for match in matcher.match(owner.names):
            instrument = out.data.instruments.get(match.entry.instrument)
            if not match.exact or instrument is None or instrument.extends_to_affiliates == "no":
                continue
            row = f"[{match.kind} line {match.entry.line}] {match.entry.row}"
            out.add(
                instrument,
                ExposureStatus.COVERED_THROUGH_OWNERSHIP,
                owner.id,
                f"{entity.id} is owned by {owner.id} ({edge.relationship}), which the imported "
                f"{match.kind} list names as {match.entry.name!r}. Verify the ownership share "
                f"and whether this list reaches owned companies. {instrument.effect}",
                match.entry.source_url or instrument.source,
                since=_parse_date(match.entry.since),
                uncertain=True,
                match_score=match.score,
                list_row=row,
            )
