"""UPnP SSDP (UDP 1900): M-SEARCH, the SERVER header, and the description behind LOCATION.

The description is fetched only when LOCATION names a literal in-scope address; anything else
is recorded as refused (via ``ssdp.location``) and never contacted. Wire format:
research/protocols.md section 3 (UPnP Device Architecture search response).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from auditor.context import NetContext
from auditor.discovery.replies import (
    ReplyError,
    UdpChannel,
    address_or_none,
    check_referenced,
    decode,
)
from auditor.discovery.udp import Datagram, UdpPlan
from auditor.errors import ProbeError
from auditor.models import Channel, Host, IPAddress, Observation, ObservationKind
from auditor.net.exchange import EXCHANGE_FACTOR, Endpoint, http_exchange
from auditor.net.wire import Deadline

logger = logging.getLogger(__name__)

PORT = 1900
GROUP_V4 = "239.255.255.250"
GROUP_V6 = "ff02::c"
M_SEARCH = (
    b"M-SEARCH * HTTP/1.1\r\n"
    b"HOST: 239.255.255.250:1900\r\n"
    b'MAN: "ssdp:discover"\r\n'
    b"MX: 2\r\n"
    b"ST: upnp:rootdevice\r\n\r\n"
)
MAX_HEADERS = 64


def parse_response(data: bytes) -> dict[str, str]:
    """Headers of an SSDP search response (names upper-cased); ReplyError for anything else."""
    lines = decode(data[:8192]).split("\r\n" if b"\r\n" in data else "\n")
    status = lines[0].split()
    if len(status) < 2 or not status[0].upper().startswith("HTTP/") or status[1] != "200":
        raise ReplyError(f"not an SSDP search response: {lines[0][:60]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:MAX_HEADERS]:
        name, sep, value = line.partition(":")
        if sep and name.strip():
            headers.setdefault(name.strip().upper(), value.strip())
    return headers


@dataclass(frozen=True, slots=True)
class _Fetch:
    url: str
    referrer: IPAddress


def fetch_description(url: str, ctx: NetContext) -> str | None:
    """GET the device description: one request, no redirects, bounded time and size.

    The whole exchange has one deadline (the probes' bounded transport): with a per-read timeout
    only, a device serving its description one byte a second held discovery for as long as it
    liked (measured: 121 s against the lab's slowloris, issue 9).
    """
    parts = urlsplit(url)
    host = parts.hostname
    if host is None or not ctx.allows(host):  # checked by the caller too; the last word here
        return None
    address = address_or_none(host)
    try:
        port = parts.port
    except ValueError:
        return None
    if address is None or parts.scheme not in ("http", "https"):
        return None
    tls = parts.scheme == "https"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    endpoint = Endpoint(address, port or (443 if tls else 80), tls=tls)
    try:
        resp = http_exchange(ctx, endpoint, Deadline(ctx.timeout * EXCHANGE_FACTOR), path=path)
    except ProbeError as exc:
        logger.info("ssdp: description %s not fetched: %s", url, exc)
        return None
    if resp.status != 200:
        return None
    return decode(resp.body)


class SsdpChannel(UdpChannel):
    channel = Channel.SSDP

    def plan(self, ctx: NetContext) -> UdpPlan:
        return UdpPlan(PORT, (M_SEARCH,), group_v4=GROUP_V4, group_v6=GROUP_V6)

    def discover(self, ctx: NetContext) -> Iterator[Host]:
        fetches: dict[str, _Fetch] = {}
        # Bounded like the round itself: at most one fetch per source, so at most
        # MAX_SOURCES_PER_ROUND (udp.py) per round, however many LOCATIONs a flood names.
        fetched_for: set[IPAddress] = set()
        for reply in self.round(ctx):
            try:
                headers = parse_response(reply.data)
            except ReplyError as exc:
                logger.info("ssdp: ignoring reply from %s: %s", reply.source, exc)
                continue
            yield self._host(reply, headers)
            location = headers.get("LOCATION", "")
            if reply.source in fetched_for:
                continue  # one description per device: a flood of LOCATIONs is one fetch
            host = urlsplit(location).hostname if location else None
            if location and check_referenced(ctx, host or location, reply.source, "ssdp.location"):
                fetched_for.add(reply.source)
                fetches.setdefault(location, _Fetch(location, reply.source))
        # Descriptions are fetched after the window, in parallel, so one slow device does not
        # hold up the collection of the others' replies.
        if not fetches:
            return
        with ThreadPoolExecutor(max_workers=max(1, min(ctx.workers, len(fetches)))) as pool:
            futures = {pool.submit(fetch_description, f.url, ctx): f for f in fetches.values()}
            for future in as_completed(futures):
                try:
                    body = future.result()
                except Exception:  # a bug met on one device's description ends that fetch only
                    logger.exception("ssdp: description fetch crashed")
                    continue
                if body is None:
                    continue
                item = futures[future]
                obs = Observation(
                    ObservationKind.UPNP_DESCRIPTION, body, self.channel.value, datetime.now(UTC)
                )
                address = address_or_none(urlsplit(item.url).hostname or "")
                if address is None:
                    continue
                yield Host(address, seen_by=frozenset({self.channel}), observations=(obs,))

    def _host(self, reply: Datagram, headers: dict[str, str]) -> Host:
        obs = []
        if headers.get("SERVER"):
            obs.append(
                Observation(
                    ObservationKind.UPNP_SERVER,
                    headers["SERVER"],
                    self.channel.value,
                    reply.received_at,
                )
            )
        usn = headers.get("USN", "").split("::", 1)[0].strip().lower()
        return Host(
            reply.source,
            seen_by=frozenset({self.channel}),
            endpoint_ids=frozenset({usn[:256]}) if usn.startswith("uuid:") else frozenset(),
            observations=tuple(obs),
        )
