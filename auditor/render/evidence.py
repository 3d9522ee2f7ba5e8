"""The evidence chain as a reader sees it: each raw reply of a device once, with every
fingerprint that matched it.
"""

from __future__ import annotations

from dataclasses import dataclass

from auditor.models import Component, DeviceResult, EvidenceLink, Observation


@dataclass(frozen=True, slots=True)
class Reply:
    """One raw reply of a device, shown once; the fingerprints it matched refer to it by number."""

    number: int
    seen: tuple[Observation, ...]
    """Every observation with this content (several ports or probes), the first first."""
    matches: tuple[tuple[EvidenceLink, Component | None], ...]
    """(link, component or None) for every fingerprint this reply matched."""

    @property
    def observation(self) -> Observation:
        return self.seen[0]

    @property
    def where(self) -> str:
        """ ":80, :443" -- the ports (or sources) it was seen on."""
        parts = [f":{o.port}" if o.port else o.source for o in self.seen]
        return ", ".join(dict.fromkeys(parts))

    @property
    def fingerprints(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(link.fingerprint_id for link, _ in self.matches))

    @property
    def asserts(self) -> tuple[tuple[str, str], ...]:
        """What the matches assert, each key=value once, in first-seen order."""
        seen: dict[tuple[str, str], None] = {}
        for link, _ in self.matches:
            for k, v in link.asserts:
                seen[(k, v)] = None
        return tuple(seen)


@dataclass(frozen=True, slots=True)
class DeviceEvidence:
    replies: tuple[Reply, ...]
    """Replies some fingerprint matched, in the order of the evidence chain."""
    unmatched: tuple[Reply, ...]
    """Other replies the probes recorded (numbered after the matched ones)."""
    links: int


def _content_key(o: Observation) -> tuple[str, str]:
    # The same bytes of the same kind from two ports (HTTP on 80 and 443) are one reply to read.
    return (o.kind.value, o.value)


def evidence(device: DeviceResult) -> DeviceEvidence:
    """Each raw reply once, with every fingerprint that matched it (components included).

    A reply whose content was seen on several ports or by several probes is listed once with all
    of them (``Reply.seen``); each keeps its own digest.
    """
    chain: list[tuple[EvidenceLink, Component | None]] = [
        (link, None) for link in device.identification.evidence
    ]
    for c in device.identification.components:
        chain.extend((link, c) for link in c.evidence)
    matches: dict[tuple[str, str], list[tuple[EvidenceLink, Component | None]]] = {}
    seen: dict[tuple[str, str], dict[str, Observation]] = {}
    for link, comp in chain:
        key = _content_key(link.observation)
        matches.setdefault(key, []).append((link, comp))
        seen.setdefault(key, {}).setdefault(link.observation.sha256, link.observation)
    rest: dict[tuple[str, str], dict[str, Observation]] = {}
    for o in device.observations:
        key = _content_key(o)
        if key in seen:
            seen[key].setdefault(o.sha256, o)
        else:
            rest.setdefault(key, {}).setdefault(o.sha256, o)
    replies = tuple(
        Reply(i, tuple(seen[key].values()), tuple(found))
        for i, (key, found) in enumerate(matches.items(), start=1)
    )
    unmatched = tuple(
        Reply(i, tuple(obs.values()), ())
        for i, obs in enumerate(rest.values(), start=len(replies) + 1)
    )
    return DeviceEvidence(replies, unmatched, len(chain))
