"""Observations: the raw evidence a probe or a discovery channel saw, and the MAC normaliser."""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_MAC_RE = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


def normalise_mac(text: str) -> str:
    """Return a MAC as lower-case colon-separated hex; accept ``-``, ``.`` and bare forms.

    Raises ValueError for anything that is not 48 bits of hex, so a hostile device field
    never becomes a MAC by accident.
    """
    digits = re.sub(r"[^0-9a-fA-F]", "", text)
    if len(digits) != 12 or len(text) > 17:
        raise ValueError(f"not a MAC address: {text!r}")
    digits = digits.lower()
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


class ObservationKind(StrEnum):
    """What an observed string is; fingerprint files declare the kind they match.

    The names are the public contract of `camaudit identify` (JSON Lines in) and of the
    fingerprint files (`matches:`); add members, never rename them.
    """

    HTTP_SERVER = "http.server"
    HTTP_TITLE = "http.title"
    HTTP_WWW_AUTHENTICATE = "http.www_authenticate"
    HTTP_BODY = "http.body"
    HTTP_FAVICON_MD5 = "http.favicon_md5"
    HTTP_HEADER = "http.header"
    HTTP_CLUE = "http.clue"
    RTSP_SERVER = "rtsp.server"
    RTSP_WWW_AUTHENTICATE = "rtsp.www_authenticate"
    RTSP_SDP = "rtsp.sdp"
    TLS_SUBJECT = "tls.subject"
    TLS_ISSUER = "tls.issuer"
    TLS_SAN = "tls.san"
    TLS_VALIDITY = "tls.validity"
    ONVIF_DEVICE_INFORMATION = "onvif.device_information"
    ONVIF_SCOPES = "onvif.scopes"
    ONVIF_PROBE_MATCH = "onvif.probe_match"
    ONVIF_SYSTEM_DATE_TIME = "onvif.system_date_time"
    ONVIF_SERVICES = "onvif.services"
    ONVIF_CLOCK_SKEW = "onvif.clock_skew"
    ONVIF_NETWORK_INTERFACES = "onvif.network_interfaces"
    SADP_PROBE_MATCH = "sadp.probe_match"
    DHIP_REPLY = "dhip.reply"
    XMEYE_REPLY = "xmeye.reply"
    ISAPI_DEVICE_INFO = "isapi.device_info"
    DAHUA_SYSTEM_INFO = "dahua.system_info"
    AXIS_DEVICE_INFO = "axis.device_info"
    DVRIP_SYSTEM_INFO = "dvrip.system_info"
    DVRIP_BANNER = "dvrip.banner"
    MAC = "mac"
    MAC_CLAIMED = "mac.claimed"
    """A MAC that a discovery payload claims and the MAC seen on the wire contradicts."""
    MAC_VENDOR = "mac.vendor"
    SSH_BANNER = "ssh.banner"
    TELNET_BANNER = "telnet.banner"
    FTP_BANNER = "ftp.banner"
    SNMP_SYSDESCR = "snmp.sysdescr"
    SNMP_SYSOBJECTID = "snmp.sysobjectid"
    """The sysObjectID (1.3.6.1.2.1.1.2.0) as a dotted OID, e.g. ``1.3.6.1.4.1.368.4``."""
    SIP_USER_AGENT = "sip.user_agent"
    DHCP_VENDOR_CLASS = "dhcp.vendor_class"
    UPNP_SERVER = "upnp.server"
    UPNP_DESCRIPTION = "upnp.description"
    MDNS_SERVICE = "mdns.service"
    NMAP_SERVICE = "nmap.service"
    HOSTNAME = "hostname"


@dataclass(frozen=True, slots=True)
class Observation:
    """One raw piece of evidence: what was seen, where it came from and when."""

    kind: ObservationKind
    value: str
    """The observed text exactly as received (decoded leniently); never interpreted here."""
    source: str
    """The probe or discovery channel that produced it, e.g. ``"sadp"``, ``"http:80"``."""
    observed_at: datetime
    port: int | None = None
    sha256: str = field(init=False, repr=False, compare=False)
    """A digest of the evidence, so a report reader can check it was not altered."""

    def __post_init__(self) -> None:
        # Accept the plain string form (JSON Lines, the store); reject unknown kinds.
        object.__setattr__(self, "kind", ObservationKind(self.kind))
        if self.observed_at.tzinfo is None:
            raise ValueError("observed_at must be timezone-aware (UTC)")
        if not self.source:
            raise ValueError("an observation must name its source")
        h = hashlib.sha256()
        for part in (self.kind.value, self.source, str(self.port or ""), self.value):
            h.update(part.encode("utf-8", "surrogateescape"))
            h.update(b"\x00")
        # Computed once: reports, the store and de-duplication ask for it many times per value.
        object.__setattr__(self, "sha256", h.hexdigest())
