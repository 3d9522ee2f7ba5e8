"""The banner probe's failure outcomes against real loopback listeners."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from auditor.models import Outcome, ProbeAttempt, Reason
from auditor.ports import Role
from auditor.probes import attempt
from auditor.probes.banner import BannerProbe, strip_telnet
from tests.probes.probe_peers import closed_port, make_ctx, make_host, silent


def run(port: int, role: Role) -> ProbeAttempt:
    return attempt(BannerProbe(), make_host((port,)), make_ctx({port: role}))


def test_silent_ssh_and_telnet_time_out(peer):
    for role in (Role.SSH, Role.TELNET):
        result = run(peer(silent).port, role)
        assert (result.outcome, result.reason) == (Outcome.FAILED, Reason.TIMEOUT)


def test_not_ssh_is_malformed_and_closed_is_refused(peer):
    def http_like(conn):
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")

    result = run(peer(http_like).port, Role.SSH)
    assert (result.outcome, result.reason) == (Outcome.FAILED, Reason.MALFORMED)
    result = run(closed_port(), Role.TELNET)
    assert (result.outcome, result.reason) == (Outcome.FAILED, Reason.REFUSED)


def test_telnet_greeting_after_negotiation(peer):
    def greet(conn):
        conn.sendall(b"\xff\xfb\x01\xff\xfb\x03\xff\xfa\x18\x01\xff\xf0")
        conn.sendall(b"\r\n192.0.0.64 login: ")

    result = run(peer(greet).port, Role.TELNET)
    assert result.outcome is Outcome.COMPLETED, result.detail
    assert [o.value for o in result.observations] == ["192.0.0.64 login:"]


@given(st.binary(max_size=200))
def test_strip_telnet_never_fails_and_removes_commands(data):
    out = strip_telnet(data)
    assert len(out) <= len(data)
