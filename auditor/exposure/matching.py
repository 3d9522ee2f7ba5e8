"""Match a maker's names against the parties of the imported official lists.

Exact means equal normal forms (see normalise.py): case, accents, punctuation and legal-form
words do not count. Fuzzy means a rapidfuzz token-sort ratio on the loose forms at or above
FUZZY_CUTOFF; a fuzzy match alone is only ever a "possible match, review". Exact beats fuzzy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from auditor.exposure.liststore import StoredName
from auditor.exposure.normalise import loose_form, normal_form

FUZZY_CUTOFF = 88.0
#: A loose form shorter than this ("zte", "ab") matches too much to be worth a fuzzy look.
MIN_FUZZY_CHARS = 4


@dataclass(frozen=True, slots=True)
class ListMatch:
    query: str
    """Our name that matched (legal name, list spelling or alias)."""
    stored: StoredName
    score: float
    exact: bool


class Matcher:
    def __init__(self, names: Iterable[StoredName]) -> None:
        self._names = tuple(names)
        self._by_norm: dict[str, list[StoredName]] = {}
        for stored in self._names:
            self._by_norm.setdefault(stored.norm, []).append(stored)
        self._loose = [s.loose for s in self._names]
        self._cache: dict[tuple[str, ...], tuple[ListMatch, ...]] = {}

    def __len__(self) -> int:
        return len(self._names)

    def match(self, queries: Iterable[str]) -> tuple[ListMatch, ...]:
        """All matches for any of ``queries``: exact ones, then fuzzy ones for other entries."""
        key = tuple(sorted(set(queries)))
        if key not in self._cache:
            self._cache[key] = self._match(key)
        return self._cache[key]

    def _match(self, queries: tuple[str, ...]) -> tuple[ListMatch, ...]:
        found: dict[tuple[str, str, str], ListMatch] = {}
        for query in queries:
            for stored in self._by_norm.get(normal_form(query), []):
                found[_entry_key(stored)] = ListMatch(query, stored, 100.0, True)
        for query in queries:
            loose = loose_form(query)
            if len(loose) < MIN_FUZZY_CHARS or not self._loose:
                continue
            hits = process.extract(
                loose,
                self._loose,
                scorer=fuzz.token_sort_ratio,
                score_cutoff=FUZZY_CUTOFF,
                limit=25,
            )
            for _choice, score, index in hits:
                stored = self._names[index]
                key = _entry_key(stored)
                known = found.get(key)
                if known is None or (not known.exact and score > known.score):
                    found[key] = ListMatch(query, stored, round(float(score), 1), False)
        return tuple(sorted(found.values(), key=lambda m: (not m.exact, -m.score)))


def _entry_key(stored: StoredName) -> tuple[str, str, str]:
    return (stored.kind, stored.entry.key, stored.entry.instrument)
