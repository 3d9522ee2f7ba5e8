"""Device values with the user's credentials taken out, before they are stored or rendered.

A device can echo what it was sent: the decoded Authorization value in its ISAPI ``<model>``, the
password in a SOAP fault. Every device-supplied string of a host's result goes through the
audit's :class:`~auditor.credentials.Redactor` once, in the engine, so the identification, the
store and every report format see the redacted value only.
"""

from __future__ import annotations

from dataclasses import replace

from auditor.credentials import Redactor
from auditor.models import DeviceResult, Host, Observation, OutOfScopeReference, ProbeAttempt


def observation(redactor: Redactor, obs: Observation) -> Observation:
    value = redactor.text(obs.value)
    return obs if value == obs.value else replace(obs, value=value)


def host(redactor: Redactor, h: Host) -> Host:
    services = tuple(
        replace(
            s,
            name=redactor.opt_text(s.name),
            product=redactor.opt_text(s.product),
            version=redactor.opt_text(s.version),
            extrainfo=redactor.opt_text(s.extrainfo),
            device_type=redactor.opt_text(s.device_type),
        )
        for s in h.services
    )
    return replace(
        h,
        mac_vendor=redactor.opt_text(h.mac_vendor),
        services=services,
        endpoint_ids=frozenset(redactor.text(e) for e in h.endpoint_ids),
        observations=tuple(observation(redactor, o) for o in h.observations),
    )


def attempt(redactor: Redactor, a: ProbeAttempt) -> ProbeAttempt:
    return replace(
        a,
        detail=redactor.text(a.detail),
        observations=tuple(observation(redactor, o) for o in a.observations),
    )


def device(redactor: Redactor, d: DeviceResult) -> DeviceResult:
    """The result with every device string redacted (before identification: the model and
    serial it names come from these values)."""
    if not redactor:
        return d
    return replace(
        d,
        host=host(redactor, d.host),
        attempts=tuple(attempt(redactor, a) for a in d.attempts),
    )


def reference(redactor: Redactor, ref: OutOfScopeReference) -> OutOfScopeReference:
    return replace(ref, address=redactor.text(ref.address), via=redactor.text(ref.via))
