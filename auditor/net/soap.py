"""Hand-written SOAP 1.2 for the few ONVIF device-service calls camaudit makes (docs/decisions.md,
"ONVIF without onvif-zeep"): envelopes, and a reader (``auditor.net.safexml``) that keeps fault
subcodes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import unquote

from auditor.context import MAX_READ_BYTES
from auditor.errors import ProbeError
from auditor.models import Reason
from auditor.net import safexml
from auditor.net.safexml import Element

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
TDS = "http://www.onvif.org/ver10/device/wsdl"


def envelope(body: str, security: str = "") -> bytes:
    header = f"<s:Header>{security}</s:Header>" if security else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<s:Envelope xmlns:s="{SOAP12}" xmlns:tds="{TDS}">'
        f"{header}<s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


def local(tag: object) -> str:
    """The local part of an ElementTree tag (``{ns}Name`` -> ``Name``)."""
    text = tag if isinstance(tag, str) else ""
    return text.rsplit("}", 1)[-1]


def find_all(root: Element, name: str) -> list[Element]:
    """Every descendant with this local name, whatever prefix or namespace the device used."""
    return [e for e in root.iter() if local(e.tag) == name]


def find_text(root: Element, name: str) -> str | None:
    for e in find_all(root, name):
        return (e.text or "").strip()
    return None


@dataclass(frozen=True, slots=True)
class SoapFault:
    code: str
    subcodes: tuple[str, ...]
    reason: str

    @property
    def not_authorized(self) -> bool:
        return any(s.rsplit(":", 1)[-1] == "NotAuthorized" for s in self.subcodes) or (
            "not authorized" in self.reason.lower()
        )

    def describe(self) -> str:
        chain = " / ".join((self.code, *self.subcodes))
        return f"{chain}: {self.reason}"[:300]


@dataclass(frozen=True, slots=True)
class SoapReply:
    body: Element
    """The first element inside the SOAP Body (the response or the Fault)."""
    fault: SoapFault | None
    text: str
    """The whole envelope as text: the observation value for raw-XML kinds."""


def parse_xml(data: bytes) -> Element:
    """The shared safe parser: DTD, entity and size tricks from a hostile device are MALFORMED."""
    try:
        return safexml.parse(data, limit=MAX_READ_BYTES)
    except safexml.XmlError as exc:
        raise ProbeError(Reason.MALFORMED, str(exc)) from None


def parse_soap(data: bytes) -> SoapReply:
    """A SOAP 1.2 (or 1.1) envelope -> its first body element and fault, if any."""
    root = parse_xml(data)
    if local(root.tag) != "Envelope":
        raise ProbeError(Reason.MALFORMED, f"XML root is {local(root.tag)!r}, not a SOAP Envelope")
    body = next((c for c in root if local(c.tag) == "Body"), None)
    if body is None:
        raise ProbeError(Reason.MALFORMED, "SOAP envelope without a Body")
    first = next(iter(body), None)
    if first is None:
        raise ProbeError(Reason.MALFORMED, "empty SOAP Body")
    fault = _fault(first) if local(first.tag) == "Fault" else None
    return SoapReply(first, fault, data.decode("utf-8", errors="replace"))


def _fault(elem: Element) -> SoapFault:
    code_elem = next((c for c in elem if local(c.tag) == "Code"), None)
    if code_elem is not None:  # SOAP 1.2: Code/Value, Code/Subcode/Value (nested)
        code = ""
        subcodes: list[str] = []
        for child in code_elem:
            if local(child.tag) == "Value":
                code = (child.text or "").strip()
        sub = next((c for c in code_elem if local(c.tag) == "Subcode"), None)
        while sub is not None:
            value = next((c for c in sub if local(c.tag) == "Value"), None)
            if value is not None and (value.text or "").strip():
                subcodes.append((value.text or "").strip())
            sub = next((c for c in sub if local(c.tag) == "Subcode"), None)
        reason = " ".join(
            (t.text or "").strip() for t in find_all(elem, "Text") if (t.text or "").strip()
        )
        return SoapFault(code, tuple(subcodes), reason)
    # SOAP 1.1: faultcode / faultstring
    return SoapFault(find_text(elem, "faultcode") or "", (), find_text(elem, "faultstring") or "")


def device_utc(reply: SoapReply) -> datetime | None:
    """The device's UTC clock from a GetSystemDateAndTime reply; None when absent or invalid."""
    for dt in find_all(reply.body, "UTCDateTime"):
        try:
            parts = {
                name: int(find_text(dt, name) or "")
                for name in ("Year", "Month", "Day", "Hour", "Minute", "Second")
            }
            return datetime(
                parts["Year"],
                parts["Month"],
                parts["Day"],
                parts["Hour"],
                parts["Minute"],
                parts["Second"],
                tzinfo=UTC,
            )
        except (ValueError, OverflowError):
            return None
    return None


def scope_uris(reply: SoapReply) -> list[str]:
    """GetScopes -> the scope URIs, percent-decoded (``name/HIKVISION%20X`` -> ``HIKVISION X``)."""
    out = []
    for item in find_all(reply.body, "ScopeItem"):
        text = (item.text or "").strip()
        if text:
            out.append(unquote(text))
    return out


def xaddrs(xml_text: str) -> list[str]:
    """The device-service URLs in a WS-Discovery ProbeMatch (or Hello)."""
    root = parse_xml(xml_text.encode("utf-8", errors="replace"))
    return [u for e in find_all(root, "XAddrs") for u in (e.text or "").split()]
