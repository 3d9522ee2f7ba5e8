"""The Xiongmai DVRIP ("NETIP"/Sofia) probe on TCP 34567: one read-only SystemInfo query.

Frame (research/protocols.md §3 [S28]; OpenIPC/python-dvr): a 20-byte little-endian header
``head 0xFF, version, 2 reserved, session u32, sequence u32, 2 bytes, message id u16, length u32``
then JSON. The device answers only after a login (1000), so the probe needs the user's credentials:
it records the login reply (``dvrip.banner``: its fields and error codes name the platform even
when the login is refused) and then the SystemInfo reply (1020 -> ``dvrip.system_info``). No
credentials: not run; the port's openness is already in the host's services.

The login carries the user name in clear and a hash as good as the password, so it goes only to
a device that already identified as DVRIP-speaking (an XMEye discovery reply or Xiongmai platform
evidence: ``auditor.probes.access.speaks_dvrip``), never to any host with 34567 open, and not to
a device that already refused this credential set.

Hikvision 8000 and Dahua 37777 are not probed: neither says anything before a client's login
packet, so there is no harmless read; their openness is already in the host's services.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import ClassVar

from auditor.context import NetContext
from auditor.credentials import Credential, sofia_hash
from auditor.errors import ProbeError, ProbeNotRun
from auditor.models import Host, Observation, ObservationKind, Reason
from auditor.net.exchange import exchange_deadline, probe_deadline
from auditor.net.wire import Deadline, Reader, connect
from auditor.ports import Role
from auditor.probes.access import (
    VendorEvidence,
    credential_for,
    speaks_dvrip,
    vendors_in_evidence,
)
from auditor.probes.common import gather, observation, require_ports
from auditor.probes.interface import PartialFailure, Probe, ProbeName

HEADER = struct.Struct("<BB2xIIBBHI")
LOGIN, LOGIN_REPLY = 1000, 1001
SYSINFO, SYSINFO_REPLY = 1020, 1021
RET_OK = 100
__all__ = ["DvripProbe", "Frame", "frame", "parse_frame", "read_frame", "sofia_hash"]


def frame(message: int, payload: dict[str, object], session: int = 0, sequence: int = 0) -> bytes:
    data = json.dumps(payload, separators=(",", ":")).encode() + b"\n\x00"
    return HEADER.pack(0xFF, 0, session, sequence, 0, 0, message, len(data)) + data


@dataclass(frozen=True, slots=True)
class Frame:
    session: int
    message: int
    text: str
    """The JSON payload as text (trailing newline/NUL removed)."""

    def json(self) -> dict[str, object]:
        try:
            value = json.loads(self.text)
        except ValueError:
            raise ProbeError(
                Reason.MALFORMED, f"DVRIP {self.message}: payload is not JSON"
            ) from None
        if not isinstance(value, dict):
            raise ProbeError(Reason.MALFORMED, f"DVRIP {self.message}: payload is not an object")
        return value


def read_frame(reader: Reader) -> Frame:
    """One DVRIP reply; anything that is not a 0xFF-headed frame is MALFORMED."""
    head = reader.read(HEADER.size)
    magic, _version, session, _seq, _a, _b, message, length = HEADER.unpack(head)
    if magic != 0xFF:
        raise ProbeError(Reason.MALFORMED, f"not a DVRIP frame (first byte 0x{magic:02x})")
    payload = reader.read(length)
    text = payload.rstrip(b"\x00").rstrip().decode("utf-8", errors="replace")
    return Frame(session, message, text)


def parse_frame(data: bytes, cap: int = 1 << 20) -> Frame:
    return read_frame(Reader.from_chunks([data], cap))


class DvripProbe(Probe):
    name: ClassVar[ProbeName] = ProbeName.DVRIP

    def __init__(self, evidence: VendorEvidence = vendors_in_evidence) -> None:
        self.evidence = evidence

    def run(self, host: Host, ctx: NetContext) -> list[Observation]:
        ports = require_ports(host, ctx, Role.DVRIP)

        def applies() -> None:
            if not speaks_dvrip(host, self.evidence):
                raise ProbeNotRun(
                    Reason.NOT_APPLICABLE,
                    "no login sent: nothing so far shows a DVRIP (Xiongmai) device; an open "
                    f"port {'/'.join(map(str, ports))} alone is not enough",
                )

        credential = credential_for(host, ctx, "DVRIP (it answers only after a login)", applies)
        overall = probe_deadline(ctx)

        def ask(port: int) -> list[Observation]:
            # One refused login ends it: the other ports (and probes) do not try again; the
            # refusal itself is already the attempt's result.
            if ctx.logins.refusal(host.address, credential) is not None:
                return []
            return self._port(host, ctx, port, overall, credential)

        return gather(ports, ask)

    @staticmethod
    def _port(
        host: Host, ctx: NetContext, port: int, overall: Deadline, credential: Credential
    ) -> list[Observation]:
        deadline = exchange_deadline(ctx, overall)
        what = f"{host.address}:{port}/tcp"
        src = f"dvrip:{port}"
        sock = connect(ctx, host.address, port, deadline)
        try:
            reader = Reader.from_socket(sock, deadline, ctx.timeout, ctx.max_read_bytes, what)

            def send(data: bytes) -> None:
                sock.settimeout(deadline.op_timeout(ctx.timeout))
                try:
                    sock.sendall(data)
                except OSError:
                    raise ProbeError(Reason.RESET, f"{what}: send failed") from None

            found: list[Observation] = []
            send(
                frame(
                    LOGIN,
                    {
                        "EncryptType": "MD5",
                        "LoginType": "DVRIP-Web",
                        "PassWord": sofia_hash(credential.password.reveal()),
                        "UserName": credential.username,
                    },
                )
            )
            reply = read_frame(reader)
            found.append(observation(ObservationKind.DVRIP_BANNER, reply.text, src, port))
            ret = reply.json().get("Ret")
            if ret != RET_OK:
                # Report the refusal, keep the banner: the reply itself names the platform.
                ctx.logins.record_refusal(
                    host.address, credential, f"{src} (login Ret {str(ret)[:40]})"
                )
                raise PartialFailure(
                    Reason.AUTH_FAILED,
                    f"{what}: login Ret {str(ret)[:40]}, {credential.describe} refused",
                    found,
                )
            session = reply.session
            sid = f"0x{session:08X}"
            send(frame(SYSINFO, {"Name": "SystemInfo", "SessionID": sid}, session, 1))
            reply = read_frame(reader)
            body = reply.json()
            if body.get("Ret") == RET_OK and isinstance(body.get("SystemInfo"), dict):
                found.append(observation(ObservationKind.DVRIP_SYSTEM_INFO, reply.text, src, port))
            else:
                found.append(observation(ObservationKind.DVRIP_BANNER, reply.text, src, port))
            return found
        finally:
            sock.close()
