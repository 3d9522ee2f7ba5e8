"""The ONVIF probe: the device service over hand-written SOAP 1.2.

Anonymous (PRE_AUTH in the Core spec): GetSystemDateAndTime (and the clock skew it reveals) and
GetServices, falling back to GetCapabilities. With the user's credentials: GetDeviceInformation,
GetScopes, GetNetworkInterfaces. Every call goes anonymously first; credentials answer only the
device's own refusal, in the form it asked for: a SOAP NotAuthorized fault gets a WS-UsernameToken
dated by the measured skew, an HTTP 401 gets HTTP Digest (Basic only where the credentials file
allows it). One refused login ends the credentialed calls on the device (``ctx.logins``).
Without credentials GetDeviceInformation is still tried once anonymously (some firmware answers
it; that is not a login). Never a state-changing call.

A URL is an ONVIF device service when discovery announced it (an XAddr), the port plan says so,
or it answered in SOAP. A bare HTTP 401 on a URL that is none of these (lighttpd with Digest on
every path) is not "ONVIF needs credentials": the probe does not apply, and no credential is sent.
"""

from __future__ import annotations

import ipaddress
import logging
from datetime import UTC, datetime, timedelta
from typing import ClassVar
from urllib.parse import urlsplit

from auditor.context import NetContext
from auditor.credentials import Credential
from auditor.errors import ProbeError, ProbeNotRun
from auditor.models import Host, Observation, ObservationKind, Reason
from auditor.net.auth import CredentialsWithheld, username_token
from auditor.net.exchange import Endpoint, http_exchange, http_with_auth, probe_deadline
from auditor.net.soap import TDS, SoapReply, device_utc, envelope, parse_soap, scope_uris, xaddrs
from auditor.net.wire import Deadline, Response
from auditor.ports import Role
from auditor.probes.access import named_as_video_device
from auditor.probes.common import dedupe, observation, ports_for
from auditor.probes.interface import Findings, PartialFailure, Probe, ProbeName

logger = logging.getLogger(__name__)

DEVICE_SERVICE = "/onvif/device_service"
MAX_SERVICE_URLS = 4


class _NoService(ProbeError):
    """The URL answered HTTP, but not SOAP (404, a web page): no device service here."""

    def __init__(self, detail: str) -> None:
        super().__init__(Reason.MALFORMED, detail)


class _AuthAnswer(ProbeError):
    """An ONVIF call refused for lack of (valid) credentials; remembers which operation and
    whether camaudit withheld credentials it had (already refused; Basic over plain HTTP)."""

    def __init__(self, reason: Reason, detail: str, operation: str, withheld: bool = False) -> None:
        super().__init__(reason, detail)
        self.operation = operation
        self.withheld = withheld


def format_skew(skew: timedelta) -> str:
    seconds = round(skew.total_seconds())
    return f"{seconds:+d}s"


class OnvifProbe(Probe):
    name: ClassVar[ProbeName] = ProbeName.ONVIF

    def run(self, host: Host, ctx: NetContext) -> list[Observation]:
        urls = service_urls(host, ctx)
        if not urls:
            raise ProbeNotRun(Reason.NO_SERVICE, "no ONVIF XAddrs and no open HTTP/ONVIF port")
        overall = probe_deadline(ctx)
        credential = ctx.credentials.for_host(host.address)
        declared = declared_urls(host, ctx)
        # On a device the evidence already names as a camera, the standard path is as good as
        # announced (a camera whose discovery reply did not reach us).
        camera = named_as_video_device(host.observations)
        errors: list[ProbeError] = []
        for endpoint, path in urls[:MAX_SERVICE_URLS]:
            try:
                session = _Session(ctx, endpoint, path, overall, credential)
                session.confirmed = camera or (endpoint, path) in declared
                return session.run()
            except PartialFailure:
                raise
            except ProbeError as exc:
                # Not an ONVIF service on this port (404, HTML, refused): try the next candidate.
                logger.debug("%s%s: %s", endpoint.source, path, exc)
                errors.append(exc)
        detail = "; ".join(e.detail for e in errors)[:500]
        if all(isinstance(e, _NoService) for e in errors):
            raise ProbeNotRun(Reason.NOT_APPLICABLE, f"no ONVIF device service: {detail}")
        real = [e for e in errors if not isinstance(e, _NoService)]
        first = next((e for e in real if e.reason is not Reason.MALFORMED), real[0])
        raise ProbeError(first.reason, detail)


