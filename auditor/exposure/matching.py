"""Match a maker's names against the parties of the imported official lists.

Exact means equal normal forms (see normalise.py): case, accents, punctuation and legal-form
words do not count. Fuzzy means a rapidfuzz token-sort ratio on the loose forms at or above
FUZZY_CUTOFF; a fuzzy match alone is only ever a "possible match, review". Exact beats fuzzy.
The index holds names only; the full entry (with its verbatim row) is fetched for the hits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from rapidfuzz import fuzz, process

from auditor.exposure.lists.base import ListEntry
from auditor.exposure.liststore import NameRow, StoredEntry
from auditor.exposure.normalise import loose_form, normal_form

FUZZY_CUTOFF = 88.0
#: A loose form shorter than this ("zte", "ab") matches too much to be worth a fuzzy look.
MIN_FUZZY_CHARS = 4

Fetch = Callable[[Iterable[int]], Mapping[int, StoredEntry]]


@dataclass(frozen=True, slots=True)
class ListMatch:
    query: str
    """Our name that matched (legal name, list spelling or alias)."""
    name: str
    """The list's name that matched (primary name or alias)."""
    entry: ListEntry
    kind: str
    published: date | None
    score: float
    exact: bool


class Matcher:
    def __init__(self, names: Sequence[NameRow] = (), fetch: Fetch | None = None) -> None:
        self._names = tuple(names)
        self._fetch = fetch
        self._by_norm: dict[str, list[int]] = {}
        for index, row in enumerate(self._names):
            self._by_norm.setdefault(row.norm, []).append(index)
        self._loose = [row.loose for row in self._names]
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
        if not self._names or self._fetch is None:
            return ()
        # name index -> (query, score, exact), best per list name
        hits: dict[int, tuple[str, float, bool]] = {}
        for query in queries:
            for index in self._by_norm.get(normal_form(query), []):
                hits[index] = (query, 100.0, True)
        for query in queries:
            loose = loose_form(query)
            if len(loose) < MIN_FUZZY_CHARS:
                continue
            found = process.extract(
                loose,
                self._loose,
                scorer=fuzz.token_sort_ratio,
                score_cutoff=FUZZY_CUTOFF,
                limit=25,
            )
            for _choice, score, index in found:
                known = hits.get(index)
                if known is None or (not known[2] and score > known[1]):
                    hits[index] = (query, round(float(score), 1), False)
        entries = self._fetch(self._names[i].entry_id for i in hits)
        best: dict[tuple[str, str, str], ListMatch] = {}
        for index, (query, score, exact) in hits.items():
            stored = entries.get(self._names[index].entry_id)
            if stored is None:
                continue  # replaced by a newer import since the index was built
            match = ListMatch(
                query,
                self._names[index].name,
                stored.entry,
                stored.kind,
                stored.published,
                score,
                exact,
            )
            key = (stored.kind, stored.entry.key, stored.entry.instrument)
            known_match = best.get(key)
            if known_match is None or (match.exact, match.score) > (
                known_match.exact,
                known_match.score,
            ):
                best[key] = match
        return tuple(sorted(best.values(), key=lambda m: (not m.exact, -m.score)))
