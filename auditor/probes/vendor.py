"""Vendor device-info APIs, with the user's credentials only: Hikvision ISAPI, Dahua magicBox,
Axis VAPIX parameters. GET only (docs/decisions.md, "Vendor APIs").

Asked only where the evidence so far (discovery, the HTTP, TLS, RTSP, banner and ONVIF probes)
points to the vendor or its OEM family (``auditor.probes.access``): a Hikvision camera never
receives the Dahua or Axis request, a printer none of them. Credentials are sent only in answer
to the device's own 401 challenge, and a refused set is not sent to that device again.
"""

from __future__ import annotations

import logging
from typing import ClassVar

from auditor.context import NetContext
from auditor.credentials import Credential
from auditor.errors import ProbeError, ProbeNotRun
from auditor.models import Host, Observation, ObservationKind, Reason
from auditor.net.auth import CredentialsWithheld
from auditor.net.exchange import Endpoint, http_with_auth, probe_deadline
from auditor.net.soap import local, parse_xml
from auditor.net.wire import Deadline, Response
from auditor.ports import Role
from auditor.probes.access import (
    VendorEvidence,
    credential_for,
    require_vendor,
    vendors_in_evidence,
)
from auditor.probes.common import charset_of, decode, gather, observation, require_ports
from auditor.probes.interface import Probe, ProbeName

logger = logging.getLogger(__name__)

#: Statuses that mean "this platform's API is not here" rather than a failure.
_ABSENT = frozenset({400, 404, 405, 501})
MAX_LINES = 200


class _NotHere(Exception):
    """The port answered, but not with this vendor's API."""


def key_value_lines(text: str) -> list[str]:
    """``key=value`` lines of a CGI reply, stripped; other lines (HTML, errors) are dropped."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        key, sep, _ = line.partition("=")
        if sep and key and " " not in key and "<" not in key:
            out.append(line)
    return out[:MAX_LINES]


class VendorApiProbe(Probe):
    """GET a few read-only paths with the user's credentials; subclasses say what to keep."""

    kind: ClassVar[ObservationKind]
    paths: ClassVar[tuple[str, ...]]
    label: ClassVar[str]
    family: ClassVar[str]
    """The maker whose platform (own brand or OEM relabel) serves this API."""

    def __init__(self, evidence: VendorEvidence = vendors_in_evidence) -> None:
        self.evidence = evidence

    def run(self, host: Host, ctx: NetContext) -> list[Observation]:
        ports = require_ports(host, ctx, Role.HTTP, Role.HTTPS)
        credential = credential_for(
            host,
            ctx,
            self.label,
            lambda: require_vendor(host, self.family, self.label, self.evidence),
        )
        overall = probe_deadline(ctx)
        absent: list[int] = []
        withheld: list[str] = []

        def ask(port: int) -> list[Observation]:
            endpoint = Endpoint(host.address, port, tls=ctx.ports.role(port) is Role.HTTPS)
            try:
                return self._port(ctx, endpoint, overall, credential)
            except _NotHere:
                absent.append(port)
                return []
            except CredentialsWithheld as exc:
                withheld.append(exc.detail)
                return []

        found = gather(ports, ask)
        if not found and withheld:
            raise ProbeNotRun(Reason.WITHHELD, "; ".join(withheld)[:500])
        if not found and len(absent) == len(ports):
            raise ProbeNotRun(Reason.NOT_APPLICABLE, f"no {self.label} on ports {list(ports)}")
        return found

    def _port(
        self, ctx: NetContext, endpoint: Endpoint, overall: Deadline, credential: Credential
    ) -> list[Observation]:
        parts: list[str] = []
        for path in self.paths:
            resp = http_with_auth(ctx, endpoint, overall, credential, path=path)
            where = f"{endpoint.source}{path.split('?', 1)[0]}"
            if resp.status in (401, 403):
                # Never a second try: a wrong password counts against the device's lockout
                # (and the ledger now keeps every other probe from sending it again).
                raise ProbeError(
                    Reason.AUTH_FAILED,
                    f"{where}: HTTP {resp.status}, {credential.describe} refused",
                )
            if resp.status in _ABSENT or (resp.status >= 300 and not parts):
                if parts:
                    continue  # one action missing on an otherwise answering device
                raise _NotHere
            if resp.status != 200:
                continue
            value = self.extract(resp, where)
            if value is None:
                if not parts:
                    raise _NotHere
                continue
            parts.append(value)
        if not parts:
            return []
        # Several actions can repeat a line (type=, or a device that ignores the group filter).
        value = "\n".join(dict.fromkeys(line for part in parts for line in part.splitlines()))
        return [observation(self.kind, value, f"{self.label}:{endpoint.port}", endpoint.port)]

    def extract(self, resp: Response, where: str) -> str | None:  # pragma: no cover - abstract
        raise NotImplementedError