def declared_urls(host: Host, ctx: NetContext) -> list[tuple[Endpoint, str]]:
    """The URLs announced as ONVIF: discovery XAddrs, and ports the plan gives the ONVIF role."""
    out = xaddr_urls(host, ctx)
    for port in ports_for(host, ctx, Role.ONVIF):
        target = (Endpoint(host.address, port), DEVICE_SERVICE)
        if target not in out:
            out.append(target)
    return out


def xaddr_urls(host: Host, ctx: NetContext) -> list[tuple[Endpoint, str]]:
    """In-scope device-service XAddrs from discovery; those outside the scope are recorded,
    never contacted."""
    out: list[tuple[Endpoint, str]] = []
    for obs in host.observations:
        if obs.kind is not ObservationKind.ONVIF_PROBE_MATCH:
            continue
        try:
            urls = xaddrs(obs.value)
        except ProbeError:
            continue
        for url in urls:
            target = _xaddr_endpoint(host, ctx, url)
            if target is not None and target not in out:
                out.append(target)
    return out


def service_urls(host: Host, ctx: NetContext) -> list[tuple[Endpoint, str]]:
    """Device-service URLs: in-scope XAddrs from discovery first, then the standard path on the
    host's ONVIF, HTTP and HTTPS ports."""
    out = xaddr_urls(host, ctx)
    for port in ports_for(host, ctx, Role.ONVIF, Role.HTTP, Role.HTTPS):
        target = (
            Endpoint(host.address, port, tls=ctx.ports.role(port) is Role.HTTPS),
            DEVICE_SERVICE,
        )
        if target not in out:
            out.append(target)
    return out


def _xaddr_endpoint(host: Host, ctx: NetContext, url: str) -> tuple[Endpoint, str] | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    try:
        addr = ipaddress.ip_address(parts.hostname.split("%", 1)[0])
    except ValueError:
        addr = None
    if addr is None or not ctx.allows(addr):
        ctx.refuse(parts.hostname, host.address, "onvif.xaddrs")
        return None
    if addr != host.address:
        return None  # another in-scope device (an NVR's camera): audited on its own
    tls = parts.scheme == "https"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Endpoint(addr, port or (443 if tls else 80), tls=tls), path


