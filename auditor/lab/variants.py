"""Hostile server variants (issue 9): slow, endless, huge, malformed, floods.

Each is registered in :mod:`auditor.lab.registry` under a variant name, and a profile selects it
with ``variant:`` (see ``profiles/hostile/``). Every variant bounds its own cost: it stops when
the client goes away and after ``max_seconds``, so a hostile site never outlives its test.
Payloads that are plain data (XML bombs, XSS strings, redirect loops) need no code: they are
bodies in the hostile profiles.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import uuid
from collections.abc import Mapping
from typing import Any

from auditor.lab import discovery, registry
from auditor.lab.device import Device
from auditor.lab.registry import BuildContext, Built, TcpService, UdpService

Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]

#: Bytes that are not UTF-8, terminal escapes, a NUL and bidi overrides.
GARBAGE = b"\xff\xfe\xc3\x28\xa0\xa1\x00\x1b[31m\x1b]0;pwned\x07\xe2\x80\xae\r\n\x80\x81\x82"


async def _drain_request(reader: asyncio.StreamReader) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)


def _tcp(handler: Any, cfg: Mapping[str, Any]) -> Built:
    limit = float(cfg.get("max_seconds", 120))

    async def bounded(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await asyncio.wait_for(handler(reader, writer, cfg), limit)
        except (OSError, TimeoutError, asyncio.IncompleteReadError):
            pass
        finally:
            # Synchronous on purpose: an await here would be skipped if the site stops mid-way.
            writer.close()

    return TcpService(bounded)


async def _slowloris(
    r: asyncio.StreamReader, w: asyncio.StreamWriter, cfg: Mapping[str, Any]
) -> None:
    """Answer one byte at a time, ``interval`` seconds apart."""
    await _drain_request(r)
    reply = b"HTTP/1.1 200 OK\r\nServer: lab-slowloris\r\nContent-Length: 1000000\r\n\r\n"
    interval = float(cfg.get("interval", 1.0))
    while True:
        for byte in reply:
            w.write(bytes([byte]))
            await w.drain()
            await asyncio.sleep(interval)
        reply = b"a" * 64


async def _huge_body(
    r: asyncio.StreamReader, w: asyncio.StreamWriter, cfg: Mapping[str, Any]
) -> None:
    """Declare (and start sending) a body of ``size`` bytes, 100 MiB by default."""
    await _drain_request(r)
    size = int(cfg.get("size", 100 * 1024 * 1024))
    w.write(
        f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {size}\r\n\r\n".encode()
    )
    chunk = b"<html>" + b"A" * 65530
    sent = 0
    while sent < size:
        piece = chunk[: size - sent]
        w.write(piece)
        await w.drain()
        sent += len(piece)


async def _endless_chunked(
    r: asyncio.StreamReader, w: asyncio.StreamWriter, cfg: Mapping[str, Any]
) -> None:
    """A chunked response that never sends its last chunk."""
    await _drain_request(r)
    w.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n")
    piece = b"<a>" * 1000
    while True:
        w.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        await w.drain()
        await asyncio.sleep(float(cfg.get("interval", 0.01)))


async def _many_headers(
    r: asyncio.StreamReader, w: asyncio.StreamWriter, cfg: Mapping[str, Any]
) -> None:
    await _drain_request(r)
    count = int(cfg.get("count", 10000))
    heads = b"".join(b"X-Lab-%d: %d\r\n" % (i, i) for i in range(count))
    w.write(b"HTTP/1.1 200 OK\r\n" + heads + b"Content-Length: 2\r\n\r\nok")
    await w.drain()


async def _garbage(
    r: asyncio.StreamReader, w: asyncio.StreamWriter, cfg: Mapping[str, Any]
) -> None:
    """Binary junk with invalid UTF-8 and control characters where a status line should be."""
    await _drain_request(r)
    w.write(GARBAGE * int(cfg.get("repeat", 64)))
    await w.drain()


async def _stall(r: asyncio.StreamReader, w: asyncio.StreamWriter, cfg: Mapping[str, Any]) -> None:
    """Accept, read the client's first bytes (a TLS ClientHello), never answer."""
    while await r.read(4096):
        pass


_VARIANTS = {
    "slowloris": _slowloris,
    "huge_body": _huge_body,
    "endless_chunked": _endless_chunked,
    "many_headers": _many_headers,
    "garbage": _garbage,
    "stall": _stall,
}


def _register_tcp(kinds: tuple[str, ...]) -> None:
    for name, handler in _VARIANTS.items():

        def factory(
            device: Device, cfg: Mapping[str, Any], ctx: BuildContext, _h: Any = handler
        ) -> Built:
            return _tcp(_h, cfg)

        for kind in kinds:
            registry.register(kind, name)(factory)


_register_tcp(("http", "https", "onvif_http", "rtsp", "hik_sdk", "dahua_sdk", "dvrip"))


class RawReply(discovery.Responder):
    """Answers any datagram with the profile's ``reply`` text (an XML bomb, a huge document)."""

    def answer(self, data: bytes) -> list[bytes]:
        return [self.device.render(str(self.cfg.get("reply", ""))).encode("utf-8")]


class ProbeMatchFlood(discovery.WsDiscovery):
    """One device answering a probe as ``count`` different endpoints (10,000 by default)."""

    def answer(self, data: bytes) -> list[bytes]:
        replies = super().answer(data)
        if not replies:
            return []
        one = replies[0]
        count = int(self.cfg.get("count", 10000))
        own = self.device.uuid.encode()
        return [one.replace(own, str(uuid.uuid4()).encode()) for _ in range(count)]


class DhipHugeLength(discovery.Responder):
    """A DHIP reply whose header claims a 4 GiB body."""

    def answer(self, data: bytes) -> list[bytes]:
        if len(data) < 32 or data[4:8] != discovery.DHIP_MAGIC:
            return []
        body = b'{"method":"client.notifyDevInfo","params":{"deviceInfo":{}}}\n'
        head = struct.pack(
            "<I4sIIIIII", 0x20, discovery.DHIP_MAGIC, 0, 0, 0xFFFFFFF0, 0, 0xFFFFFFF0, 0
        )
        return [head + body]


def _udp_variant(cls: type[discovery.Responder], kind: str) -> registry.Factory:
    def factory(device: Device, cfg: Mapping[str, Any], ctx: BuildContext) -> Built:
        return UdpService(lambda: cls(device, cfg, 0.0), registry.GROUPS[kind])

    return factory


for _kind in ("wsd", "sadp", "dhip", "xm_discovery", "ssdp"):
    registry.register(_kind, "raw")(_udp_variant(RawReply, _kind))
registry.register("wsd", "flood")(_udp_variant(ProbeMatchFlood, "wsd"))
registry.register("dhip", "huge_length")(_udp_variant(DhipHugeLength, "dhip"))
