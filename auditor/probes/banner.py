"""The banner probe: what SSH, Telnet and FTP say on connect, before any login.

Both speak first, so reading is all it takes: nothing is sent (Telnet option negotiation is left
unanswered, which every server tolerates). Banners such as a Hikvision ``192.0.0.64 login:`` or a
Bosch ``Welcome to IP bullet 5000 HD`` greeting name the platform (Recog ``telnet_banners.xml``;
nmap-service-probes); an FTP greeting such as ``220 AXIS 214 PTZ Network Camera 4.49 ready``
names model and firmware (Recog ``ftp_banners.xml``). Nothing is sent to an FTP server either:
the greeting (RFC 959 §4.2, code 220, possibly multi-line) is read and the socket closed.
"""

from __future__ import annotations

from time import monotonic
from typing import ClassVar

from auditor.context import NetContext
from auditor.errors import ProbeError
from auditor.models import Host, Observation, ObservationKind, Reason
from auditor.net.exchange import exchange_deadline, probe_deadline
from auditor.net.wire import Deadline, Reader, connect
from auditor.ports import Role
from auditor.probes.common import gather, observation, require_ports
from auditor.probes.interface import Probe, ProbeName

MAX_BANNER = 4096
MAX_FTP_LINES = 20
IAC, SB, SE = 255, 250, 240


def strip_telnet(data: bytes) -> bytes:
    """Remove Telnet IAC commands and subnegotiations (RFC 854/855), keeping the text."""
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        b = data[i]
        if b != IAC:
            out.append(b)
            i += 1
            continue
        if i + 1 >= n:
            break
        cmd = data[i + 1]
        if cmd == IAC:
            out.append(IAC)
            i += 2
        elif cmd == SB:
            end = data.find(bytes([IAC, SE]), i + 2)
            i = n if end < 0 else end + 2
        elif 251 <= cmd <= 254:
            i += 3
        else:
            i += 2
    return bytes(out)


def ssh_identification(lines: list[bytes]) -> str | None:
    """The RFC 4253 §4.2 identification string among the first lines, if any."""
    for line in lines:
        if line.startswith(b"SSH-"):
            return line.rstrip(b"\r\n").decode("utf-8", errors="replace")
    return None


class BannerProbe(Probe):
    name: ClassVar[ProbeName] = ProbeName.BANNER

    def run(self, host: Host, ctx: NetContext) -> list[Observation]:
        ports = require_ports(host, ctx, Role.SSH, Role.TELNET, Role.FTP)
        overall = probe_deadline(ctx)

        def ask(port: int) -> list[Observation]:
            role = ctx.ports.role(port)
            if role is Role.SSH:
                return self._ssh(host, ctx, port, overall)
            if role is Role.FTP:
                return self._ftp(host, ctx, port, overall)
            return self._telnet(host, ctx, port, overall)

        return gather(ports, ask)

    @staticmethod
    def _ssh(host: Host, ctx: NetContext, port: int, overall: Deadline) -> list[Observation]:
        deadline = exchange_deadline(ctx, overall)
        what = f"{host.address}:{port}/tcp"
        sock = connect(ctx, host.address, port, deadline)
        try:
            reader = Reader.from_socket(sock, deadline, ctx.timeout, MAX_BANNER, what)
            lines = []
            for _ in range(10):  # a server may send a few lines before its identification
                line = reader.readline(limit=1024)
                if not line:
                    break
                lines.append(line)
                if line.startswith(b"SSH-"):
                    break
        finally:
            sock.close()
        ident = ssh_identification(lines)
        if ident is None:
            raise ProbeError(Reason.MALFORMED, f"{what}: no SSH identification string")
        return [observation(ObservationKind.SSH_BANNER, ident, f"ssh:{port}", port)]

    @staticmethod
    def _ftp(host: Host, ctx: NetContext, port: int, overall: Deadline) -> list[Observation]:
        deadline = exchange_deadline(ctx, overall)
        what = f"{host.address}:{port}/tcp"
        sock = connect(ctx, host.address, port, deadline)
        lines: list[str] = []
        try:
            reader = Reader.from_socket(sock, deadline, ctx.timeout, MAX_BANNER, what)
            for _ in range(MAX_FTP_LINES):
                raw = reader.readline(limit=1024)
                if not raw:
                    break
                line = raw.rstrip(b"\r\n").decode("utf-8", errors="replace")
                lines.append(line)
                # "220-" continues a multi-line reply; "220 " (or a bare code) ends it.
                if len(line) >= 3 and line[:3].isdigit() and line[3:4] != "-":
                    break
        finally:
            sock.close()
        if not lines or not lines[0][:3].isdigit():
            raise ProbeError(Reason.MALFORMED, f"{what}: no FTP greeting")
        text = "\n".join(lines).strip()
        return [observation(ObservationKind.FTP_BANNER, text, f"ftp:{port}", port)]

    @staticmethod
    def _telnet(host: Host, ctx: NetContext, port: int, overall: Deadline) -> list[Observation]:
        deadline = exchange_deadline(ctx, overall)
        what = f"{host.address}:{port}/tcp"
        sock = connect(ctx, host.address, port, deadline)
        data = bytearray()
        try:
            # Read until the greeting pauses: once text arrived, a short quiet spell ends it.
            quiet = min(0.5, ctx.timeout / 2)
            text_seen_at: float | None = None
            while len(data) < MAX_BANNER:
                wait = deadline.remaining()
                if text_seen_at is not None:
                    wait = min(wait, quiet)
                if wait <= 0:
                    break
                sock.settimeout(min(wait, ctx.timeout))
                try:
                    chunk = sock.recv(MAX_BANNER - len(data))
                except TimeoutError:
                    break
                except OSError as exc:
                    raise ProbeError(Reason.RESET, f"{what}: {type(exc).__name__}") from None
                if not chunk:
                    break
                data += chunk
                if text_seen_at is None and strip_telnet(bytes(data)).strip():
                    text_seen_at = monotonic()
        finally:
            sock.close()
        text = strip_telnet(bytes(data)).decode("utf-8", errors="replace").strip()
        if not text:
            reason = Reason.TIMEOUT if not data else Reason.MALFORMED
            raise ProbeError(reason, f"{what}: no telnet greeting")
        return [observation(ObservationKind.TELNET_BANNER, text, f"telnet:{port}", port)]
