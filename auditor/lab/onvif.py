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
from xml.sax.saxutils import escape

from auditor.lab import auth
from auditor.lab.device import Device
from auditor.lab.httpd import Request, Response
from auditor.net import safexml
from auditor.net.safexml import Element

if TYPE_CHECKING:
    from auditor.lab.httpd import WebServer

logger = logging.getLogger(__name__)

SOAP_ENV = "http://www.w3.org/2003/05/soap-envelope"
TDS = "http://www.onvif.org/ver10/device/wsdl"
TT = "http://www.onvif.org/ver10/schema"
TER = "http://www.onvif.org/ver10/error"
TRT = "http://www.onvif.org/ver10/media/wsdl"
MEDIA_PATH = "/onvif/Media"
PROFILE_TOKEN = "Profile_1"
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
#: Media service operations (ONVIF Media WSDL ver10); all need credentials (READ_MEDIA class).
MEDIA_OPS = frozenset({"GetProfiles", "GetStreamUri", "GetVideoSources", "GetServiceCapabilities"})
#: Media operations a real device answers before authentication (Core access class PRE_AUTH).
MEDIA_PRE_AUTH = frozenset({"GetServiceCapabilities"})


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
        self.media_path = str(cfg.get("media_path", MEDIA_PATH))
        self.paths = frozenset({self.path, self.media_path})

    # --- request handling ---------------------------------------------------------------
    def respond(self, req: Request, web: WebServer) -> Response:
        if req.method != "POST":
            return Response(405, b"", None)
        try:
            root = safexml.parse(req.body)
        except safexml.XmlError:  # malformed, hostile or oversize: "not a SOAP message"
            return self.fault(400, "Sender", "ter:WellFormed", "Well-formed Error")
        body = _find(root, "Body")
        op_el = next(iter(body), None) if body is not None else None
        if op_el is None:
            return self.fault(400, "Sender", "ter:InvalidArgVal", "No operation")
        op = _local(op_el.tag)
        media = req.path == self.media_path and req.path != self.path
        anonymous = MEDIA_PRE_AUTH if media else self.anonymous
        if op not in anonymous:
            denied = self.authenticate(root, req, web)
            if denied is not None:
                return denied
        if media:
            handler = getattr(self, f"media_{op}", None) if op in MEDIA_OPS else None
            if handler is None:
                return self.fault(
                    400, "Receiver", "ter:ActionNotSupported", "Optional Action Not Implemented"
                )
            body = handler(op_el)
            status = 400 if body.startswith(f"<{self.prefix}:Fault>") else 200
            return Response(status, self.envelope(body).encode("utf-8"), SOAP_TYPE)
        handler = getattr(self, f"op_{op}", None)
        if handler is None:
            return self.fault(
                400, "Receiver", "ter:ActionNotSupported", "Optional Action Not Implemented"
            )
        return Response(200, self.envelope(handler(op_el)).encode("utf-8"), SOAP_TYPE)

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
            f'xmlns:ter="{TER}" xmlns:trt="{TRT}"><{p}:Body>{body}</{p}:Body></{p}:Envelope>'
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
    def op_GetSystemDateAndTime(self, req: Element | None = None) -> str:
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

    def op_GetDeviceInformation(self, req: Element | None = None) -> str:
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
        # One device, one scope list: without its own list the service answers with the scopes
        # its WS-Discovery ProbeMatch announces (a real device keeps a single list for both).
        scopes = self.cfg.get("scopes")
        if scopes is None:
            scopes = self.device.profile.services.get("wsd", {}).get("scopes", ())
        return [self.device.render(str(s)) for s in scopes]

    def op_GetScopes(self, req: Element | None = None) -> str:
        items = "".join(
            f"<tds:Scopes><tt:ScopeDef>Fixed</tt:ScopeDef><tt:ScopeItem>{escape(s)}</tt:ScopeItem>"
            "</tds:Scopes>"
            for s in self.scopes()
        )
        return f"<tds:GetScopesResponse>{items}</tds:GetScopesResponse>"

    def op_GetNetworkInterfaces(self, req: Element | None = None) -> str:
        return (
            '<tds:GetNetworkInterfacesResponse><tds:NetworkInterfaces token="eth0">'
            "<tt:Enabled>true</tt:Enabled><tt:Info><tt:Name>eth0</tt:Name>"
            f"<tt:HwAddress>{self.device.mac}</tt:HwAddress><tt:MTU>1500</tt:MTU></tt:Info>"
            "<tt:IPv4><tt:Enabled>true</tt:Enabled><tt:Config><tt:Manual>"
            f"<tt:Address>{self.device.address}</tt:Address><tt:PrefixLength>24</tt:PrefixLength>"
            "</tt:Manual><tt:DHCP>false</tt:DHCP></tt:Config></tt:IPv4>"
            "</tds:NetworkInterfaces></tds:GetNetworkInterfacesResponse>"
        )

    def op_GetCapabilities(self, req: Element | None = None) -> str:
        return (
            "<tds:GetCapabilitiesResponse><tds:Capabilities>"
            f"<tt:Device><tt:XAddr>{self.xaddr(self.path)}</tt:XAddr></tt:Device>"
            f"<tt:Media><tt:XAddr>{self.xaddr(self.media_path)}</tt:XAddr>"
            "<tt:StreamingCapabilities><tt:RTPMulticast>false</tt:RTPMulticast>"
            "<tt:RTP_TCP>true</tt:RTP_TCP><tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP>"
            "</tt:StreamingCapabilities></tt:Media>"
            "</tds:Capabilities></tds:GetCapabilitiesResponse>"
        )

    def op_GetServices(self, req: Element | None = None) -> str:
        # IncludeCapability (xs:boolean: "true" or "1") asks for each service's capabilities.
        flag = _find(req, "IncludeCapability") if req is not None else None
        include = flag is not None and (flag.text or "").strip().lower() in ("true", "1")
        services = (
            (TDS, self.path, self.device_capabilities()),
            (TRT, self.media_path, self.media_capabilities()),
        )
        items = "".join(
            f"<tds:Service><tds:Namespace>{ns}</tds:Namespace><tds:XAddr>{self.xaddr(path)}"
            "</tds:XAddr>"
            + (f"<tds:Capabilities>{caps}</tds:Capabilities>" if include else "")
            + "<tds:Version><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tds:Version>"
            "</tds:Service>"
            for ns, path, caps in services
        )
        return f"<tds:GetServicesResponse>{items}</tds:GetServicesResponse>"

    def device_capabilities(self) -> str:
        digest = "true" if "digest" in self.modes else "false"
        token = "true" if "wsse" in self.modes else "false"
        return (
            '<tds:Capabilities><tds:Network IPFilter="false" ZeroConfiguration="false" '
            'IPVersion6="false" DynDNS="false"/>'
            f'<tds:Security UsernameToken="{token}" HttpDigest="{digest}"/>'
            '<tds:System DiscoveryResolve="false" DiscoveryBye="true" RemoteDiscovery="false" '
            'SystemBackup="false" SystemLogging="false" FirmwareUpgrade="false"/>'
            "</tds:Capabilities>"
        )

    def media_capabilities(self) -> str:
        return (
            '<trt:Capabilities SnapshotUri="false" Rotation="false">'
            '<trt:ProfileCapabilities MaximumNumberOfProfiles="1"/>'
            '<trt:StreamingCapabilities RTPMulticast="false" RTP_TCP="true" RTP_RTSP_TCP="true"/>'
            "</trt:Capabilities>"
        )

    def op_GetServiceCapabilities(self, req: Element | None = None) -> str:
        return (
            f"<tds:GetServiceCapabilitiesResponse>{self.device_capabilities()}"
            "</tds:GetServiceCapabilitiesResponse>"
        )

    # --- media service (read-only: profiles and the stream URI, nothing is configured) ----
    def media_GetServiceCapabilities(self, req: Element) -> str:
        return (
            f"<trt:GetServiceCapabilitiesResponse>{self.media_capabilities()}"
            "</trt:GetServiceCapabilitiesResponse>"
        )

    def media_GetProfiles(self, req: Element) -> str:
        return f"<trt:GetProfilesResponse>{self.profile_xml('Profiles')}</trt:GetProfilesResponse>"

    def profile_xml(self, element: str) -> str:
        return (
            f'<trt:{element} token="{PROFILE_TOKEN}" fixed="true"><tt:Name>mainStream</tt:Name>'
            '<tt:VideoSourceConfiguration token="VideoSourceConfig_1"><tt:Name>VideoSource_1'
            "</tt:Name><tt:UseCount>1</tt:UseCount><tt:SourceToken>VideoSource_1</tt:SourceToken>"
            '<tt:Bounds x="0" y="0" width="1920" height="1080"/></tt:VideoSourceConfiguration>'
            '<tt:VideoEncoderConfiguration token="VideoEncoderConfig_1"><tt:Name>VideoEncoder_1'
            "</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding>"
            "<tt:Resolution><tt:Width>1920</tt:Width><tt:Height>1080</tt:Height></tt:Resolution>"
            "<tt:Quality>4</tt:Quality><tt:RateControl><tt:FrameRateLimit>25</tt:FrameRateLimit>"
            "<tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>4096</tt:BitrateLimit>"
            "</tt:RateControl><tt:H264><tt:GovLength>50</tt:GovLength>"
            "<tt:H264Profile>Main</tt:H264Profile></tt:H264><tt:Multicast><tt:Address>"
            "<tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address>"
            "<tt:Port>0</tt:Port><tt:TTL>1</tt:TTL><tt:AutoStart>false</tt:AutoStart>"
            "</tt:Multicast><tt:SessionTimeout>PT60S</tt:SessionTimeout>"
            "</tt:VideoEncoderConfiguration>"
            f"</trt:{element}>"
        )

    def media_GetVideoSources(self, req: Element) -> str:
        return (
            '<trt:GetVideoSourcesResponse><trt:VideoSources token="VideoSource_1">'
            "<tt:Framerate>25</tt:Framerate><tt:Resolution><tt:Width>1920</tt:Width>"
            "<tt:Height>1080</tt:Height></tt:Resolution></trt:VideoSources>"
            "</trt:GetVideoSourcesResponse>"
        )

    def media_GetStreamUri(self, req: Element) -> str:
        token = _find(req, "ProfileToken")
        if token is None or (token.text or "").strip() != PROFILE_TOKEN:
            return self.media_fault_no_profile()
        return (
            "<trt:GetStreamUriResponse><trt:MediaUri>"
            f"<tt:Uri>{escape(self.stream_uri())}</tt:Uri>"
            "<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>"
            "<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot>"
            "<tt:Timeout>PT60S</tt:Timeout></trt:MediaUri></trt:GetStreamUriResponse>"
        )

    def media_fault_no_profile(self) -> str:
        p = self.prefix
        return (
            f"<{p}:Fault><{p}:Code><{p}:Value>{p}:Sender</{p}:Value><{p}:Subcode>"
            f"<{p}:Value>ter:InvalidArgVal</{p}:Value><{p}:Subcode><{p}:Value>ter:NoProfile"
            f"</{p}:Value></{p}:Subcode></{p}:Subcode></{p}:Code><{p}:Reason>"
            f'<{p}:Text xml:lang="en">The requested profile token does not exist</{p}:Text>'
            f"</{p}:Reason></{p}:Fault>"
        )

    def stream_uri(self) -> str:
        rtsp = self.device.profile.services.get("rtsp")
        std = int(rtsp.get("port", 554)) if rtsp is not None else 554
        port = self.device.port(std)
        path = self.device.render(str(self.cfg.get("stream_path", "/")))
        host = self.device.address if port == 554 else f"{self.device.address}:{port}"
        return f"rtsp://{host}{path}"

    def op_GetHostname(self, req: Element | None = None) -> str:
        name = self._r("hostname", "${model}")
        return (
            "<tds:GetHostnameResponse><tds:HostnameInformation><tt:FromDHCP>false</tt:FromDHCP>"
            f"<tt:Name>{name}</tt:Name></tds:HostnameInformation></tds:GetHostnameResponse>"
        )
