"""Small TCP personalities: vendor SDK ports, Xiongmai DVRIP, telnet login banners."""

from __future__ import annotations

import asyncio
import codecs
import hashlib
import json
import struct
from collections.abc import Mapping
from typing import Any

from auditor.lab.device import Device, Received
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


_SOFIA = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
LOGIN, SYSINFO = 1000, 1020
#: DVRIP return codes (python-dvr ``DVRIPCam.CODES``): OK, not logged in, wrong password, no user.
RET_OK, RET_NOT_LOGGED_IN, RET_BAD_PASSWORD, RET_NO_USER = 100, 105, 203, 205


def sofia_hash(password: str) -> str:
    """XMEye's password hash: MD5, each byte pair summed mod 62 into 0-9A-Za-z (8 chars)."""
    digest = hashlib.md5(password.encode("utf-8"), usedforsecurity=False).digest()
    return "".join(_SOFIA[(digest[i] + digest[i + 1]) % 62] for i in range(0, 16, 2))


class DvripServer(BannerServer):
    """Xiongmai NETIP/DVRIP (TCP 34567): 20-byte header + JSON, reply id = request id + 1.

    Login (1000) checks the user and the Sofia password hash against the lab credentials and
    opens a session; SystemInfo (1020) answers with the profile's ``system_info`` only inside a
    session. ``replies`` adds fixed answers for other ids; unknown ids get no answer.
    """

    async def converse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        replies: Mapping[Any, Any] = self.cfg.get("replies", {})
        sessions: set[int] = set()
        for _ in range(16):
            head = await asyncio.wait_for(reader.readexactly(DVRIP_HEADER.size), IDLE_TIMEOUT)
            magic, _v, _r, session, seq, _t, msg, length = DVRIP_HEADER.unpack(head)
            if magic != 0xFF or length > 64 * 1024:
                return
            raw = (
                await asyncio.wait_for(reader.readexactly(length), IDLE_TIMEOUT) if length else b""
            )
            try:
                request = json.loads(raw.rstrip(b"\x00\n ").decode("utf-8") or "{}")
            except ValueError:
                request = {}
            if not isinstance(request, dict):
                request = {}
            reply: Any
            if msg == LOGIN:
                session, reply = self.login(request, len(sessions) + 1)
                if reply["Ret"] == RET_OK:
                    sessions.add(session)
                sockname = writer.get_extra_info("sockname")
                self.device.record(
                    Received(
                        "dvrip",
                        int(sockname[1]) if isinstance(sockname, tuple) else 0,
                        "login 1000",
                        f"dvrip {request.get('UserName', '')} {request.get('PassWord', '')}",
                        "accepted" if reply["Ret"] == RET_OK else "refused",
                    )
                )
            elif msg == SYSINFO and "system_info" in self.cfg:
                reply = self.system_info(session in sessions, session)
            else:
                reply = replies.get(msg, replies.get(str(msg)))
                if reply is None:
                    continue
                reply = _render_tree(self.device, reply)
            body = json.dumps(reply).encode() + b"\n\x00"
            writer.write(DVRIP_HEADER.pack(0xFF, 1, 0, session, seq, 0, msg + 1, len(body)) + body)
            await writer.drain()

    def login(self, request: Mapping[str, Any], number: int) -> tuple[int, dict[str, Any]]:
        if request.get("UserName") != self.device.username:
            return 0, {"Name": "", "Ret": RET_NO_USER, "SessionID": "0x00000000"}
        password = str(self.cfg.get("password", self.device.password))
        if request.get("PassWord") != sofia_hash(password):
            return 0, {"Name": "", "Ret": RET_BAD_PASSWORD, "SessionID": "0x00000000"}
        # "DeviceType " with its trailing space is how the firmware spells it (python-dvr).
        return number, {
            "AliveInterval": 21,
            "ChannelNum": int(self.cfg.get("channels", 4)),
            "DeviceType ": str(self.cfg.get("device_kind", "DVR")),
            "ExtraChannel": 0,
            "Ret": RET_OK,
            "SessionID": f"0x{number:08X}",
        }

    def system_info(self, logged_in: bool, session: int) -> dict[str, Any]:
        sid = f"0x{session:08X}"
        if not logged_in:
            return {"Name": "SystemInfo", "Ret": RET_NOT_LOGGED_IN, "SessionID": sid}
        info = _render_tree(self.device, self.cfg.get("system_info", {}))
        return {"Name": "SystemInfo", "Ret": RET_OK, "SessionID": sid, "SystemInfo": info}
