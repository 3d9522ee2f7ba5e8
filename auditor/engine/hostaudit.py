"""One host through the probes, identification and assessment: the engine's unit of work.

Probes run in registry order on the calling thread (later probes read earlier evidence), under
one hard time budget for the host. Everything the host needs is passed in, so a test can run it
with fake probes and no socket at all.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from auditor import redact
from auditor.context import NetContext
from auditor.exposure import Assessor
from auditor.identify import Identifier
from auditor.models import (
    Audience,
    Channel,
    DeviceResult,
    Host,
    Identification,
    IPAddress,
    Observation,
    Outcome,
    ProbeAttempt,
    Reason,
)
from auditor.net.exchange import host_budget, kept_connections
from auditor.net.wire import Deadline
from auditor.probes import Probe, attempt
from auditor.probes.interface import ProbeName
from auditor.vulns import VulnAssessor, VulnMatcher

logger = logging.getLogger(__name__)

UNCONFIRMED_RATIONALE = (
    "unconfirmed: seen only in discovery replies, and nothing at the address answered a unicast "
    "exchange; the maker the replies claim is not used (they may come from a forged source)"
)

#: How an address answered camaudit's own unicast check ("arp", "tcp/80"), or None.
UnicastCheck = Callable[[NetContext, IPAddress, bool], "str | None"]

#: Probes that decide from the evidence gathered before them whether (and where) to ask: ONVIF
#: uses the WS-Discovery XAddrs, DVRIP and the vendor APIs send credentials only to a platform
#: the evidence names (probes.access). Fresh sightings are merged in before the first of them.
EVIDENCE_GATED = frozenset(
    {ProbeName.ONVIF, ProbeName.DVRIP, ProbeName.ISAPI, ProbeName.DAHUA, ProbeName.AXIS}
)

#: Called once before the first evidence-gated probe, with the host as the probes saw it so far
#: and the probes' own observations; returns the host with every sighting made since merged in
#: (a stream of sightings may still be arriving) and may wait for a channel that saw it.
Refresh = Callable[[Host, tuple[Observation, ...]], Host]


@dataclass(frozen=True)
class HostTools:
    """The collaborators one host needs (built once per audit, shared by the workers)."""

    ctx: NetContext
    probes: Sequence[Probe]
    identifier: Identifier
    assessor: Assessor
    vulns: VulnAssessor
    matcher: VulnMatcher
    unicast: UnicastCheck
    stop: threading.Event
    budget_s: float
    audience: Audience = Audience.GENERIC
    offline_detail: str = "imported host outside the scope: identified offline"


class HostAuditor:
    """Probes, identifies and assesses one host at a time; thread-safe."""

    def __init__(self, tools: HostTools) -> None:
        self.tools = tools

    def _skip(self, probe: Probe, reachable: bool, budget: Deadline) -> ProbeAttempt | None:
        """The attempt to record instead of running ``probe``, or None to run it."""
        if self.tools.stop.is_set():
            return ProbeAttempt(
                probe.name,
                Outcome.NOT_RUN,
                reason=Reason.INTERRUPTED,
                detail="the audit was stopped",
            )
        if not reachable:
            return ProbeAttempt(
                probe.name,
                Outcome.NOT_RUN,
                reason=Reason.NOT_APPLICABLE,
                detail=self.tools.offline_detail,
            )
        if budget.remaining() <= 0:
            return ProbeAttempt(
                probe.name,
                Outcome.FAILED,
                reason=Reason.TIMEOUT,
                detail=f"not run: the host's {self.tools.budget_s:.0f} s time budget was spent",
            )
        return None

    def _run_probes(
        self,
        host: Host,
        probes: Sequence[Probe],
        reachable: bool,
        seconds: float,
        attempts: list[ProbeAttempt],
    ) -> float:
        """Run ``probes`` in order under a ``seconds`` budget; return the budget left."""
        ctx = self.tools.ctx
        # One host may not hold a worker for long, whatever each probe's own budget allows:
        # ten probes at PROBE_FACTOR x timeout each could take five minutes on a hostile device.
        # The budget is hard: every probe's deadline is cut to what is left of it.
        with host_budget(max(0.0, seconds)) as budget:
            for probe in probes:
                skip = self._skip(probe, reachable, budget)
                if skip is not None:
                    attempts.append(skip)
                    continue
                # Later probes see earlier evidence through the host they are given.
                seen = _with_evidence(host, attempts)
                attempts.append(attempt(probe, seen, ctx))
            return budget.remaining()

    def audit(self, host: Host, refresh: Refresh | None = None) -> DeviceResult:
        # HTTP connections the device keeps open serve all of its probes (auditor/net/keepalive).
        with kept_connections():
            return self._audit(host, refresh)

    def _audit(self, host: Host, refresh: Refresh | None) -> DeviceResult:
        tools = self.tools
        reachable = host.address in tools.ctx.scope
        attempts: list[ProbeAttempt] = []
        probes = list(tools.probes)
        split = next((i for i, p in enumerate(probes) if p.name in EVIDENCE_GATED), len(probes))
        left = self._run_probes(host, probes[:split], reachable, tools.budget_s, attempts)
        if refresh is not None and reachable and not tools.stop.is_set():
            # The wait for a channel (if any) is not the device's time: not charged to it.
            host = refresh(host, _probe_evidence(attempts))
        left = self._run_probes(host, probes[split:], reachable, left, attempts)
        # A device may echo what it was sent (the Authorization value in its ISAPI <model>):
        # credentials are taken out of every device value before anything names, stores or
        # renders it.
        device = redact.device(tools.ctx.secrets, DeviceResult(host=host, attempts=tuple(attempts)))
        if device.unconfirmed and reachable and left > 0:
            device = self._check_unicast(device)
        return self.finish(device)

    def finish(self, device: DeviceResult) -> DeviceResult:
        """Identify and assess a probed host (or say why it is not believed)."""
        tools = self.tools
        if device.unconfirmed:
            # A discovery reply alone names no maker: its source may be forged, and a forged
            # flood of "Hikvision" ProbeMatches must not become critical findings (issue 13).
            # Not assessed either: it is not known to be a device, so no finding or action is
            # listed for it; the audit's notes and summary count it instead.
            return replace(device, identification=Identification.unknown((UNCONFIRMED_RATIONALE,)))
        identification = tools.identifier.identify(device.observations)
        assessment = tools.assessor.assess(identification, tools.audience)
        device = replace(
            device,
            identification=identification,
            exposures=assessment.exposures,
            remediation=assessment.remediation,
        )
        return tools.vulns.device(device, tools.matcher, tools.audience)

    def _check_unicast(self, device: DeviceResult) -> DeviceResult:
        """Give a host that only discovery replies named one unicast check of its own."""
        if self.tools.stop.is_set():
            return device
        tried = any(a.reason in (Reason.TIMEOUT, Reason.UNREACHABLE) for a in device.attempts)
        how = self.tools.unicast(self.tools.ctx, device.host.address, tried)
        if how is None:
            return device
        logger.debug("%s answered a unicast check (%s)", device.host.address, how)
        seen = device.host.seen_by | {Channel.UNICAST}
        return replace(device, host=replace(device.host, seen_by=seen))


def _probe_evidence(attempts: Sequence[ProbeAttempt]) -> tuple[Observation, ...]:
    return tuple(o for a in attempts for o in a.observations)


def _with_evidence(host: Host, attempts: Sequence[ProbeAttempt]) -> Host:
    extra = _probe_evidence(attempts)
    return replace(host, observations=host.observations + extra) if extra else host
