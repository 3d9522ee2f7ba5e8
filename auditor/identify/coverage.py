"""What each probe and discovery channel emits, and what identification does with it.

One declaration per registry entry (``auditor.probes.PROBES``, ``auditor.discovery.CHANNELS``,
the two inventory imports and the host merge). The test suite reads each entry's source and
fails when it emits a kind that is not declared here, or when a declared kind has neither a
fingerprint file, nor a reader in fusion, nor an ``EVIDENCE_ONLY`` mark: nothing collected is
silently wasted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from auditor.identify.extract import EVIDENCE_ONLY, READ_BY_FUSION
from auditor.models import ObservationKind as K
from auditor.probes.interface import ProbeName as P

PROBE_EMITS: Mapping[P, frozenset[K]] = {
    P.MAC: frozenset({K.MAC, K.MAC_VENDOR}),
    P.HTTP: frozenset(
        {
            K.HTTP_SERVER,
            K.HTTP_TITLE,
            K.HTTP_WWW_AUTHENTICATE,
            K.HTTP_BODY,
            K.HTTP_FAVICON_MD5,
            K.HTTP_HEADER,
            K.HTTP_CLUE,
        }
    ),
    P.TLS: frozenset({K.TLS_SUBJECT, K.TLS_ISSUER, K.TLS_SAN, K.TLS_VALIDITY}),
    P.RTSP: frozenset({K.RTSP_SERVER, K.RTSP_WWW_AUTHENTICATE, K.RTSP_SDP}),
    P.BANNER: frozenset({K.SSH_BANNER, K.TELNET_BANNER, K.FTP_BANNER}),
    P.ONVIF: frozenset(
        {
            K.ONVIF_DEVICE_INFORMATION,
            K.ONVIF_SCOPES,
            K.ONVIF_PROBE_MATCH,
            K.ONVIF_SYSTEM_DATE_TIME,
            K.ONVIF_SERVICES,
            K.ONVIF_CLOCK_SKEW,
            K.ONVIF_NETWORK_INTERFACES,
        }
    ),
    P.DVRIP: frozenset({K.DVRIP_BANNER, K.DVRIP_SYSTEM_INFO}),
    P.ISAPI: frozenset({K.ISAPI_DEVICE_INFO}),
    P.DAHUA: frozenset({K.DAHUA_SYSTEM_INFO}),
    P.AXIS: frozenset({K.AXIS_DEVICE_INFO}),
    P.SNMP: frozenset({K.SNMP_SYSDESCR, K.SNMP_SYSOBJECTID}),
}
"""Probe name (``auditor.probes.PROBES``) -> the kinds its observations carry."""

CHANNEL_EMITS: Mapping[str, frozenset[K]] = {
    "nmap": frozenset({K.MAC, K.MAC_VENDOR, K.HOSTNAME, K.NMAP_SERVICE}),
    "ws-discovery": frozenset({K.ONVIF_PROBE_MATCH, K.ONVIF_SCOPES}),
    "sadp": frozenset({K.SADP_PROBE_MATCH}),
    "dhip": frozenset({K.DHIP_REPLY}),
    "xmeye": frozenset({K.XMEYE_REPLY}),
    "ssdp": frozenset({K.UPNP_SERVER, K.UPNP_DESCRIPTION}),
    "mdns": frozenset({K.MDNS_SERVICE}),
    "import-nmap": frozenset({K.MAC, K.MAC_VENDOR, K.HOSTNAME, K.NMAP_SERVICE}),
    "import-csv": frozenset({K.MAC, K.MAC_VENDOR, K.HOSTNAME}),
    "merge": frozenset({K.MAC_CLAIMED}),
}
"""Discovery channel (``auditor.discovery.CHANNELS``, imports, the host merge) -> its kinds."""


def unread(kinds: Iterable[K], fingerprint_kinds: Iterable[K]) -> list[K]:
    """The kinds nothing reads: no fingerprint file, no fusion reader, not evidence-only."""
    files = set(fingerprint_kinds)
    return sorted(
        (k for k in kinds if k not in files and k not in READ_BY_FUSION and k not in EVIDENCE_ONLY),
        key=lambda k: k.value,
    )


def emitted() -> frozenset[K]:
    """Every kind a probe or channel declares."""
    out: set[K] = set()
    for kinds in (*PROBE_EMITS.values(), *CHANNEL_EMITS.values()):
        out |= kinds
    return frozenset(out)
