"""Who gets the user's credentials, and when: the one place every credentialed probe asks.

Rules (issue 13; README, "Security"):

- A vendor API is asked with credentials only where the evidence gathered so far (discovery and
  the anonymous probes before it) points to that vendor or its OEM family: ISAPI for Hikvision
  and its relabels, magicBox for Dahua and its relabels, param.cgi for Axis. A printer, a NAS or
  another vendor's camera never receives them.
- DVRIP logs in only to a device that identified as DVRIP-speaking (an XMEye discovery reply, or
  Xiongmai platform evidence), never to any host merely because 34567 is open.
- At most one refused login per device and credential set (:class:`~auditor.credentials.
  LoginLedger`): a later probe on that device skips its credentialed calls and says why.
- HTTP Basic over plain HTTP is refused unless the credentials file allows it for the target
  (:class:`auditor.net.auth.CredentialsWithheld`, raised by the HTTP exchange).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from auditor.context import NetContext
from auditor.credentials import Credential
from auditor.errors import ProbeNotRun
from auditor.identify import Identifier
from auditor.models import Host, Observation, ObservationKind, Reason

#: Evidence -> the vendors (true manufacturers) it points to.
VendorEvidence = Callable[[Iterable[Observation]], frozenset[str]]


def vendors_in_evidence(observations: Iterable[Observation]) -> frozenset[str]:
    """Every maker the evidence names: the identified manufacturer, each fingerprint's
    ``hw.vendor`` (also the losing ones: a conflict still points at the vendor), and the maker
    behind each presented brand (brands.yaml), so an OEM relabel counts for its platform."""
    identifier = Identifier.default()
    ident = identifier.identify(observations)
    found: set[str] = set()
    if ident.manufacturer:
        found.add(ident.manufacturer)
    for link in ident.evidence:
        for name, value in link.asserts:
            if name == "hw.vendor" and value:
                found.add(value)
            elif name == "hw.brand" and value:
                row = identifier.data.brands.lookup(value)
                if row is not None:
                    found.add(row.maker_for_model(ident.model)[0])
    return frozenset(v.casefold() for v in found)


def named_as_video_device(observations: Iterable[Observation]) -> bool:
    """Does the evidence so far identify a camera, recorder or other video device?"""
    return Identifier.default().identify(observations).device_type.is_video


def credential_for(
    host: Host, ctx: NetContext, what: str, applies: Callable[[], None] = lambda: None
) -> Credential:
    """The user's credential for ``host``, or ProbeNotRun saying why none is sent: no
    credentials, then ``applies()`` (raises when the probe is not for this device), then an
    earlier refusal by this device."""
    credential = ctx.credentials.for_host(host.address)
    if credential is None:
        raise ProbeNotRun(Reason.NO_CREDENTIALS, f"no credentials given for {what}")
    applies()
    withheld = ctx.logins.withheld_detail(host.address, credential)
    if withheld is not None:
        raise ProbeNotRun(Reason.WITHHELD, withheld)
    return credential


def require_vendor(
    host: Host, family: str, what: str, evidence: VendorEvidence = vendors_in_evidence
) -> None:
    """ProbeNotRun unless the evidence so far points to ``family`` (a canonical maker name)."""
    if family.casefold() not in evidence(host.observations):
        raise ProbeNotRun(
            Reason.NOT_APPLICABLE,
            f"{what} not asked: nothing so far points to a {family} platform, and credentials "
            "go only to the vendor's own API",
        )


def speaks_dvrip(host: Host, evidence: VendorEvidence = vendors_in_evidence) -> bool:
    """Did the device identify as a DVRIP (Xiongmai NETIP) device before any login?"""
    if any(o.kind is ObservationKind.XMEYE_REPLY for o in host.observations):
        return True
    for service in host.services:
        text = " ".join(filter(None, (service.name, service.product))).casefold()
        if "dvrip" in text or "netsurveillance" in text or "xiongmai" in text:
            return True
    return "xiongmai" in evidence(host.observations)
