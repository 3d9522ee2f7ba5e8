"""The banner probe: what SSH and Telnet say on connect, before any login.

Both speak first, so reading is all it takes: nothing is sent (Telnet option negotiation is left
unanswered, which every server tolerates). Banners such as a Hikvision ``192.0.0.64 login:`` or a
Bosch ``Welcome to IP bullet 5000 HD`` greeting name the platform (Recog ``telnet_banners.xml``;
nmap-service-probes).
"""

from __future__ import annotations

from time import monotonic
from typing import ClassVar

from auditor.context import NetContext
from auditor.errors import ProbeError
from auditor.models import Host, Observation, ObservationKind, Reason
from auditor.ports import Role
from auditor.probes.common import gather, observation, require_ports
from auditor.probes.exchange import exchange_deadline, probe_deadline
from auditor.probes.interface import Probe
from auditor.probes.wire import Deadline, Reader, connect

MAX_BANNER = 4096
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
    name: ClassVar[str] = "banner"

    def run(self, host: Host, ctx: NetContext) -> list[Observation]:
        ports = require_ports(host, ctx, Role.SSH, Role.TELNET)
        overall = probe_deadline(ctx)

        def ask(port: int) -> list[Observation]:
            if ctx.ports.role(port) is Role.SSH:
                return self._ssh(host, ctx, port, overall)
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
