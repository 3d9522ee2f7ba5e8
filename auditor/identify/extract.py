"""Safe extractors: turn structured observations (XML, JSON, key=value) into flat text fields.

Fingerprints then match either the raw text or one named field. Every extractor takes an
untrusted device string and returns a ``Fields`` mapping or raises ``ExtractError``; nothing
else escapes (hostile input is the normal case here, so the matcher must never crash on it).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import unquote

from auditor.models import ObservationKind
from auditor.net import safexml

Fields = Mapping[str, str]

#: Device replies above this size are not parsed (a camera's deviceInfo is a few KiB).
MAX_INPUT_CHARS = 256 * 1024
#: JSON nesting deeper than this is hostile or broken; real DHIP/DVRIP replies nest 3-4 deep.
MAX_JSON_DEPTH = 12
#: Cap the number of fields kept so a flood of keys cannot blow up memory.
MAX_FIELDS = 512
#: Each field value is truncated to this length before matching.
MAX_FIELD_CHARS = 1024


class ExtractError(ValueError):
    """The observation could not be parsed into fields (malformed, too large, wrong shape)."""


def _check_size(text: str) -> None:
    if len(text) > MAX_INPUT_CHARS:
        raise ExtractError(f"input too large to parse ({len(text)} chars > {MAX_INPUT_CHARS})")


def _local(tag: object) -> str:
    if not isinstance(tag, str):  # comments and processing instructions have callable tags
        return ""
    return tag.rsplit("}", 1)[-1]


def _namespace(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def _parse_xml(text: str) -> safexml.Element:
    _check_size(text)
    try:
        root: safexml.Element = safexml.parse(text, limit=MAX_INPUT_CHARS)
    except safexml.XmlError as exc:  # DTDs (with or without entities) are refused too
        raise ExtractError(f"malformed XML: {exc}") from None
    return root


def _put(fields: dict[str, str], key: str, value: str) -> None:
    # The first occurrence wins: device descriptions put the device's own values first, and
    # embedded sub-devices (UPnP) or repeated elements must not override them.
    if key and key not in fields and len(fields) < MAX_FIELDS:
        fields[key] = value.strip()[:MAX_FIELD_CHARS]


def _xml_leaves(root: safexml.Element) -> dict[str, str]:
    fields: dict[str, str] = {"xmlns": _namespace(root.tag) if isinstance(root.tag, str) else ""}
    fields["root"] = _local(root.tag)
    for elem in root.iter():
        name = _local(elem.tag)
        if name and len(elem) == 0 and elem.text and elem.text.strip():
            _put(fields, name, elem.text)
    return fields


def xml_fields(text: str) -> dict[str, str]:
    """Leaf elements of an XML document by local name (namespaces dropped), plus the root name."""
    return _xml_leaves(_parse_xml(text))


def scope_fields(text: str) -> dict[str, str]:
    """ONVIF scope URIs (whitespace-separated) into ``category`` -> percent-decoded value.

    ``onvif://www.onvif.org/name/HIKVISION%20DS-2CD2143G2-I`` gives ``name`` = ``HIKVISION
    DS-2CD2143G2-I``. Repeated categories (type, Profile) are joined with a space. Vendor scopes
    outside onvif.org keep their whole path under ``other``.
    """
    _check_size(text)
    fields: dict[str, str] = {}
    last = ""
    for uri in text.split():
        if "://" not in uri:
            # Some devices and tools put scopes un-encoded ("hardware/DINION IP bullet"): a word
            # without a scheme continues the previous scope's value.
            if last:
                fields[last] = f"{fields[last]} {unquote(uri)}"[:MAX_FIELD_CHARS]
            continue
        rest = uri.split("://", 1)[1]
        host, _, path = rest.partition("/")
        if host.lower() != "www.onvif.org":
            key, value = "other", unquote(rest)
        else:
            category, _, value = path.partition("/")
            key, value = category.lower(), unquote(value)
        value = value[:MAX_FIELD_CHARS]
        if key in fields:
            fields[key] = f"{fields[key]} {value}"[:MAX_FIELD_CHARS]
        elif len(fields) < MAX_FIELDS:
            fields[key] = value
        last = key if key in fields else ""
    if not fields:
        raise ExtractError("no scope URIs found")
    return fields


def probe_match_fields(text: str) -> dict[str, str]:
    """A WS-Discovery ProbeMatch: its scopes (as scope_fields) plus types, xaddrs, endpoint."""
    root = _parse_xml(text)
    leaves = _xml_leaves(root)
    fields: dict[str, str] = {}
    scopes = leaves.get("Scopes", "")
    if scopes:
        with contextlib.suppress(ExtractError):
            fields.update(scope_fields(scopes))
    for src, dst in (("Types", "types"), ("XAddrs", "xaddrs"), ("Address", "endpoint")):
        if src in leaves:
            fields[dst] = leaves[src]
    if not fields:
        raise ExtractError("no ProbeMatch content (Scopes/Types/XAddrs) found")
    return fields


def _walk_json(value: Any, fields: dict[str, str], depth: int) -> None:
    if depth > MAX_JSON_DEPTH:
        raise ExtractError(f"JSON nested deeper than {MAX_JSON_DEPTH}")
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)):
                _walk_json(item, fields, depth + 1)
            elif item is not None and not isinstance(item, bool):
                _put(fields, str(key), str(item))
    elif isinstance(value, list):
        for item in value[:MAX_FIELDS]:
            _walk_json(item, fields, depth + 1)


def json_fields(text: str) -> dict[str, str]:
    """Scalar leaves of a JSON document by key (first occurrence wins)."""
    _check_size(text)
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ExtractError(f"malformed JSON: {exc}") from None
    fields: dict[str, str] = {}
    _walk_json(doc, fields, 0)
    if not fields:
        raise ExtractError("JSON holds no scalar fields")
    return fields


_KV = re.compile(r"^\s*([A-Za-z0-9_.\[\]-]{1,80})\s*[=:]\s?(.*?)\s*$")


def keyvalue_fields(text: str) -> dict[str, str]:
    """``key=value`` lines (Dahua magicBox/CGI replies); a dotted key also keeps its leaf."""
    _check_size(text)
    fields: dict[str, str] = {}
    for line in text.splitlines():
        m = _KV.match(line)
        if m:
            key, value = m.group(1), m.group(2)
            _put(fields, key, value)
            if "." in key:
                _put(fields, key.rsplit(".", 1)[-1], value)
    if not fields:
        raise ExtractError("no key=value lines found")
    return fields


_MDNS_LINE = re.compile(r"^(PTR|SRV|TXT|A|AAAA) (\S+) ?(.*)$")


def mdns_fields(text: str) -> dict[str, str]:
    """camaudit's mDNS answer lines (``PTR <service> <instance>``, ``TXT <instance> k=v ...``).

    Gives ``service`` (the service types, space-joined), ``instance`` (the first instance
    label, e.g. "AXIS M3045-V - ACCC8E123456"), ``host`` (the SRV target) and every TXT key
    (lower-cased) with its value; a Recog-style bare TXT string also yields its keys.
    """
    _check_size(text)
    fields: dict[str, str] = {}
    services: list[str] = []
    for line in text.splitlines():
        m = _MDNS_LINE.match(line.strip())
        if m is None:
            continue
        rtype, name, rest = m.groups()
        if rtype == "PTR":
            services.append(name.removesuffix(".local"))
            label, sep, _ = rest.partition("._")
            if sep:
                _put(fields, "instance", label)
        elif rtype == "SRV":
            _put(fields, "host", rest.rsplit(" ", 1)[-1])
        elif rtype == "TXT":
            label, sep, _ = name.partition("._")
            if sep:
                _put(fields, "instance", label)
            for item in rest.split(" "):
                key, eq, value = item.partition("=")
                if eq and key:
                    _put(fields, key.lower(), value)
    if services:
        fields["service"] = " ".join(dict.fromkeys(services))[:MAX_FIELD_CHARS]
    if not fields:
        raise ExtractError("no mDNS PTR/SRV/TXT lines found")
    return fields


def axis_fields(text: str) -> dict[str, str]:
    """Axis device information: ``key=value`` lines (param.cgi) or JSON (basicdeviceinfo).

    The credentialed Axis probe writes ``root.Brand.ProdNbr=M3045-V`` style lines; the
    basicdeviceinfo API answers JSON. Both give their leaf keys ("ProdNbr", "SerialNumber").
    """
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        return json_fields(text)
    return keyvalue_fields(text)


Extractor = Callable[[str], Mapping[str, str]]

EXTRACTORS: dict[ObservationKind, Extractor] = {
    ObservationKind.ONVIF_DEVICE_INFORMATION: xml_fields,
    ObservationKind.ONVIF_SCOPES: scope_fields,
    ObservationKind.ONVIF_PROBE_MATCH: probe_match_fields,
    ObservationKind.SADP_PROBE_MATCH: xml_fields,
    ObservationKind.DHIP_REPLY: json_fields,
    ObservationKind.XMEYE_REPLY: json_fields,
    ObservationKind.ISAPI_DEVICE_INFO: xml_fields,
    ObservationKind.DAHUA_SYSTEM_INFO: keyvalue_fields,
    ObservationKind.AXIS_DEVICE_INFO: axis_fields,
    ObservationKind.DVRIP_SYSTEM_INFO: json_fields,
    ObservationKind.UPNP_DESCRIPTION: xml_fields,
    ObservationKind.MDNS_SERVICE: mdns_fields,
}


#: Kinds kept as evidence only: no fingerprint reads them (a clock, a service list, a claimed MAC
#: the wire contradicts). Every other kind needs a fingerprint file, or fusion's own reader
#: (MAC, MAC vendor through the IEEE registry), or its collected evidence would be wasted.
EVIDENCE_ONLY: frozenset[ObservationKind] = frozenset(
    {
        ObservationKind.ONVIF_SYSTEM_DATE_TIME,
        ObservationKind.ONVIF_SERVICES,
        ObservationKind.ONVIF_CLOCK_SKEW,
        ObservationKind.ONVIF_NETWORK_INTERFACES,
        ObservationKind.TLS_VALIDITY,
        ObservationKind.TLS_SAN,
        ObservationKind.HTTP_BODY,
        ObservationKind.HOSTNAME,
    }
)
#: Kinds that fusion reads itself through the vendor registry, with no fingerprint file needed.
READ_BY_FUSION: frozenset[ObservationKind] = frozenset(
    {ObservationKind.MAC, ObservationKind.MAC_CLAIMED, ObservationKind.MAC_VENDOR}
)


def extract(kind: ObservationKind, text: str) -> Mapping[str, str]:
    """The fields of a structured observation; an empty mapping for raw-text kinds."""
    extractor = EXTRACTORS.get(kind)
    if extractor is None:
        return {}
    return extractor(text)


def iter_structured_kinds() -> Iterator[ObservationKind]:
    return iter(EXTRACTORS)