class _Session:
    """The calls against one device-service URL, sharing the skew and the deadline."""

    def __init__(
        self,
        ctx: NetContext,
        endpoint: Endpoint,
        path: str,
        overall: Deadline,
        credential: Credential | None,
    ) -> None:
        self.ctx, self.endpoint, self.path, self.overall = ctx, endpoint, path, overall
        self.credential = credential
        self.skew = timedelta(0)
        self.found: list[Observation] = []
        self.auth_problems: list[ProbeError] = []
        self.confirmed = False
        """An ONVIF service for sure (announced, or it answered in SOAP): only then may a 401
        mean "ONVIF needs credentials", and only then are credentials sent."""

    def _obs(self, kind: ObservationKind, value: str) -> None:
        self.found.append(
            observation(kind, value, f"onvif:{self.endpoint.port}", self.endpoint.port)
        )

    def _post(self, operation: str, body: str, security: str = "") -> Response:
        return http_exchange(
            self.ctx,
            self.endpoint,
            self.overall,
            method="POST",
            path=self.path,
            headers=self._headers(operation),
            body=envelope(body, security),
            credentials=bool(security),
        )

    @staticmethod
    def _headers(operation: str) -> tuple[tuple[str, str], ...]:
        return (
            ("Content-Type", f'application/soap+xml; charset=utf-8; action="{TDS}/{operation}"'),
        )

    def _parse(self, resp: Response, where: str) -> SoapReply | None:
        """The SOAP reply, None for a 401 without one; _NoService for a non-SOAP answer."""
        try:
            reply = parse_soap(resp.body)
        except ProbeError as exc:
            if resp.status == 401:
                return None
            if resp.status != 200 or "xml" not in (resp.header("Content-Type") or "").lower():
                raise _NoService(f"{where}: HTTP {resp.status}, not SOAP") from None
            raise ProbeError(exc.reason, f"{where}: HTTP {resp.status}, {exc.detail}") from None
        self.confirmed = True
        return reply

    def call(self, operation: str, body: str, *, signed: bool) -> SoapReply:
        """One SOAP call, anonymous first. ``signed``: if the device refuses, answer with the
        user's credentials once, in the form it asked for (UsernameToken or HTTP auth)."""
        where = f"{self.endpoint.source}{self.path} {operation}"
        resp = self._post(operation, body)
        reply = self._parse(resp, where)
        refused = resp.status == 401 or (
            reply is not None and reply.fault is not None and reply.fault.not_authorized
        )
        if not refused:
            assert reply is not None
            return reply
        if not self.confirmed:
            # A bare 401 from a URL nobody announced as ONVIF: a web server that wants a login
            # for every path (lighttpd with Digest), not an ONVIF device asking for credentials.
            raise _NoService(f"{where}: HTTP 401 without a SOAP body, not an ONVIF service")
        what = "HTTP 401" if reply is None or reply.fault is None else reply.fault.describe()
        cred = self.credential if signed else None
        if cred is None:
            raise _AuthAnswer(Reason.AUTH_REQUIRED, f"{where}: {what}", operation)
        withheld = self.ctx.logins.withheld_detail(self.endpoint.address, cred)
        if withheld is not None:
            raise _AuthAnswer(Reason.AUTH_REQUIRED, f"{where}: {withheld}", operation, True)
        if resp.status == 401:
            try:
                resp = http_with_auth(
                    self.ctx,
                    self.endpoint,
                    self.overall,
                    cred,
                    method="POST",
                    path=self.path,
                    headers=self._headers(operation),
                    body=envelope(body),
                    first=resp,
                )
            except CredentialsWithheld as exc:
                raise _AuthAnswer(Reason.AUTH_REQUIRED, exc.detail, operation, True) from None
        else:
            resp = self._post(operation, body, username_token(cred, self.skew))
        reply = self._parse(resp, where)
        if resp.status in (401, 403) or (
            reply is not None and reply.fault is not None and reply.fault.not_authorized
        ):
            self.ctx.logins.record_refusal(
                self.endpoint.address, cred, f"{self.endpoint.source}{self.path} {operation}"
            )
            raise _AuthAnswer(Reason.AUTH_FAILED, f"{where}: {cred.describe} refused", operation)
        if reply is None:
            raise ProbeError(Reason.MALFORMED, f"{where}: HTTP {resp.status}, not SOAP")
        return reply

    def pre_auth(self, operation: str, body: str) -> SoapReply:
        """A PRE_AUTH call: anonymous first; signed if the device insists and we may sign."""
        return self.call(operation, body, signed=True)

    def run(self) -> list[Observation]:
        # The first call decides whether this URL is an ONVIF service at all: its errors propagate.
        try:
            before = datetime.now(UTC)
            sdt = self.pre_auth("GetSystemDateAndTime", "<tds:GetSystemDateAndTime/>")
            after = datetime.now(UTC)
        except ProbeError as exc:
            if exc.reason not in (Reason.AUTH_REQUIRED, Reason.AUTH_FAILED):
                raise
            self.auth_problems.append(exc)
        else:
            # A fault is still a SOAP device service answering; only the time is missing.
            device = None
            if sdt.fault is None:
                self._obs(ObservationKind.ONVIF_SYSTEM_DATE_TIME, sdt.text)
                device = device_utc(sdt)
            else:
                logger.debug("GetSystemDateAndTime: %s", sdt.fault.describe())
            if device is not None:
                # The device reports whole seconds (truncated): its clock is half a second on.
                device += timedelta(seconds=0.5)
                self.skew = device - (before + (after - before) / 2)
                self._obs(ObservationKind.ONVIF_CLOCK_SKEW, format_skew(self.skew))
        self._services()
        self._identity()
        return self._finish()

    def _services(self) -> None:
        try:
            reply = self.pre_auth(
                "GetServices",
                "<tds:GetServices><tds:IncludeCapability>false</tds:IncludeCapability></tds:GetServices>",
            )
            if reply.fault is not None:
                logger.debug("GetServices: %s; trying GetCapabilities", reply.fault.describe())
                reply = self.pre_auth(
                    "GetCapabilities",
                    "<tds:GetCapabilities><tds:Category>All</tds:Category></tds:GetCapabilities>",
                )
            if reply.fault is None:
                self._obs(ObservationKind.ONVIF_SERVICES, reply.text)
        except _AuthAnswer as exc:
            self.auth_problems.append(exc)
        except ProbeError as exc:
            if exc.reason is not Reason.MALFORMED:
                raise
            logger.debug("%s: services not readable: %s", self.endpoint.source, exc.detail)

    def _identity(self) -> None:
        signed = self.credential is not None
        calls = [
            ("GetDeviceInformation", ObservationKind.ONVIF_DEVICE_INFORMATION),
        ]
        if signed:
            calls += [
                ("GetScopes", ObservationKind.ONVIF_SCOPES),
                ("GetNetworkInterfaces", ObservationKind.ONVIF_NETWORK_INTERFACES),
            ]
        for operation, kind in calls:
            try:
                reply = self.call(operation, f"<tds:{operation}/>", signed=signed)
            except _AuthAnswer as exc:
                # "auth required" is an expected answer, not a failed probe.
                self.auth_problems.append(exc)
                if exc.reason is Reason.AUTH_FAILED:
                    break  # one refused login is enough; more could lock the account
                continue
            except ProbeError as exc:
                if not self.found:
                    raise
                # A broken reply after others answered: fail, but keep what was observed.
                raise PartialFailure(exc.reason, exc.detail, dedupe(self.found)) from None
            if reply.fault is not None:
                logger.debug("%s: %s", operation, reply.fault.describe())
                continue
            if kind is ObservationKind.ONVIF_SCOPES:
                uris = scope_uris(reply)
                if uris:
                    self._obs(kind, "\n".join(uris))
            else:
                self._obs(kind, reply.text)

    def _finish(self) -> list[Observation]:
        found = dedupe(self.found)
        detail = "; ".join(e.detail for e in self.auth_problems)[:500]
        if any(e.reason is Reason.AUTH_FAILED for e in self.auth_problems):
            # The user's credentials were refused: say so, and keep the anonymous evidence.
            raise PartialFailure(Reason.AUTH_FAILED, detail, found)
        withheld = any(getattr(e, "withheld", False) for e in self.auth_problems)
        if not found and self.auth_problems:
            if withheld:
                raise ProbeNotRun(Reason.WITHHELD, detail)
            raise ProbeError(Reason.AUTH_REQUIRED, detail)
        if self.auth_problems:
            calls = ", ".join(
                dict.fromkeys(getattr(e, "operation", "?") for e in self.auth_problems)
            )
            logger.info("onvif %s: auth required: %s", self.endpoint.source, detail)
            why = f"credentials withheld: {detail}" if withheld else "no credentials"
            return Findings(found, note=f"auth required ({why}): {calls}"[:500])
        return found