class IsapiProbe(VendorApiProbe):
    """Hikvision ISAPI deviceInfo: model, serial, firmware, MAC; the XML namespace and any OEM
    fields reveal the Hikvision platform behind a relabel (research/protocols.md §4 [S32])."""

    name: ClassVar[ProbeName] = ProbeName.ISAPI
    label: ClassVar[str] = "isapi"
    family: ClassVar[str] = "Hikvision"
    kind: ClassVar[ObservationKind] = ObservationKind.ISAPI_DEVICE_INFO
    paths: ClassVar[tuple[str, ...]] = ("/ISAPI/System/deviceInfo",)

    def extract(self, resp: Response, where: str) -> str | None:
        try:
            root = parse_xml(resp.body)
        except ProbeError:
            return None  # a 200 HTML page (a catch-all web UI) is not ISAPI
        if local(root.tag) != "DeviceInfo":
            return None
        # Kept raw, namespace included: it is itself platform evidence.
        return decode(resp.body, charset_of(resp.header("Content-Type")))


class DahuaProbe(VendorApiProbe):
    """Dahua magicBox.cgi (HTTP API v1.29/v2.0 [S35]): device type, system info with
    ``updateSerial`` and ``serialNumber``, software version; OEM firmware keeps these fields."""

    name: ClassVar[ProbeName] = ProbeName.DAHUA
    label: ClassVar[str] = "dahua"
    family: ClassVar[str] = "Dahua"
    kind: ClassVar[ObservationKind] = ObservationKind.DAHUA_SYSTEM_INFO
    paths: ClassVar[tuple[str, ...]] = (
        "/cgi-bin/magicBox.cgi?action=getSystemInfo",
        "/cgi-bin/magicBox.cgi?action=getDeviceType",
        "/cgi-bin/magicBox.cgi?action=getSoftwareVersion",
    )

    def extract(self, resp: Response, where: str) -> str | None:
        lines = key_value_lines(decode(resp.body, charset_of(resp.header("Content-Type"))))
        return "\n".join(lines) if lines else None


class AxisProbe(VendorApiProbe):
    """Axis VAPIX parameters, read with ``param.cgi?action=list`` (a GET).

    basicdeviceinfo.cgi would answer anonymously, but it is a JSON POST to a vendor CGI, which
    camaudit never sends (docs/decisions.md); the Brand and Properties groups hold the same facts
    (developer.axis.com/vapix/network-video/parameter-management).
    """

    name: ClassVar[ProbeName] = ProbeName.AXIS
    label: ClassVar[str] = "axis"
    family: ClassVar[str] = "Axis"
    kind: ClassVar[ObservationKind] = ObservationKind.AXIS_DEVICE_INFO
    paths: ClassVar[tuple[str, ...]] = (
        "/axis-cgi/param.cgi?action=list&group=Brand",
        "/axis-cgi/param.cgi?action=list&group=Properties.System",
        "/axis-cgi/param.cgi?action=list&group=Properties.Firmware",
    )

    def extract(self, resp: Response, where: str) -> str | None:
        lines = key_value_lines(decode(resp.body, charset_of(resp.header("Content-Type"))))
        lines = [ln for ln in lines if ln.startswith(("root.", "Brand.", "Properties."))]
        return "\n".join(lines) if lines else None
