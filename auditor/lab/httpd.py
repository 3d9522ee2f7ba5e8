"""The emulated devices' web servers: pages, vendor APIs behind Basic/Digest auth, and ONVIF.

Every response is built from the profile: status line version, header order and case (nmap's
matches depend on both), Server header, realm, body. A page with ``auth`` is a vendor API
(ISAPI deviceInfo, Dahua magicBox, ...): it answers 401 with the profile's challenge until the
client authenticates with the lab credentials.

Connections persist like an embedded HTTP/1.1 server's (RFC 9112 section 9.3): after a reply to
an HTTP/1.1 request that did not say ``close`` the server waits up to ``keep_alive_timeout`` (5 s)
for the next request, unless the profile answers HTTP/1.0 (and has no ``persistent_reply``), has
no length to announce (``bare``), or sets ``keep_alive: false`` (a server that always closes).
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any
from urllib.parse import urlsplit

from auditor.lab import auth
from auditor.lab.device import Device, Received

logger = logging.getLogger(__name__)

MAX_HEAD = 32 * 1024
MAX_BODY = 256 * 1024
READ_TIMEOUT = 10.0
#: Seconds a kept connection may sit idle before the server closes it: Apache httpd's
#: KeepAliveTimeout default (https://httpd.apache.org/docs/2.4/mod/core.html#keepalivetimeout);
#: a profile may set its own ``keep_alive_timeout``.
KEEP_ALIVE_TIMEOUT = 5.0
#: Requests served on one connection before the server closes it (Apache's MaxKeepAliveRequests).
MAX_KEEP_ALIVE_REQUESTS = 100

_REASONS = {
    200: "OK",
    204: "No Content",
    301: "Moved Permanently",
    302: "Found",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    500: "Internal Server Error",
    501: "Not Implemented",
}


@dataclass
class Request:
    method: str
    target: str
    version: str
    headers: dict[str, str]
    body: bytes = b""
    login: str = "none"
    """Set by the auth checks: ``accepted``/``refused`` when the client presented credentials."""
    presented: str = ""

    @property
    def path(self) -> str:
        return urlsplit(self.target).path or "/"

    @property
    def query(self) -> str:
        return urlsplit(self.target).query


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str | None = "text/html"
    headers: list[tuple[str, str]] = field(default_factory=list)
    reason: str | None = None


def parse_head(head: bytes) -> Request:
    """Parse a request line and headers; ValueError on anything malformed."""
    lines = head.decode("iso-8859-1").split("\r\n")
    parts = lines[0].split(" ")
    # Any PROTO/x.y: an RTSP server also meets HTTP and SIP requests (nmap sends both).
    if len(parts) != 3 or "/" not in parts[2] or not parts[2].split("/")[0].isalpha():
        raise ValueError("bad request line")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name.strip():
            raise ValueError("bad header line")
        headers[name.strip().lower()] = value.strip()
    return Request(parts[0].upper(), parts[1], parts[2], headers)


async def read_request(
    reader: asyncio.StreamReader, timeout: float = READ_TIMEOUT
) -> Request | None:
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, OSError):
        return None
    req = parse_head(head[:-4])
    length = int(req.headers.get("content-length", "0") or 0)
    if length < 0 or length > MAX_BODY:
        raise ValueError("body too large")
    if length:
        req.body = await asyncio.wait_for(reader.readexactly(length), READ_TIMEOUT)
    return req


def _echo(req: Request) -> dict[str, str]:
    """Template values a hostile page may echo: the Authorization header, raw and (for Basic)
    decoded, as a device that reflects what it was sent does."""
    given = req.headers.get("authorization", "")
    decoded = ""
    if given.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(given[6:].strip()).decode("utf-8", "replace")
        except ValueError:
            decoded = ""
    return {"authorization": given, "authorization_decoded": decoded}


class WebServer:
    """One device's HTTP(S) personality; ``handle`` is the asyncio stream callback."""

    def __init__(self, device: Device, cfg: Mapping[str, Any], onvif: Any = None) -> None:
        self.device = device
        self.cfg = cfg
        self.onvif = onvif
        self.nonces: set[str] = set()

    # --- HTTP framing -------------------------------------------------------------------
    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            wait = READ_TIMEOUT
            for _ in range(MAX_KEEP_ALIVE_REQUESTS):
                if not await self._serve_one(reader, writer, wait):
                    return
                wait = float(self.cfg.get("keep_alive_timeout", KEEP_ALIVE_TIMEOUT))
        except (OSError, TimeoutError):
            pass
        finally:
            writer.close()

    async def _serve_one(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, wait: float
    ) -> bool:
        """Answer one request; True when the connection stays open for another."""
        try:
            req = await read_request(reader, wait)
        except (ValueError, asyncio.IncompleteReadError, TimeoutError):
            writer.write(self.serialize(Response(400, b"", None)))
            return False
        if req is None:
            return False
        if not req.version.startswith("HTTP/"):
            writer.write(self.serialize(Response(400, b"", None)))
            return False
        resp = self.respond(req)
        self._record(req, writer)
        keep = self.persistent(req, resp)
        data = self.serialize(resp, keep=keep)
        if req.method == "HEAD":
            data = data.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
        writer.write(data)
        await asyncio.wait_for(writer.drain(), READ_TIMEOUT)
        return keep

    def persistent(self, req: Request, resp: Response) -> bool:
        """Whether this reply leaves the connection open (RFC 9112 9.3)."""
        asked = {t.strip().lower() for t in req.headers.get("connection", "").split(",")}
        version = str(self._persistent_reply.get("version", self.cfg.get("version", "HTTP/1.1")))
        # A bare reply without a body carries no Content-Length: its end is the close.
        delimited = bool(resp.body) or not self.cfg.get("bare", False)
        return (
            bool(self.cfg.get("keep_alive", True))
            and version == "HTTP/1.1"
            and req.version == "HTTP/1.1"
            and "close" not in asked
            and delimited
        )

    def _record(self, req: Request, writer: asyncio.StreamWriter) -> None:
        sockname = writer.get_extra_info("sockname")
        port = int(sockname[1]) if isinstance(sockname, tuple) else 0
        given = req.headers.get("authorization", "")
        self.device.record(
            Received(
                "http",
                port,
                f"{req.method} {req.target}",
                " ".join(filter(None, (given, req.presented))),
                req.login,
            )
        )

    @property
    def _persistent_reply(self) -> Mapping[str, Any]:
        """``persistent_reply: {version, headers}``: how a server whose captures (made with
        nmap's HTTP/1.0 probe) show HTTP/1.0 answers an HTTP/1.1 keep-alive request."""
        extra: Mapping[str, Any] = self.cfg.get("persistent_reply", {})
        return extra

    def serialize(self, resp: Response, *, keep: bool = False) -> bytes:
        """Status line and headers in the vendor's order and case (nmap's matches need both).

        ``header_order`` names headers to put first, in that order (Server, Date, the page's
        own headers, Content-Type, Content-Length, Connection); the rest follow. Dahua's httpd
        (``upper_headers``) writes CONNECTION/CONTENT-LENGTH/CONTENT-TYPE in capitals. ``keep``:
        the connection stays open, so no ``Connection: close`` (persistence is HTTP/1.1's default).
        """
        extra = self._persistent_reply if keep else {}
        version = str(extra.get("version", self.cfg.get("version", "HTTP/1.1")))
        reason = resp.reason or _REASONS.get(resp.status, "OK")
        upper = bool(self.cfg.get("upper_headers", False))
        bare = bool(self.cfg.get("bare", False))  # Bosch's 401 (nmap line 10297): no framing
        server = self.cfg.get("server")
        named: list[tuple[str, str]] = []
        if server is not None and not upper:
            named.append(("Server", self.device.render(str(server))))
        if not upper and self.cfg.get("date", True):
            named.append(("Date", formatdate(usegmt=True)))
        named.extend(resp.headers)
        framing: list[tuple[str, str]] = []
        if upper and not keep:
            framing.append(("CONNECTION", "close"))
        if resp.content_type:
            framing.append(("CONTENT-TYPE" if upper else "Content-Type", resp.content_type))
        if resp.body or not bare:
            framing.append(("CONTENT-LENGTH" if upper else "Content-Length", str(len(resp.body))))
        if not bare and not upper and not keep:
            framing.append(("Connection", "close"))
        framing.extend((str(k), str(v)) for k, v in extra.get("headers", {}).items())
        default = (
            ("CONNECTION", "Date", "Last-Modified", "Etag", "CONTENT-LENGTH")
            if upper
            else ("Server", "Date")
        )
        order = [str(n).lower() for n in self.cfg.get("header_order", default)]
        pool = named + framing
        heads = [h for name in order for h in pool if h[0].lower() == name]
        heads += [h for h in named if h not in heads] + [h for h in framing if h not in heads]
        lines = [f"{version} {resp.status} {reason}"] + [f"{k}: {v}" for k, v in heads]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + resp.body

    # --- routing ------------------------------------------------------------------------
    def respond(self, req: Request) -> Response:
        if self.onvif is not None and req.path in self.onvif.paths:
            answer: Response = self.onvif.respond(req, self)
            return answer
        pages: Mapping[str, Any] = self.cfg.get("pages", {})
        page = pages.get(req.target) or pages.get(req.path)
        if page is None:
            # ``auth`` on the service: a login for every path (a NAS or printer web UI).
            denied = self.check_auth(self.cfg, req)
            if denied is not None:
                return denied
            return self.page_response(self.cfg.get("not_found", {"status": 404, "body": ""}), req)
        method = str(page.get("method", "GET")).upper()
        allowed = {method, "HEAD"} if method == "GET" else {method}
        if req.method not in allowed:
            return Response(405, b"", None)
        challenge = self.check_auth(page, req)
        if challenge is not None:
            return challenge
        return self.page_response(page, req)

    def page_response(self, page: Mapping[str, Any], req: Request) -> Response:
        if "body_b64" in page:  # binary content (an icon, junk bytes) stays out of templating
            body = base64.b64decode(str(page["body_b64"]))
        else:
            body = self.device.render(
                str(page.get("body", "")), path=req.path, **_echo(req)
            ).encode("utf-8")
        if page.get("bom"):
            body = b"\xef\xbb\xbf" + body
        headers = [(str(k), self.device.render(str(v))) for k, v in page.get("headers", {}).items()]
        ctype = page.get("type", "text/html")
        return Response(int(page.get("status", 200)), body, ctype, headers, page.get("reason"))

    def check_auth(self, page: Mapping[str, Any], req: Request) -> Response | None:
        """None when the page is open or the client authenticated; else the 401 to send."""
        scheme = page.get("auth")
        if not scheme:
            return None
        realm = self.device.render(str(page.get("realm", self.cfg.get("realm", "lab"))))
        given = req.headers.get("authorization", "")
        user, password = self.device.username, self.device.password
        if "digest" in scheme and auth.check_digest(
            given, req.method, realm, self.nonces, user, password
        ):
            req.login = "accepted"
            return None
        if "basic" in scheme and auth.check_basic(given, user, password):
            req.login = "accepted"
            return None
        if given:
            req.login = "refused"
        return self.challenge(page, realm)

    def challenge(self, page: Mapping[str, Any], realm: str) -> Response:
        scheme = str(page.get("auth"))
        headers = []
        if "digest" in scheme:
            nonce = auth.new_nonce()
            if len(self.nonces) > 512:  # bounded: old nonces simply become invalid
                self.nonces.clear()
            self.nonces.add(nonce)
            if "challenge" in page:
                # The vendor's exact parameter order and spacing (nmap matches depend on it).
                value = self.device.render(str(page["challenge"]), realm=realm, nonce=nonce)
            else:
                extra = self.device.render(str(page.get("challenge_extra", "")))
                value = auth.digest_challenge(realm, nonce, extra=extra)
            headers.append(("WWW-Authenticate", value))
        if "basic" in scheme:
            headers.append(("WWW-Authenticate", f'Basic realm="{realm}"'))
        unauth = page.get("unauthorized", {})
        body = self.device.render(str(unauth.get("body", ""))).encode("utf-8")
        return Response(401, body, unauth.get("type", "text/html"), headers)
