"""The HTTP/HTTPS probe: GET / (redirects followed only within scope), the favicon hash and a few
credential-free vendor clue paths kept as data (clue_paths.yaml)."""

from __future__ import annotations

import hashlib
import html
import ipaddress
import logging
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import ClassVar
from urllib.parse import urljoin, urlsplit

import yaml

from auditor.context import NetContext
from auditor.dataschema import CLUE_PATHS_SCHEMA, enforce_schema
from auditor.errors import DataFileError, ProbeError
from auditor.models import Host, IPAddress, Observation, ObservationKind
from auditor.net.auth import challenges_of
from auditor.net.exchange import Endpoint, http_exchange, probe_deadline
from auditor.net.wire import Deadline, Response
from auditor.ports import Role
from auditor.probes.common import charset_of, decode, gather, observation, require_ports
from auditor.probes.interface import Probe, ProbeName

logger = logging.getLogger(__name__)

MAX_REDIRECTS = 5
BODY_SNIPPET = 16 * 1024
"""Characters of the page kept as http.body: enough for the markers vendors put in login pages."""
MAX_TITLE = 512
NONEXISTENT = "/camaudit-nonexistent-path"
"""Asked once per port before the clue paths, as the baseline "not found" answer."""
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Headers that change on every request or have their own observation kind.
_SKIP_HEADERS = frozenset(
    {"date", "content-length", "server", "www-authenticate", "expires", "last-modified"}
)
_TITLE_RE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_WS_RE = re.compile(r"\s+")
_META_REFRESH_RE = re.compile(
    r"""<meta[^>]+http-equiv\s*=\s*["']?refresh["']?[^>]*content\s*=\s*["']\s*\d*\s*;?\s*url\s*=\s*([^"'>\s]+)""",
    re.IGNORECASE,
)


def meta_refresh(text: str) -> str | None:
    """The target of an HTML ``<meta http-equiv="refresh">`` (many camera root pages are one)."""
    m = _META_REFRESH_RE.search(text[:BODY_SNIPPET])
    return html.unescape(m.group(1)) if m else None


def parse_title(text: str) -> str | None:
    """The page title, unescaped and whitespace-collapsed; None when there is none."""
    m = _TITLE_RE.search(text[: BODY_SNIPPET * 4])
    if not m:
        return None
    title = _WS_RE.sub(" ", html.unescape(m.group(1))).strip()
    return title[:MAX_TITLE] or None


@dataclass(frozen=True, slots=True)
class CluePath:
    path: str
    platform: str
    markers: tuple[str, ...]
    source: str


@cache
def clue_paths() -> tuple[CluePath, ...]:
    """The reviewed clue paths shipped next to this module; a broken file is a DataFileError."""
    ref = resources.files("auditor.probes").joinpath("clue_paths.yaml")
    try:
        text = ref.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFileError(str(ref), f"bad clue path data: {exc}") from None
    return parse_clue_paths(text, str(ref))


