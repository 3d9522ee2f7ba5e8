"""The emulated devices' RTSP servers: OPTIONS, DESCRIBE behind Digest/Basic, vendor headers."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from auditor.lab import auth
from auditor.lab.device import Device
from auditor.lab.httpd import READ_TIMEOUT, parse_head

_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    454: "Session Not Found",
    501: "Not Implemented",
}
MAX_REQUESTS = 32


class RtspServer:
    def __init__(self, device: Device, cfg: Mapping[str, Any]) -> None:
        self.device = device
        self.cfg = cfg
        self.nonces: set[str] = set()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            for _ in range(MAX_REQUESTS):
                try:
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT)
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
                    return
                writer.write(self.reply(head[:-4]))
                await asyncio.wait_for(writer.drain(), READ_TIMEOUT)
        except (OSError, TimeoutError):
            pass
        finally:
            writer.close()

    def reply(self, head: bytes) -> bytes:
        try:
            req = parse_head(head)
        except (ValueError, UnicodeDecodeError):
            return self.build(400, "0", [])
        cseq = req.headers.get("cseq", "0")
        if req.method == "OPTIONS":
            public = str(self.cfg.get("public", "OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN"))
            return self.build(int(self.cfg.get("options_status", 200)), cseq, [("Public", public)])
        if req.method == "DESCRIBE":
            denied = self.check(req.headers.get("authorization", ""), req.method)
            if denied is not None:
                return self.build(401, cseq, denied)
            sdp = self.device.render(str(self.cfg.get("sdp", "v=0\r\ns=Session\r\n")))
            sdp = sdp.replace("\r\n", "\n").replace("\n", "\r\n")
            return self.build(
                200,
                cseq,
                [
                    ("Content-Type", "application/sdp"),
                    ("Content-Base", req.target.rstrip("/") + "/"),
                ],
                sdp.encode(),
            )
        if req.method in ("SETUP", "PLAY", "PAUSE", "TEARDOWN", "GET_PARAMETER", "SET_PARAMETER"):
            # Streaming is out of the lab's scope (and of the auditor's): answer as an idle server.
            denied = self.check(req.headers.get("authorization", ""), req.method)
            return self.build(401 if denied else 454, cseq, denied or [])
        return self.build(405, cseq, [])

    def check(self, given: str, method: str) -> list[tuple[str, str]] | None:
        scheme = str(self.cfg.get("auth", "digest"))
        if scheme == "none":
            return None
        realm = self.device.render(str(self.cfg.get("realm", "lab")))
        user, password = self.device.username, self.device.password
        if "digest" in scheme and auth.check_digest(
            given, method, realm, self.nonces, user, password
        ):
            return None
        if "basic" in scheme and auth.check_basic(given, user, password):
            return None
        headers: list[tuple[str, str]] = []
        if "digest" in scheme:
            nonce = auth.new_nonce()
            if len(self.nonces) > 512:
                self.nonces.clear()
            self.nonces.add(nonce)
            extra = str(self.cfg.get("challenge_extra", ""))
            headers.append(
                ("WWW-Authenticate", auth.digest_challenge(realm, nonce, qop=False, extra=extra))
            )
        if "basic" in scheme:
            basic_realm = self.device.render(str(self.cfg.get("basic_realm", realm)))
            headers.append(("WWW-Authenticate", f'Basic realm="{basic_realm}"'))
        return headers

    def build(
        self, status: int, cseq: str, headers: list[tuple[str, str]], body: bytes = b""
    ) -> bytes:
        cseq_name = str(self.cfg.get("cseq_header", "CSeq"))
        lines = [f"RTSP/1.0 {status} {_REASONS.get(status, 'OK')}", f"{cseq_name}: {cseq}"]
        lines += [f"{k}: {v}" for k, v in headers]
        if self.cfg.get("server"):
            lines.append(f"Server: {self.device.render(str(self.cfg['server']))}")
        if body or status != 200:
            lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body
