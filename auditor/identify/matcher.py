"""Match one observation against the fingerprint file for its kind.

Within a file, fingerprints are grouped by the field they read (the raw text is one group); in
each group the first fingerprint that matches wins, Recog-style, so a specific entry placed before
a generic one decides. Patterns are compiled once and indexed by kind, which keeps matching fast.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from auditor.identify.db import Database, Fingerprint
from auditor.identify.extract import ExtractError, extract
from auditor.models import ObservationKind

#: Raw text beyond this is not searched: banners and titles are short, bodies are capped upstream.
MAX_MATCH_CHARS = 64 * 1024


@dataclass(frozen=True, slots=True)
class Match:
    fingerprint: Fingerprint
    attrs: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class MatchResult:
    matches: tuple[Match, ...]
    fields: Mapping[str, str]
    error: str | None = None
    """Why a structured observation could not be parsed (its raw-text fingerprints still ran)."""


Group = tuple[str | None, tuple[Fingerprint, ...]]


class Matcher:
    def __init__(self, db: Database) -> None:
        self._groups: dict[ObservationKind, tuple[Group, ...]] = {}
        for kind, ff in db.files.items():
            order: dict[str | None, list[Fingerprint]] = {}
            for fp in ff.fingerprints:
                order.setdefault(fp.field, []).append(fp)
            self._groups[kind] = tuple((f, tuple(fps)) for f, fps in order.items())

    def fingerprints(self) -> list[Fingerprint]:
        return [fp for groups in self._groups.values() for _, fps in groups for fp in fps]

    def kinds(self) -> frozenset[ObservationKind]:
        return frozenset(self._groups)

    def groups(self, kind: ObservationKind) -> tuple[Group, ...]:
        return self._groups.get(kind, ())

    def match(self, kind: ObservationKind, text: str) -> MatchResult:
        groups = self._groups.get(kind)
        error: str | None = None
        try:
            fields = extract(kind, text)
        except ExtractError as exc:
            fields, error = {}, str(exc)
        if not groups:
            return MatchResult((), fields, error)
        raw = text[:MAX_MATCH_CHARS]
        found: list[Match] = []
        for field_name, fps in groups:
            target = raw if field_name is None else fields.get(field_name)
            if target is None:
                continue
            hit = first_match(fps, target)
            if hit is not None:
                found.append(hit)
        return MatchResult(tuple(found), fields, error)


def first_match(fps: tuple[Fingerprint, ...], target: str) -> Match | None:
    for fp in fps:
        m = fp.regex.search(target)
        if m is not None:
            return Match(fp, fp.interpolate(m))
    return None