def parse_clue_paths(text: str, name: str) -> tuple[CluePath, ...]:
    """The clue paths in ``text``, checked against fingerprints/schema/clue-paths.schema.json."""
    try:
        data = yaml.safe_load(text)
        enforce_schema(data, CLUE_PATHS_SCHEMA, name)
        out = []
        for i, item in enumerate(data["paths"]):
            path = str(item["path"])
            if not path.startswith("/") or not item.get("source"):
                raise ValueError(f"paths[{i}] needs an absolute path and a source")
            markers = tuple(str(m) for m in item.get("markers") or ())
            out.append(CluePath(path, str(item["platform"]), markers, str(item["source"])))
        return tuple(out)
    except (yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
        raise DataFileError(name, f"bad clue path data: {exc}") from None


def response_observations(resp: Response, endpoint: Endpoint) -> list[Observation]:
    src, port = endpoint.source, endpoint.port
    out: list[Observation] = []
    server = resp.header("Server")
    if server:
        out.append(observation(ObservationKind.HTTP_SERVER, server, src, port))
    for name, value in resp.headers:
        if name.lower() not in _SKIP_HEADERS:
            out.append(observation(ObservationKind.HTTP_HEADER, f"{name}: {value}", src, port))
    try:
        challenges = challenges_of(resp.header_all("WWW-Authenticate"))
    except ProbeError:
        # An unparseable challenge is still evidence: keep it verbatim.
        challenges = []
        raw = resp.header_all("WWW-Authenticate")
        out.extend(observation(ObservationKind.HTTP_WWW_AUTHENTICATE, v, src, port) for v in raw)
    out.extend(
        observation(ObservationKind.HTTP_WWW_AUTHENTICATE, ch.summary, src, port)
        for ch in challenges
    )
    if resp.body:
        text = decode(resp.body, charset_of(resp.header("Content-Type")))
        title = parse_title(text)
        if title:
            out.append(observation(ObservationKind.HTTP_TITLE, title, src, port))
        snippet = text[:BODY_SNIPPET]
        if snippet.strip():
            out.append(observation(ObservationKind.HTTP_BODY, snippet, src, port))
    return out


class HttpProbe(Probe):
    name: ClassVar[ProbeName] = ProbeName.HTTP

    def run(self, host: Host, ctx: NetContext) -> list[Observation]:
        ports = require_ports(host, ctx, Role.HTTP, Role.HTTPS)
        overall = probe_deadline(ctx)

        def ask(port: int) -> list[Observation]:
            endpoint = Endpoint(host.address, port, tls=ctx.ports.role(port) is Role.HTTPS)
            return self._port(host, ctx, endpoint, overall)

        return gather(ports, ask)

    def _port(
        self, host: Host, ctx: NetContext, endpoint: Endpoint, overall: Deadline
    ) -> list[Observation]:
        found: list[Observation] = []
        for ep, resp in self._follow(host, ctx, endpoint, overall):
            found.extend(response_observations(resp, ep))
        try:
            found.extend(self._favicon(ctx, endpoint, overall))
            # What a path that cannot exist returns: a clue path answering the same (a web UI
            # that serves every path, or a site that is all behind a login) proves nothing.
            baseline = http_exchange(ctx, endpoint, overall, path=NONEXISTENT).status
            for clue in clue_paths():
                found.extend(self._clue(ctx, endpoint, overall, clue, baseline))
        except ProbeError as exc:
            # GET / answered; a later request that times out or resets ends the extras only.
            logger.debug("%s %s: extras stopped: %s", host.address, endpoint.source, exc)
        return found

    def _follow(
        self, host: Host, ctx: NetContext, endpoint: Endpoint, overall: Deadline
    ) -> list[tuple[Endpoint, Response]]:
        chain: list[tuple[Endpoint, Response]] = []
        seen: set[tuple[int, bool, str]] = set()
        ep, path = endpoint, "/"
        for hop in range(MAX_REDIRECTS + 1):
            seen.add((ep.port, ep.tls, path))
            try:
                resp = http_exchange(ctx, ep, overall, path=path)
            except ProbeError:
                if hop == 0:
                    raise
                break  # the redirect target failed; what came before is kept
            chain.append((ep, resp))
            if resp.status in _REDIRECTS:
                location = resp.header("Location")
            elif resp.status == 200 and resp.body:
                location = meta_refresh(decode(resp.body))
            else:
                location = None
            if not location:
                break
            nxt = self._redirect_target(host, ctx, ep, path, location)
            if nxt is None or (nxt[0].port, nxt[0].tls, nxt[1]) in seen:
                break
            ep, path = nxt
        return chain

    @staticmethod
    def _redirect_target(
        host: Host, ctx: NetContext, ep: Endpoint, path: str, location: str
    ) -> tuple[Endpoint, str] | None:
        base = f"{ep.scheme}://{ep.authority}{path}"
        try:
            url = urlsplit(urljoin(base, location.strip()))
            port = url.port
        except ValueError:
            return None
        if url.scheme not in ("http", "https") or not url.hostname:
            return None
        addr: IPAddress | None
        try:
            addr = ipaddress.ip_address(url.hostname)
        except ValueError:
            addr = None  # a name: never resolved (that could widen the scope)
        if addr is None or not ctx.allows(addr):
            ctx.refuse(url.hostname, host.address, "http.redirect")
            return None
        if addr != host.address:
            return None  # in scope but another device: it is audited on its own
        tls = url.scheme == "https"
        target = Endpoint(addr, port or (443 if tls else 80), tls=tls)
        return target, (url.path or "/") + (f"?{url.query}" if url.query else "")

    @staticmethod
    def _favicon(ctx: NetContext, endpoint: Endpoint, overall: Deadline) -> list[Observation]:
        resp = http_exchange(ctx, endpoint, overall, path="/favicon.ico")
        ctype = (resp.header("Content-Type") or "").lower()
        if resp.status != 200 or not resp.body or "html" in ctype:
            return []
        digest = hashlib.md5(resp.body, usedforsecurity=False).hexdigest()
        return [
            observation(ObservationKind.HTTP_FAVICON_MD5, digest, endpoint.source, endpoint.port)
        ]

    @staticmethod
    def _clue(
        ctx: NetContext, endpoint: Endpoint, overall: Deadline, clue: CluePath, baseline: int
    ) -> list[Observation]:
        resp = http_exchange(ctx, endpoint, overall, path=clue.path)
        haystack = "\n".join(f"{k}: {v}" for k, v in resp.headers) + "\n"
        haystack = (haystack + decode(resp.body)[:BODY_SNIPPET]).lower()
        hits = [m for m in clue.markers if m.lower() in haystack]
        if resp.status in (404, baseline) and not hits:
            return []
        value = " ".join([clue.path, str(resp.status), *hits])
        out = [observation(ObservationKind.HTTP_CLUE, value, endpoint.source, endpoint.port)]
        # A clue path's own challenge or Server header is evidence like the root page's.
        out.extend(
            o
            for o in response_observations(resp, endpoint)
            if o.kind in (ObservationKind.HTTP_WWW_AUTHENTICATE, ObservationKind.HTTP_SERVER)
        )
        return out
