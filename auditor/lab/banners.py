"""Small TCP personalities: vendor SDK ports, Xiongmai DVRIP, telnet login banners."""

from __future__ import annotations

import asyncio
import codecs
import json
import struct
from collections.abc import Mapping
from typing import Any

from auditor.lab.device import Device
from auditor.lab.discovery import _render_tree

IDLE_TIMEOUT = 10.0


def unescape_bytes(text: str) -> bytes:
    """Profiles write binary banners with Python escapes (``\\x10``), as nmap's probe file does."""
    return codecs.escape_decode(text.encode("latin-1"))[0]


class BannerServer:
    """Sends an optional banner on connect, then reads (bounded) until the client goes away.

    With no banner it is just an open port, which is how an SDK port behaves towards a client
    that does not speak its protocol.
    """

    def __init__(self, device: Device, cfg: Mapping[str, Any]) -> None:
        self.device = device
        self.cfg = cfg

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            banner = self.cfg.get("banner")
            if banner:
                writer.write(unescape_bytes(self.device.render(str(banner))))
                await writer.drain()
            await self.converse(reader, writer)
        except (OSError, TimeoutError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def converse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        total = 0
        while total < 64 * 1024:
            chunk = await asyncio.wait_for(reader.read(4096), IDLE_TIMEOUT)
            if not chunk:
                return
            total += len(chunk)


DVRIP_HEADER = struct.Struct("<BBHIIHHI")


class DvripServer(BannerServer):
    """Xiongmai NETIP/DVRIP (TCP 34567): 20-byte header + JSON; replies come from the profile.

    ``replies`` maps a request message id to the JSON the device returns (with id + 1, as the
    protocol pairs them; python-dvr ``dvrip.py``). Unknown ids get no answer, like the firmware.
    """

    async def converse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        replies: Mapping[Any, Any] = self.cfg.get("replies", {})
        for _ in range(16):
            head = await asyncio.wait_for(reader.readexactly(DVRIP_HEADER.size), IDLE_TIMEOUT)
            magic, _v, _r, session, seq, _t, msg, length = DVRIP_HEADER.unpack(head)
            if magic != 0xFF or length > 64 * 1024:
                return
            if length:
                await asyncio.wait_for(reader.readexactly(length), IDLE_TIMEOUT)
            reply = replies.get(msg, replies.get(str(msg)))
            if reply is None:
                continue
            body = json.dumps(_render_tree(self.device, reply)).encode() + b"\n\x00"
            writer.write(DVRIP_HEADER.pack(0xFF, 1, 0, session, seq, 0, msg + 1, len(body)) + body)
            await writer.drain()
