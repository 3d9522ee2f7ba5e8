"""The ONVIF device service (SOAP 1.2 over HTTP POST) of an emulated device.

PRE_AUTH operations answer anonymously; READ_SYSTEM ones (GetDeviceInformation, GetScopes,
GetNetworkInterfaces) need a WS-UsernameToken PasswordDigest whose Created time is within the
device's window, and/or HTTP Digest, per the profile (ONVIF Core access classes; research
protocols.md §2). Failures use the shapes real devices send: HTTP 400 + ter:NotAuthorized, or
HTTP 401 with a Digest challenge.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

from defusedxml import ElementTree as SafeET

from auditor.lab import auth
from auditor.lab.device import Device
from auditor.lab.httpd import Request, Response

if TYPE_CHECKING:
    from auditor.lab.httpd import WebServer

logger = logging.getLogger(__name__)

SOAP_ENV = "http://www.w3.org/2003/05/soap-envelope"
TDS = "http://www.onvif.org/ver10/device/wsdl"
TT = "http://www.onvif.org/ver10/schema"
TER = "http://www.onvif.org/ver10/error"
SOAP_TYPE = "application/soap+xml; charset=utf-8"

PRE_AUTH = frozenset(
    {
        "GetSystemDateAndTime",
        "GetCapabilities",
        "GetServices",
        "GetServiceCapabilities",
        "GetHostname",
        "GetWsdlUrl",
        "GetEndpointReference",
    }
)
READ_SYSTEM = frozenset({"GetDeviceInformation", "GetScopes", "GetNetworkInterfaces"})


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _find(root: Element, name: str) -> Element | None:
    for el in root.iter():
        if _local(el.tag) == name:
            return el
    return None


class OnvifService:
    def __init__(self, device: Device, cfg: Mapping[str, Any]) -> None:
        self.device = device
        self.cfg = cfg
        self.path = str(cfg.get("path", "/onvif/device_service"))
        self.modes = tuple(cfg.get("auth", ("wsse",)))
        self.anonymous = (PRE_AUTH | frozenset(cfg.get("anonymous", ()))) - frozenset(
            cfg.get("protected", ())
        )
        self.prefix = str(cfg.get("prefix", "env"))

    # --- request handling ---------------------------------------------------------------
    def respond(self, req: Request, web: WebServer) -> Response:
        if req.method != "POST":
            return Response(405, b"", None)
        try:
            root = SafeET.fromstring(req.body)
        except Exception:  # defusedxml raises several types; all mean "not a SOAP message"
            return self.fault(400, "Sender", "ter:WellFormed", "Well-formed Error")
        body = _find(root, "Body")
        op_el = next(iter(body), None) if body is not None else None
        if op_el is None:
            return self.fault(400, "Sender", "ter:InvalidArgVal", "No operation")
        op = _local(op_el.tag)
        if op not in self.anonymous:
            denied = self.authenticate(root, req, web)
            if denied is not None:
                return denied
        handler = getattr(self, f"op_{op}", None)
        if handler is None:
            return self.fault(
                400, "Receiver", "ter:ActionNotSupported", "Optional Action Not Implemented"
            )
        return Response(200, self.envelope(handler()).encode("utf-8"), SOAP_TYPE)

    def authenticate(self, root: Element, req: Request, web: WebServer) -> Response | None:
        token = _find(root, "UsernameToken")
        if token is not None and "wsse" in self.modes:
            fields = {_local(el.tag): (el.text or "") for el in token.iter()}
            try:
                auth.check_username_token(
                    fields.get("Username", ""),
                    fields.get("Password", ""),
                    fields.get("Nonce", ""),
                    fields.get("Created", ""),
                    self.device.now(),
                    self.device.username,
                    self.device.password,
                    float(self.cfg.get("time_window", auth.DEFAULT_TIME_WINDOW)),
                )
                req.login, req.presented = "accepted", f"wsse {fields.get('Username', '')}"
                return None
            except auth.TokenRejected as exc:
                logger.debug("%s: UsernameToken rejected: %s", self.device.address, exc.reason)
                req.login, req.presented = "refused", f"wsse {fields.get('Username', '')}"
                return self.not_authorized(web)
        if token is not None:
            # Sent, though this device does not take tokens: the log still shows it arrived.
            req.presented = "wsse (ignored)"
        given = req.headers.get("authorization", "")
        if "digest" in self.modes and given:
            realm = self.device.render(str(self.cfg.get("realm", "lab")))
            if auth.check_digest(
                given, req.method, realm, web.nonces, self.device.username, self.device.password
            ):
                req.login = "accepted"
                return None
        if given:
            req.login = "refused"
        return self.not_authorized(web)

    def not_authorized(self, web: WebServer) -> Response:
        if self.cfg.get("unauthorized", "fault400") == "digest401":
            page = {
                "auth": "digest",
                "realm": self.cfg.get("realm", "lab"),
                "unauthorized": self.cfg.get("unauthorized_page", {}),
            }
            if "challenge" in self.cfg:
                page["challenge"] = self.cfg["challenge"]
            return web.challenge(page, self.device.render(str(page["realm"])))
        return self.fault(400, "Sender", "ter:NotAuthorized", "Sender not Authorized")

    # --- envelopes ----------------------------------------------------------------------
    def envelope(self, body: str) -> str:
        p = self.prefix
        decl = str(self.cfg.get("xml_decl", '<?xml version="1.0" encoding="UTF-8"?>'))
        return (
            f'{decl}\n<{p}:Envelope xmlns:{p}="{SOAP_ENV}" xmlns:tds="{TDS}" xmlns:tt="{TT}" '
            f'xmlns:ter="{TER}"><{p}:Body>{body}</{p}:Body></{p}:Envelope>'
        )

    def fault(self, status: int, code: str, subcode: str, text: str) -> Response:
        p = self.prefix
        body = (
            f"<{p}:Fault><{p}:Code><{p}:Value>{p}:{code}</{p}:Value><{p}:Subcode>"
            f"<{p}:Value>{subcode}</{p}:Value></{p}:Subcode></{p}:Code><{p}:Reason>"
            f'<{p}:Text xml:lang="en">{escape(text)}</{p}:Text></{p}:Reason></{p}:Fault>'
        )
        return Response(status, self.envelope(body).encode("utf-8"), SOAP_TYPE)

    def _r(self, key: str, default: str = "") -> str:
        return escape(self.device.render(str(self.cfg.get(key, default))))

    def xaddr(self, path: str) -> str:
        port = self.device.port(int(self.cfg.get("port", 80)))
        host = self.device.address if port == 80 else f"{self.device.address}:{port}"
        return f"http://{host}{path}"

    # --- operations ---------------------------------------------------------------------
    def op_GetSystemDateAndTime(self) -> str:
        now = self.device.now()
        tz = self._r("timezone", "GMT0")
        return (
            "<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>"
            "<tt:DateTimeType>Manual</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>"
            f"<tt:TimeZone><tt:TZ>{tz}</tt:TZ></tt:TimeZone><tt:UTCDateTime>"
            f"<tt:Time><tt:Hour>{now.hour}</tt:Hour><tt:Minute>{now.minute}</tt:Minute>"
            f"<tt:Second>{now.second}</tt:Second></tt:Time><tt:Date><tt:Year>{now.year}</tt:Year>"
            f"<tt:Month>{now.month}</tt:Month><tt:Day>{now.day}</tt:Day></tt:Date></tt:UTCDateTime>"
            "</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>"
        )

    def op_GetDeviceInformation(self) -> str:
        return (
            "<tds:GetDeviceInformationResponse>"
            f"<tds:Manufacturer>{self._r('manufacturer')}</tds:Manufacturer>"
            f"<tds:Model>{self._r('model', '${model}')}</tds:Model>"
            f"<tds:FirmwareVersion>{self._r('firmware', '${firmware}')}</tds:FirmwareVersion>"
            f"<tds:SerialNumber>{self._r('serial', '${serial}')}</tds:SerialNumber>"
            f"<tds:HardwareId>{self._r('hardware_id')}</tds:HardwareId>"
            "</tds:GetDeviceInformationResponse>"
        )

    def scopes(self) -> list[str]:
        return [self.device.render(str(s)) for s in self.cfg.get("scopes", ())]

    def op_GetScopes(self) -> str:
        items = "".join(
            f"<tds:Scopes><tt:ScopeDef>Fixed</tt:ScopeDef><tt:ScopeItem>{escape(s)}</tt:ScopeItem>"
            "</tds:Scopes>"
            for s in self.scopes()
        )
        return f"<tds:GetScopesResponse>{items}</tds:GetScopesResponse>"

    def op_GetNetworkInterfaces(self) -> str:
        return (
            '<tds:GetNetworkInterfacesResponse><tds:NetworkInterfaces token="eth0">'
            "<tt:Enabled>true</tt:Enabled><tt:Info><tt:Name>eth0</tt:Name>"
            f"<tt:HwAddress>{self.device.mac}</tt:HwAddress><tt:MTU>1500</tt:MTU></tt:Info>"
            "<tt:IPv4><tt:Enabled>true</tt:Enabled><tt:Config><tt:Manual>"
            f"<tt:Address>{self.device.address}</tt:Address><tt:PrefixLength>24</tt:PrefixLength>"
            "</tt:Manual><tt:DHCP>false</tt:DHCP></tt:Config></tt:IPv4>"
            "</tds:NetworkInterfaces></tds:GetNetworkInterfacesResponse>"
        )

    def op_GetCapabilities(self) -> str:
        return (
            "<tds:GetCapabilitiesResponse><tds:Capabilities>"
            f"<tt:Device><tt:XAddr>{self.xaddr(self.path)}</tt:XAddr></tt:Device>"
            f"<tt:Media><tt:XAddr>{self.xaddr('/onvif/Media')}</tt:XAddr></tt:Media>"
            "</tds:Capabilities></tds:GetCapabilitiesResponse>"
        )

    def op_GetServices(self) -> str:
        services = (
            (TDS, self.path, "2", "60"),
            ("http://www.onvif.org/ver10/media/wsdl", "/onvif/Media", "2", "60"),
        )
        items = "".join(
            f"<tds:Service><tds:Namespace>{ns}</tds:Namespace><tds:XAddr>{self.xaddr(path)}"
            f"</tds:XAddr><tds:Version><tt:Major>{major}</tt:Major><tt:Minor>{minor}</tt:Minor>"
            "</tds:Version></tds:Service>"
            for ns, path, major, minor in services
        )
        return f"<tds:GetServicesResponse>{items}</tds:GetServicesResponse>"

    def op_GetHostname(self) -> str:
        name = self._r("hostname", "${model}")
        return (
            "<tds:GetHostnameResponse><tds:HostnameInformation><tt:FromDHCP>false</tt:FromDHCP>"
            f"<tt:Name>{name}</tt:Name></tds:HostnameInformation></tds:GetHostnameResponse>"
        )
