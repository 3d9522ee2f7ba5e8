"""The JSON report's summary counted device by device, for a report written as it is read.

``auditor.render.view.summarise`` needs every device at once; a report streamed from the store
(issue 16) sees each device once and must keep nothing of it. ``SummaryTally`` keeps only counts
and, per action, per maker and per line of advice, the first place it was seen; the summary it
gives is the one ``summarise`` gives for the same devices in the same order (ties are broken by
that first place, as ``summarise``'s counters break them by insertion order).
tests/store/test_store_report_stream.py and tests/e2e/test_e2e_report_stream.py hold the two
together on real audits.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from auditor.models import DeviceResult, RemediationAction, Severity
from auditor.render.actions import _plural, advice
from auditor.render.findings import known_exploited
from auditor.render.verdicts import (
    SEVERITIES_DESC,
    UNKNOWN_MAKER,
    driving,
    is_clean,
    is_exposed,
    maker,
    needs_review,
    reaching,
)

#: Where a device comes in its action's group as summarise sorts it: (priority, arrival).
_Place = tuple[int, int]


@dataclass(slots=True)
class _Seen:
    """How many devices carry a value, and the first place one did."""

    count: int
    first: _Place


def _see(table: dict[str, _Seen], key: str, place: _Place) -> None:
    seen = table.get(key)
    if seen is None:
        table[key] = _Seen(1, place)
    else:
        seen.count += 1
        seen.first = min(seen.first, place)


def _by_first(table: dict[str, _Seen]) -> list[tuple[str, int]]:
    """(key, count) in the order a counter over the sorted group would hold them."""
    return [(k, s.count) for k, s in sorted(table.items(), key=lambda kv: kv[1].first)]


@dataclass(slots=True)
class _ActionTally:
    devices: int = 0
    priority: int | None = None
    makers: dict[str, _Seen] = field(default_factory=dict)
    advice: dict[str, _Seen] = field(default_factory=dict)
    tops: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, d: DeviceResult, place: _Place, why: str) -> None:
        self.devices += 1
        self.priority = place[0] if self.priority is None else min(self.priority, place[0])
        _see(self.makers, maker(d), place)
        _see(self.advice, advice(why), place)
        hits = reaching(d)
        if hits:
            top = driving(d, hits)
            self.tops[(top.instrument_name, top.instrument)] += 1

    def top_instrument(self) -> str | None:
        if not self.tops:
            return None
        return min(self.tops.items(), key=lambda kv: (-kv[1], kv[0]))[0][1]

    def advice_text(self) -> str:
        # Counter.most_common(1) keeps the first of equal counts in the group's order.
        ranked = _by_first(self.advice)
        text = max(ranked, key=lambda kv: kv[1])[0] if ranked else ""
        return _plural(text, self.devices) if ranked else ""


@dataclass(slots=True)
class _InstrumentTally:
    max_severity: Severity
    devices: int = 0


class SummaryTally:
    """Feed it every device in report order (``add``); ``summary_dict`` is the JSON summary."""

    def __init__(self) -> None:
        self._n = 0
        self._counts: Counter[str] = Counter()
        self._severities: Counter[Severity] = Counter()
        self._makers: Counter[str] = Counter()
        self._instruments: dict[str, _InstrumentTally] = {}
        self._actions: dict[RemediationAction, _ActionTally] = {}

    @property
    def empty(self) -> bool:
        return self._n == 0

    def add(self, d: DeviceResult) -> None:
        place = self._n
        self._n += 1
        ident = d.identification
        flags = {
            "cameras": ident.device_type.is_video,
            "exposed": is_exposed(d),
            "review": needs_review(d),
            "incomplete": not d.complete,
            "unconfirmed": d.unconfirmed,
            "relabels": ident.oem_relabel,
            "vulnerable": bool(d.vulnerabilities),
            "known_exploited": known_exploited(d),
        }
        self._counts.update(k for k, v in flags.items() if v)
        self._severities[d.max_severity] += 1
        self._makers[maker(d)] += 1
        reached: set[str] = set()
        for e in d.exposures:
            # "Not listed" is a finding per device, but no instrument reaches it: not a row.
            if is_clean(e):
                continue
            row = self._instruments.setdefault(e.instrument, _InstrumentTally(e.severity))
            row.max_severity = max(row.max_severity, e.severity)
            if e.instrument not in reached:
                reached.add(e.instrument)
                row.devices += 1
        rem = d.remediation
        if rem is not None and rem.action is not RemediationAction.NONE:
            tally = self._actions.setdefault(rem.action, _ActionTally())
            tally.add(d, (rem.priority, place), rem.why)

    def summary_dict(self, discovery_incomplete: bool) -> dict[str, Any]:
        """The "summary" object of the JSON report."""
        c = self._counts
        instruments = sorted(
            self._instruments.items(),
            key=lambda kv: (-kv[1].max_severity.value, -kv[1].devices, kv[0]),
        )
        makers = sorted(
            self._makers.items(),
            key=lambda kv: (kv[0] == UNKNOWN_MAKER, -kv[1], kv[0].lower()),
        )
        ordered = sorted(
            self._actions.items(), key=lambda kv: (kv[1].priority or 0, -kv[1].devices, kv[0].value)
        )
        return {
            "devices": self._n,
            "cameras": c["cameras"],
            "exposed": c["exposed"],
            "review": c["review"],
            "incomplete": c["incomplete"],
            "discovery_incomplete": discovery_incomplete,
            "unconfirmed": c["unconfirmed"],
            "oem_relabels": c["relabels"],
            "by_manufacturer": dict(makers),
            "by_instrument": {inst: row.devices for inst, row in instruments},
            "by_severity": {s.label: self._severities.get(s, 0) for s in SEVERITIES_DESC},
            "actions": [
                {
                    "rank": rank,
                    "action": action.value,
                    "priority": a.priority,
                    "devices": a.devices,
                    "makers": dict(
                        sorted(_by_first(a.makers), key=lambda kv: (-kv[1], kv[0].lower()))
                    ),
                    "top_instrument": a.top_instrument(),
                    "advice": a.advice_text(),
                }
                for rank, (action, a) in enumerate(ordered, start=1)
            ],
            "vulnerable_devices": c["vulnerable"],
            "known_exploited_devices": c["known_exploited"],
        }
