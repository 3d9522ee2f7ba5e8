"""The SNMP probe: sysDescr and sysObjectID with one SNMPv2c GET, only with the user's community.

SNMP communities are passwords; guessing one ("public", "private") is credential guessing, which
camaudit never does. Without a community the user gave (credentials file ``snmp:`` section or
CAMAUDIT_SNMP_COMMUNITY) the probe does not run. With one it sends a single GetRequest (a read:
no SET, no walk) and retries once on silence, since UDP may drop a datagram. Recog's
``snmp_sysdescr.xml`` shows how much sysDescr names ("Canon Network Camera VB-C60").
"""

from __future__ import annotations

import secrets
import socket
import time
from typing import ClassVar

from auditor.context import NetContext
from auditor.errors import ProbeError, ProbeNotRun
from auditor.models import Channel, Host, Observation, ObservationKind, Reason
from auditor.net import ber
from auditor.probes.common import observation
from auditor.probes.interface import Probe, ProbeName

SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_OBJECT_ID = "1.3.6.1.2.1.1.2.0"
MAX_REPLY = 8192
"""A two-varbind answer is a few hundred bytes; more is refused as too large."""
ATTEMPTS = 2
MAX_TEXT = 1024


def answered_arp_only(host: Host) -> bool:
    """The port scan saw the address up (an ARP or ping reply) with every scanned port closed or
    filtered, and no discovery protocol heard from it: a firewalled or idle address. Cameras,
    recorders and the devices beside them serve something; the community, a password, goes
    only where something answers (and waiting out two SNMP timeouts on each such address was
    the tail of a /24 audit with 50 of them)."""
    return host.seen_by == frozenset({Channel.NMAP}) and not host.services


class SnmpProbe(Probe):
    name: ClassVar[ProbeName] = ProbeName.SNMP

    def run(self, host: Host, ctx: NetContext) -> list[Observation]:
        community = ctx.credentials.snmp_community(host.address)
        if community is None:
            raise ProbeNotRun(Reason.NO_CREDENTIALS, "no SNMP community given")
        if answered_arp_only(host):
            raise ProbeNotRun(
                Reason.NOT_APPLICABLE,
                "the port scan found no open port and no discovery protocol answered: nothing "
                "suggests an SNMP agent, so the community is not sent",
            )
        port = ctx.snmp_port
        where = f"{host.address}:{port}/udp"
        if not ctx.allows(host.address):
            # Probes only get in-scope hosts; this is the last line of defence, not the policy.
            raise ProbeError(Reason.OUT_OF_SCOPE, f"{host.address} is outside the audit scope")
        request_id = secrets.randbelow(2**31 - 1) + 1
        request = ber.get_request(
            community.reveal().encode("utf-8"), request_id, (SYS_DESCR, SYS_OBJECT_ID)
        )
        family = socket.AF_INET6 if host.address.version == 6 else socket.AF_INET
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            # A connected UDP socket only receives datagrams from the target itself.
            sock.connect((str(host.address), port))
            data = None
            for _ in range(ATTEMPTS):
                ctx.rate.acquire()
                try:
                    sock.send(request)
                except OSError as exc:
                    raise ProbeError(Reason.UNREACHABLE, f"{where}: {exc.strerror}") from None
                data = self._receive(sock, ctx.timeout, request_id, where)
                if data is not None:
                    break
        if data is None:
            # A wrong community and no agent look the same: SNMP agents stay silent on both.
            raise ProbeError(
                Reason.TIMEOUT, f"{where}: no SNMP answer (agent absent or community refused)"
            )
        return self._observations(data, port, where)

    @staticmethod
    def _receive(
        sock: socket.socket, timeout: float, request_id: int, where: str
    ) -> ber.Response | None:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            try:
                raw = sock.recv(MAX_REPLY + 1)
            except TimeoutError:
                return None
            except ConnectionRefusedError:
                # ICMP port unreachable: nothing listens on the SNMP port. That is a device
                # without an agent, like a closed TCP port, not a probe that failed (which would
                # mark every host without SNMP incomplete once a community is given).
                raise ProbeNotRun(
                    Reason.NO_SERVICE, f"{where} is closed (ICMP port unreachable): no SNMP agent"
                ) from None
            except OSError as exc:
                raise ProbeError(Reason.UNREACHABLE, f"{where}: {exc.strerror}") from None
            if len(raw) > MAX_REPLY:
                raise ProbeError(Reason.TOO_LARGE, f"{where}: reply over {MAX_REPLY} bytes")
            try:
                reply = ber.parse_message(raw)
            except ber.BerError as exc:
                raise ProbeError(Reason.MALFORMED, f"{where}: {exc}") from None
            if reply.request_id == request_id:
                return reply
            # A late answer to the first attempt carries the same id; anything else is stale.
        return None

    @staticmethod
    def _observations(reply: ber.Response, port: int, where: str) -> list[Observation]:
        if reply.error_status != 0:
            raise ProbeError(Reason.MALFORMED, f"{where}: SNMP error-status {reply.error_status}")
        found: list[Observation] = []
        source = f"snmp:{port}"
        for name, value in reply.varbinds:
            if value.exception is not None:
                continue  # the agent does not expose this object: nothing to report
            if name == SYS_DESCR and isinstance(value.value, bytes):
                text = value.value.decode("utf-8", errors="replace").strip()[:MAX_TEXT]
                if text:
                    found.append(observation(ObservationKind.SNMP_SYSDESCR, text, source, port))
            elif name == SYS_OBJECT_ID and isinstance(value.value, str):
                found.append(
                    observation(ObservationKind.SNMP_SYSOBJECTID, value.value, source, port)
                )
        return found
