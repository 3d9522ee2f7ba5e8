"""The emulated devices' RTSP servers: OPTIONS, DESCRIBE behind Digest/Basic, vendor headers."""

from __future__ import annotations

import asyncio
import re
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
_CSEQ = re.compile(r"\s*(\d+)")


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
        """One answer, shaped by the profile: how the firmware treats non-RTSP requests
        (``non_rtsp``: bad_request, options or rtsp), a missing CSeq (``missing_cseq``: a value
        or ``omit``), and whether OPTIONS needs credentials (``options_auth``)."""
        missing = str(self.cfg.get("missing_cseq", "0"))
        try:
            req = parse_head(head)
        except (ValueError, UnicodeDecodeError):
            return self.build(400, missing, [])
        # Echo the CSeq number only ("42 OPTIONS" from a SIP request becomes "42").
        raw = req.headers.get("cseq")
        number = _CSEQ.match(raw) if raw is not None else None
        cseq = number.group(1) if number else (raw.strip()[:16] if raw else missing)
        method = req.method
        if not req.version.startswith("RTSP/"):
            mode = str(self.cfg.get("non_rtsp", "bad_request"))
            if mode == "bad_request":
                return self.build(400, cseq, [])
            if mode == "options":
                method = "OPTIONS"
        if method == "OPTIONS":
            if self.cfg.get("options_auth"):
                denied = self.check(req.headers.get("authorization", ""), method)
                if denied is not None:
                    return self.build(401, cseq, denied)
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
        lines = [f"RTSP/1.0 {status} {_REASONS.get(status, 'OK')}"]
        if cseq != "omit":
            lines.append(f"{self.cfg.get('cseq_header', 'CSeq')}: {cseq}")
        server = (
            [f"Server: {self.device.render(str(self.cfg['server']))}"]
            if self.cfg.get("server")
            else []
        )
        first = bool(self.cfg.get("server_first", False))
        lines += (server if first else []) + [f"{k}: {v}" for k, v in headers]
        lines += [] if first else server
        # ``bare`` firmware sends no Content-Length on an empty reply (nmap lines 11372, 14561).
        if body or (status != 200 and not self.cfg.get("bare")):
            lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body
