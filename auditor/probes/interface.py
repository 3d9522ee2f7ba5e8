"""The contract of a probe: ask one host one read-only question and return what it said."""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable
from enum import StrEnum
from typing import ClassVar

from auditor.context import NetContext
from auditor.errors import ProbeError, ProbeNotRun
from auditor.models import Host, Observation, Outcome, ProbeAttempt, Reason

logger = logging.getLogger(__name__)


class ProbeName(StrEnum):
    """Every probe's name: the key of ``auditor.probes.PROBES`` and of the coverage table, and
    what a report and the store record for each attempt (``ProbeAttempt.probe``)."""

    MAC = "mac"
    HTTP = "http"
    TLS = "tls"
    RTSP = "rtsp"
    BANNER = "banner"
    SNMP = "snmp"
    ONVIF = "onvif"
    DVRIP = "dvrip"
    ISAPI = "isapi"
    DAHUA = "dahua"
    AXIS = "axis"


class Probe(ABC):
    """A read-only question to one host.

    ``run`` returns observations, raises ProbeNotRun when it does not apply (no port, no
    credentials) and ProbeError for expected failures (timeout, refused, malformed). Anything else
    is a bug in camaudit and is recorded as Reason.BUG: one broken probe never stops an audit.
    """

    name: ClassVar[ProbeName]

    @abstractmethod
    def run(self, host: Host, ctx: NetContext) -> Iterable[Observation]:  # pragma: no cover
        ...


class Findings(list[Observation]):
    """What a probe returns when it also has something to say about a completed attempt, e.g.
    "auth required" for an ONVIF call the device refused without credentials (not a failure)."""

    def __init__(self, observations: Iterable[Observation] = (), note: str = "") -> None:
        super().__init__(observations)
        self.note = note


class PartialFailure(ProbeError):
    """A failure after some evidence was already gathered (e.g. the user's credentials were
    refused after the anonymous calls answered): the attempt fails and keeps the evidence."""

    def __init__(self, reason: Reason, detail: str, observations: Iterable[Observation]) -> None:
        super().__init__(reason, detail)
        self.observations = tuple(observations)


def attempt(probe: Probe, host: Host, ctx: NetContext) -> ProbeAttempt:
    """Run ``probe`` against ``host`` and fold every way it can end into a ProbeAttempt."""
    start = time.monotonic()
    try:
        found = probe.run(host, ctx)
        note = found.note if isinstance(found, Findings) else ""
        observations = tuple(found)
    except ProbeNotRun as exc:
        return ProbeAttempt(probe.name, Outcome.NOT_RUN, reason=exc.reason, detail=exc.detail)
    except ProbeError as exc:
        return ProbeAttempt(
            probe.name,
            Outcome.FAILED,
            observations=exc.observations if isinstance(exc, PartialFailure) else (),
            reason=exc.reason,
            detail=exc.detail,
            duration_s=time.monotonic() - start,
        )
    except Exception as exc:
        logger.exception("probe %s crashed on %s", probe.name, host.address)
        return ProbeAttempt(
            probe.name,
            Outcome.FAILED,
            reason=Reason.BUG,
            detail=f"internal error: {type(exc).__name__}",
            duration_s=time.monotonic() - start,
        )
    return ProbeAttempt(
        probe.name,
        Outcome.COMPLETED,
        observations,
        detail=note,
        duration_s=time.monotonic() - start,
    )
