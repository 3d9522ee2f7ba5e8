"""The RTSP probe: OPTIONS and DESCRIBE on the root URL; no credentials, no guessed paths.

What identifies a platform here is the Server header (``Dahua Rtsp Server``, ``H264DVR 1.0``), the
401 realm (``IP Camera(C1214)``, ``Login to <serial>``) and vendor lines in an SDP that a device
serves without authentication (research/protocols.md §5).
"""

from __future__ import annotations

import logging
from typing import ClassVar

from auditor.context import NetContext
from auditor.errors import ProbeError
from auditor.models import Host, Observation, ObservationKind, Reason
from auditor.net.auth import challenges_of
from auditor.net.exchange import USER_AGENT, Endpoint, exchange_deadline, probe_deadline
from auditor.net.wire import Deadline, Reader, Response, connect, read_response
from auditor.ports import Role
from auditor.probes.common import decode, gather, observation, require_ports
from auditor.probes.interface import Probe, ProbeName

logger = logging.getLogger(__name__)

MAX_SDP = 8 * 1024


def parse_rtsp_response(data: bytes, cap: int = 1 << 20) -> Response:
    """One RTSP reply from bytes (bodies need Content-Length in RTSP); MALFORMED otherwise."""
    resp = read_response(Reader.from_chunks([data], cap), until_eof=False)
    if resp.protocol != "RTSP":
        raise ProbeError(Reason.MALFORMED, f"an {resp.protocol} reply on an RTSP port")
    return resp


def sdp_markers(body: bytes) -> str | None:
    """The SDP text as the device sent it (capped), or None when the body is not SDP.

    Kept whole: the identifying lines (``s=``, ``i=``, ``a=tool:``, Hikvision's
    ``a=Media_header:MEDIAINFO=...``) sit among ordinary ones, and fingerprints match lines.
    """
    text = decode(body)[:MAX_SDP]
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines or not lines[0].startswith("v="):
        return None
    return "\n".join(lines)


class RtspProbe(Probe):
    name: ClassVar[ProbeName] = ProbeName.RTSP

    def run(self, host: Host, ctx: NetContext) -> list[Observation]:
        ports = require_ports(host, ctx, Role.RTSP)
        overall = probe_deadline(ctx)
        return gather(ports, lambda port: self._port(host, ctx, port, overall))

    def _port(self, host: Host, ctx: NetContext, port: int, overall: Deadline) -> list[Observation]:
        ep = Endpoint(host.address, port)
        host_part = f"[{host.address}]" if host.address.version == 6 else str(host.address)
        url = f"rtsp://{host_part}:{port}/"
        src = f"rtsp:{port}"
        found: list[Observation] = []
        for cseq, method, extra in (
            (1, "OPTIONS", ()),
            (2, "DESCRIBE", (("Accept", "application/sdp"),)),
        ):
            try:
                resp = self._ask(ctx, ep, overall, method, url, cseq, extra)
            except ProbeError:
                if not found:
                    raise
                break  # OPTIONS answered; a failed DESCRIBE keeps what OPTIONS said
            found.extend(self._observe(resp, src, port))
        return found

    @staticmethod
    def _ask(
        ctx: NetContext,
        ep: Endpoint,
        overall: Deadline,
        method: str,
        url: str,
        cseq: int,
        extra: tuple[tuple[str, str], ...],
    ) -> Response:
        deadline = exchange_deadline(ctx, overall)
        lines = [f"{method} {url} RTSP/1.0", f"CSeq: {cseq}", f"User-Agent: {USER_AGENT}"]
        lines += [f"{k}: {v}" for k, v in extra]
        what = f"{ep.address}:{ep.port}/tcp"
        sock = connect(ctx, ep.address, ep.port, deadline)
        try:
            sock.settimeout(deadline.op_timeout(ctx.timeout))
            try:
                sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("ascii"))
            except OSError:
                raise ProbeError(Reason.RESET, f"{what}: send failed") from None
            reader = Reader.from_socket(sock, deadline, ctx.timeout, ctx.max_read_bytes, what)
            resp = read_response(reader, method=method, until_eof=False)
        finally:
            sock.close()
        if resp.protocol != "RTSP":
            raise ProbeError(Reason.MALFORMED, f"{what}: an {resp.protocol} reply to RTSP")
        return resp

    @staticmethod
    def _observe(resp: Response, src: str, port: int) -> list[Observation]:
        out: list[Observation] = []
        server = resp.header("Server")
        if server:
            out.append(observation(ObservationKind.RTSP_SERVER, server, src, port))
        try:
            challenges = challenges_of(resp.header_all("WWW-Authenticate"))
            values = [c.summary for c in challenges]
        except ProbeError:
            values = resp.header_all("WWW-Authenticate")
        out += [observation(ObservationKind.RTSP_WWW_AUTHENTICATE, v, src, port) for v in values]
        if resp.body:
            sdp = sdp_markers(resp.body)
            if sdp:
                out.append(observation(ObservationKind.RTSP_SDP, sdp, src, port))
        return out
