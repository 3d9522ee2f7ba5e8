"""Hostile TCP servers: each answers the way a broken or malicious device does, on a real socket.

They register as profile variants (``http: {variant: reset}``) in the lab's server registry,
so a hostile device is just a profile. Every behaviour ends when the client gives up (a closed
connection surfaces as an OSError on write), so a test site never keeps working after the
auditor has moved on; ``MAX_SECONDS`` bounds the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from auditor.lab import registry
from auditor.lab.device import Device, Received
from auditor.lab.hostile.payloads import render_payload

#: No hostile behaviour lasts longer than this, even against a client that never gives up.
MAX_SECONDS = 120.0

Behaviour = Callable[
    [Device, Mapping[str, Any], asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]
]


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """The request head (bounded); b"" when the client sent nothing usable."""
    with contextlib.suppress(
        asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, OSError
    ):
        return await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10.0)
    return b""


def request_path(head: bytes) -> str:
    parts = head.split(b"\r\n", 1)[0].split(b" ")
    return parts[1].decode("latin-1").split("?", 1)[0] if len(parts) >= 2 else "/"


def http_head(status: str, headers: list[tuple[str, str]]) -> bytes:
    lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _payload(
    device: Device,
    cfg: Mapping[str, Any],
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
) -> None:
    """Answer each request with a named payload, per path (``responses``) or ``default``; RTSP
    clients send several requests on one connection, so this answers until they stop."""
    for _ in range(8):
        head = await read_request(reader)
        if not head:
            return
        responses: Mapping[str, Any] = cfg.get("responses", {})
        name = responses.get(request_path(head), cfg.get("default", "binary"))
        writer.write(render_payload(str(name), device, head))
        await writer.drain()
        if not cfg.get("keep_alive", False):
            return


async def _reset(
    device: Device,
    cfg: Mapping[str, Any],
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
) -> None:
    """Read the request, then abort with a TCP RST (SO_LINGER 0), as a crashing httpd does."""
    await read_request(reader)
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _vanish(
    device: Device,
    cfg: Mapping[str, Any],
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
) -> None:
    """Half a response, then nothing: no more bytes and no FIN, as when a host drops off the net."""
    await read_request(reader)
    writer.write(b"HTTP/1.1 200 OK\r\nServer: vanishing\r\nContent-Le")
    await writer.drain()
    await asyncio.sleep(MAX_SECONDS)


async def _sink(
    device: Device,
    cfg: Mapping[str, Any],
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
) -> None:
    """An open port that never answers (some other program's port, not the service the port
    number suggests) and logs whether the client sent it a DVRIP login (issue 13)."""
    data = b""
    with contextlib.suppress(TimeoutError, OSError):
        while len(data) < 64 * 1024:
            chunk = await asyncio.wait_for(reader.read(4096), 10.0)
            if not chunk:
                break
            data += chunk
            if b'"PassWord"' in data:
                break
    if data:
        sockname = writer.get_extra_info("sockname")
        login = b'"PassWord"' in data
        device.record(
            Received(
                "dvrip" if login else "raw",
                int(sockname[1]) if isinstance(sockname, tuple) else 0,
                "login 1000" if login else f"{len(data)} bytes",
                "dvrip login" if login else "",
                "refused" if login else "none",
            )
        )


#: Behaviours the lab's own variants (auditor/lab/variants.py: slowloris, huge_body,
#: endless_chunked, many_headers, garbage, stall) do not cover.
BEHAVIOURS: dict[str, Behaviour] = {
    "payload": _payload,
    "reset": _reset,
    "vanish": _vanish,
    "sink": _sink,
}


def _handler(
    device: Device, cfg: Mapping[str, Any], behaviour: Behaviour
) -> registry.StreamHandler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(MAX_SECONDS):
                await behaviour(device, cfg, reader, writer)
        except (OSError, TimeoutError, asyncio.IncompleteReadError):
            pass  # the auditor gave up: exactly what the behaviour is for
        except asyncio.CancelledError:
            return  # the site is stopping; asyncio would log a cancelled handler as an error
        finally:
            writer.close()

    return handle


def _factory(behaviour: Behaviour) -> registry.Factory:
    def factory(
        device: Device, cfg: Mapping[str, Any], ctx: registry.BuildContext
    ) -> registry.Built:
        # No TLS context even on https: the hostile servers speak (or refuse to speak) raw bytes.
        return registry.TcpService(_handler(device, cfg, behaviour))

    return factory


def register_all() -> None:
    for kind in (
        "http",
        "https",
        "onvif_http",
        "rtsp",
        "dvrip",
        "hik_sdk",
        "dahua_sdk",
        "telnet",
        "ssh",
    ):
        for name, behaviour in BEHAVIOURS.items():
            registry.register(kind, name)(_factory(behaviour))
