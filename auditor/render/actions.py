"""The action list: devices grouped by remediation action, most urgent first, with one line of
advice and the instrument behind each action.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from auditor.models import AuditReport, DeviceResult, RemediationAction
from auditor.render.verdicts import UNKNOWN_MAKER, device_label, driving, maker, reaching

_ACTION_VERBS = {
    RemediationAction.REPLACE: "Replace",
    RemediationAction.ISOLATE: "Isolate",
    RemediationAction.REVIEW: "Review",
    RemediationAction.MONITOR: "Monitor",
    RemediationAction.NONE: "No action for",
}


@dataclass(frozen=True, slots=True)
class Action:
    """One kind of action across the audit: how many devices, which makers, and why (briefly)."""

    rank: int
    """1 for the most urgent kind of action, then 2, 3...: the order a reader works in."""
    action: RemediationAction
    priority: int
    """The most urgent remediation priority among its devices (smaller is more urgent)."""
    devices: tuple[str, ...]
    """Addresses (with the site in a combined report), most urgent first."""
    makers: tuple[tuple[str, int], ...]
    """Makers of its devices, the most frequent first."""
    top_instrument: str | None
    """The instrument behind the action on most of its devices (its name; see driving())."""
    top_instrument_devices: int
    top_instrument_id: str | None
    advice: str
    """What to do, in one clause (each device's full reasoning is in its own section)."""

    @property
    def headline(self) -> str:
        n = len(self.devices)
        noun = "device" if n == 1 else "devices"
        return f"{_ACTION_VERBS[self.action]} {n} {noun}"

    @property
    def makers_text(self) -> str:
        return ", ".join(f"{m} {n}" for m, n in self.makers)

    @property
    def because(self) -> str:
        """ "mainly X (n of m)": the top instrument, never a list of addresses."""
        if self.top_instrument is None:
            return ""
        n, total = self.top_instrument_devices, len(self.devices)
        share = "all" if n == total else f"{n} of {total}"
        return f"{self.top_instrument} ({share})"


def advice(why: str) -> str:
    """The first clause of a remediation's reasoning: the instruction, without the citations."""
    head = why.split(" (", 1)[0].split(". ", 1)[0].strip().rstrip(".")
    return head


def _actions(devices: tuple[DeviceResult, ...]) -> tuple[Action, ...]:
    grouped: dict[RemediationAction, list[DeviceResult]] = defaultdict(list)
    for d in devices:
        if d.remediation and d.remediation.action is not RemediationAction.NONE:
            grouped[d.remediation.action].append(d)
    out: list[Action] = []
    ordered = sorted(
        grouped.items(),
        key=lambda kv: (min(_prio(d) for d in kv[1]), -len(kv[1]), kv[0].value),
    )
    for rank, (action, group) in enumerate(ordered, start=1):
        group.sort(key=_prio)
        tops: Counter[tuple[str, str]] = Counter()
        for d in group:
            hits = reaching(d)
            if hits:
                top = driving(d, hits)
                tops[(top.instrument_name, top.instrument)] += 1
        top_key, top_n = min(tops.items(), key=lambda kv: (-kv[1], kv[0])) if tops else (None, 0)
        makers = Counter(maker(d) for d in group)
        whys = [d.remediation.why for d in group if d.remediation]
        out.append(
            Action(
                rank=rank,
                action=action,
                priority=min(_prio(d) for d in group),
                devices=tuple(device_label(d) for d in group),
                makers=tuple(sorted(makers.items(), key=lambda kv: (-kv[1], kv[0].lower()))),
                top_instrument=top_key[0] if top_key else None,
                top_instrument_id=top_key[1] if top_key else None,
                top_instrument_devices=top_n,
                advice=_plural(Counter(advice(w) for w in whys).most_common(1)[0][0], len(group))
                if whys
                else "",
            )
        )
    return tuple(out)


def _plural(text: str, n: int) -> str:
    """ "Isolate it ... its retirement" said of several devices: "them ... their"."""
    if n == 1:
        return text
    return re.sub(r"\bits\b", "their", re.sub(r"\bit\b", "them", text))


def _prio(d: DeviceResult) -> int:
    return d.remediation.priority if d.remediation else 99


def devices_by_action(
    report: AuditReport,
) -> tuple[tuple[RemediationAction | None, tuple[tuple[str, tuple[DeviceResult, ...]], ...]], ...]:
    """Devices grouped by action (most urgent first, then no action), then by maker."""
    order = {a.action: a.rank for a in summarise_actions(report)}
    groups: dict[RemediationAction | None, dict[str, list[DeviceResult]]] = {}
    for d in sorted(report.devices, key=lambda d: (_prio(d), -d.max_severity.value)):
        action = d.remediation.action if d.remediation else None
        if action is RemediationAction.NONE:
            action = None
        groups.setdefault(action, {}).setdefault(maker(d), []).append(d)
    ordered = sorted(groups.items(), key=lambda kv: order.get(kv[0], 999) if kv[0] else 1000)
    return tuple(
        (
            action,
            tuple(
                (m, tuple(ds))
                for m, ds in sorted(
                    makers.items(), key=lambda kv: (kv[0] == UNKNOWN_MAKER, -len(kv[1]), kv[0])
                )
            ),
        )
        for action, makers in ordered
    )


def summarise_actions(report: AuditReport) -> tuple[Action, ...]:
    return _actions(report.devices)
