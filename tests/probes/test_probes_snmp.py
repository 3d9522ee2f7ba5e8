"""The SNMP probe: GET of sysDescr/sysObjectID with the user's community only, against Debian's
net-snmp agent on loopback and the lab's agents; its BER parser refuses what it does not know."""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditor.context import NetContext
from auditor.credentials import CredentialStore, Secret
from auditor.errors import ConfigError
from auditor.lab import LoopbackSite
from auditor.models import ObservationKind, Outcome, Reason
from auditor.net import ber
from auditor.probes import PROBES, ProbeName, attempt
from auditor.probes.snmp import SYS_DESCR, SYS_OBJECT_ID, SnmpProbe
from tests.probes.probe_peers import make_ctx, make_host

NET_SNMP_LINUX = "1.3.6.1.4.1.8072.3.2.10"
"""NET-SNMP-TC::linux, the sysObjectID net-snmp reports on Linux."""


def ctx_with(
    community: str | None, port: int, targets: tuple[str, ...], timeout: float = 1.0
) -> NetContext:
    ctx = make_ctx({}, targets=targets, timeout=timeout)
    store = CredentialStore(snmp_default=Secret(community)) if community else ctx.credentials
    return dataclasses.replace(ctx, credentials=store, snmp_port=port, redactor=None)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def snmpd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, str, str]]:
    binary = shutil.which("snmpd") or "/usr/sbin/snmpd"
    if not Path(binary).exists():
        pytest.skip("Debian package snmpd is not installed")
    work = tmp_path_factory.mktemp("snmpd")
    community = "ca-" + secrets.token_hex(6)
    descr = "camaudit test agent " + secrets.token_hex(4)
    port = free_udp_port()
    conf = work / "snmpd.conf"
    conf.write_text(
        # The listening address is given on the command line (once: twice fails to bind).
        f"rocommunity {community} 127.0.0.1\nsysdescr {descr}\nsyslocation lab\n"
    )
    proc = subprocess.Popen(
        [
            binary,
            "-f",
            "-C",
            "-c",
            str(conf),
            "-Lf",
            str(work / "log"),
            "-p",
            str(work / "pid"),
            f"udp:127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Ready once it answers a GET (bounded wait).
        request = ber.get_request(community.encode(), 1, (SYS_DESCR,))
        for _ in range(50):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(0.1)
                s.sendto(request, ("127.0.0.1", port))
                try:
                    s.recv(2048)
                    break
                except OSError:
                    time.sleep(0.1)
        else:
            pytest.fail("snmpd did not start")
        yield port, community, descr
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_probe_is_registered():
    assert PROBES[ProbeName.SNMP] is SnmpProbe


def test_without_a_community_nothing_is_sent(snmpd):
    port, _, _ = snmpd
    result = attempt(SnmpProbe(), make_host(()), ctx_with(None, port, ("127.0.0.1",)))
    assert (result.outcome, result.reason) == (Outcome.NOT_RUN, Reason.NO_CREDENTIALS)
    assert CredentialStore.empty().snmp_community(make_host(()).address) is None


def test_reads_sysdescr_and_sysobjectid_from_net_snmp(snmpd):
    port, community, descr = snmpd
    result = attempt(SnmpProbe(), make_host(()), ctx_with(community, port, ("127.0.0.1",)))
    assert result.outcome is Outcome.COMPLETED, result.detail
    got = {o.kind: o.value for o in result.observations}
    assert got == {
        ObservationKind.SNMP_SYSDESCR: descr,
        ObservationKind.SNMP_SYSOBJECTID: NET_SNMP_LINUX,
    }
    assert {o.source for o in result.observations} == {f"snmp:{port}"}


def test_an_address_outside_the_scope_is_never_asked(snmpd):
    port, community, _ = snmpd
    ctx = ctx_with(community, port, ("192.0.2.0/24",))
    result = attempt(SnmpProbe(), make_host(()), ctx)
    assert (result.outcome, result.reason) == (Outcome.FAILED, Reason.OUT_OF_SCOPE)


def test_a_wrong_community_fails_with_a_timeout_not_a_guess(snmpd):
    port, community, _ = snmpd
    ctx = ctx_with(community + "-wrong", port, ("127.0.0.1",), timeout=0.3)
    result = attempt(SnmpProbe(), make_host(()), ctx)
    assert (result.outcome, result.reason) == (Outcome.FAILED, Reason.TIMEOUT)
    assert not result.observations


def test_lab_agent_answers_sysdescr_and_no_such_object():
    with LoopbackSite(["canon-vb-c60", "panasonic-wj-hd300"]) as site:
        for pid, descr in (
            ("canon-vb-c60", "Canon Network Camera VB-C60"),
            ("panasonic-wj-hd300", "WJ-HD300 SWVer1.53"),
        ):
            address = site.address_of(pid)
            ctx = ctx_with(site.snmp_community, site.snmp_port, (address,))
            result = attempt(SnmpProbe(), make_host((), address=address), ctx)
            assert result.outcome is Outcome.COMPLETED, result.detail
            # No public capture of these devices' sysObjectID: the agent has none to give.
            assert [(o.kind, o.value) for o in result.observations] == [
                (ObservationKind.SNMP_SYSDESCR, descr)
            ]


def test_lab_agent_gives_the_captured_sysobjectid():
    with LoopbackSite(["vivotek-ip7131"]) as site:
        address = site.address_of("vivotek-ip7131")
        ctx = ctx_with(site.snmp_community, site.snmp_port, (address,))
        result = attempt(SnmpProbe(), make_host((), address=address), ctx)
    assert {(o.kind, o.value) for o in result.observations} == {
        (ObservationKind.SNMP_SYSDESCR, "Mega-Pixel Network Camera"),
        (ObservationKind.SNMP_SYSOBJECTID, "1.3.6.1.4.1.23465"),
    }


def test_credentials_file_and_environment_carry_communities(tmp_path: Path) -> None:
    path = tmp_path / "creds.yaml"
    path.write_text(
        'snmp:\n  community: "site-ro"\n  hosts:\n    - {target: 192.0.2.0/28, community: "cams"}\n'
    )
    path.chmod(0o600)
    store = CredentialStore.load(path)
    assert store.snmp_community(make_host((), "192.0.2.5").address) == Secret("cams")
    assert store.snmp_community(make_host((), "192.0.2.50").address) == Secret("site-ro")
    assert store.default is None
    env = CredentialStore.from_env({"CAMAUDIT_SNMP_COMMUNITY": "env-ro"})
    assert env.snmp_community(make_host(()).address) == Secret("env-ro")
    path.write_text("snmp:\n  community: ''\n")
    with pytest.raises(ConfigError, match="snmp.community"):
        CredentialStore.load(path)


def test_request_encoding_matches_the_standard():
    # GetRequest for sysDescr.0, community "public", request-id 1: X.690 BER as written by hand.
    expected = bytes.fromhex(
        "302602010104067075626c6963a019020101020100020100300e300c06082b060102010101000500"
    )
    assert ber.get_request(b"public", 1, (SYS_DESCR,)) == expected


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "truncated"),
        (b"\x30\x80\x00\x00", "indefinite"),
        (b"\x30\x85\x00\x00\x00\x00\x01", "bad length"),
        (b"\x30\x05\x02\x01\x01", "overruns"),
        (b"\x30\x03\x02\x01\x01\x00", "trailing"),
        (b"\x30\x03\x04\x01\x01", "expected version"),
    ],
)
def test_parser_refuses_malformed_messages(data, message):
    with pytest.raises(ber.BerError, match=message):
        ber.parse_message(data)


def test_parser_reads_a_response_and_refuses_a_huge_oid_arc():
    reply = ber.tlv(
        ber.SEQUENCE,
        ber.encode_int(1)
        + ber.tlv(ber.OCTET_STRING, b"c")
        + ber.tlv(
            ber.GET_RESPONSE,
            ber.encode_int(7)
            + ber.encode_int(0)
            + ber.encode_int(0)
            + ber.tlv(
                ber.SEQUENCE,
                ber.tlv(
                    ber.SEQUENCE,
                    ber.encode_oid(SYS_OBJECT_ID) + ber.encode_oid("1.3.6.1.4.1.99999"),
                ),
            ),
        ),
    )
    parsed = ber.parse_message(reply)
    assert parsed.request_id == 7
    assert parsed.varbinds[0] == (SYS_OBJECT_ID, ber.Value(ber.OID, "1.3.6.1.4.1.99999"))
    with pytest.raises(ber.BerError, match="arc too large"):
        ber.decode_oid(b"\x2b\xff\xff\xff\xff\xff\x01", 0, 7)


@given(st.binary(max_size=300))
def test_parser_never_fails_another_way(data):
    with contextlib.suppress(ber.BerError):
        ber.parse_message(data)


@pytest.mark.parametrize(
    "reply, reason",
    [(b"\x30\x80\x02\x01\x01", Reason.MALFORMED), (b"\x30" * 9000, Reason.TOO_LARGE)],
)
def test_a_hostile_agent_gets_a_clear_failure(reply, reason):
    """A fault no real agent produces on demand: a loopback UDP peer answering junk."""
    import threading

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as agent:
        agent.bind(("127.0.0.1", 0))
        agent.settimeout(3)

        def answer() -> None:
            try:
                _, addr = agent.recvfrom(2048)
                agent.sendto(reply, addr)
            except OSError:
                pass

        thread = threading.Thread(target=answer)
        thread.start()
        ctx = ctx_with("site-ro", agent.getsockname()[1], ("127.0.0.1",))
        result = attempt(SnmpProbe(), make_host(()), ctx)
        thread.join()
    assert (result.outcome, result.reason) == (Outcome.FAILED, reason)


def test_a_community_echoed_by_a_device_is_redacted():
    ctx = ctx_with("site-ro-7f3a", 161, ("127.0.0.1",))
    assert ctx.secrets.text("sysContact: site-ro-7f3a") == "sysContact: [credential redacted]"


def test_a_closed_snmp_port_is_no_agent_not_a_failure():
    """Nothing listens on the port: the kernel's ICMP port unreachable says so at once. The host
    has no SNMP agent; it is not incomplete (a failure would mark every host without SNMP
    incomplete as soon as a community is given)."""
    port = free_udp_port()  # bound, then released: nothing listens there now
    result = attempt(SnmpProbe(), make_host(()), ctx_with("site-ro", port, ("127.0.0.1",)))
    assert (result.outcome, result.reason) == (Outcome.NOT_RUN, Reason.NO_SERVICE)
    assert "port unreachable" in result.detail


def test_an_address_that_answered_only_arp_is_not_sent_the_community():
    """nmap saw it up with every scanned port filtered, and no discovery protocol heard it."""
    from auditor.models import Channel

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as agent:
        agent.bind(("127.0.0.1", 0))
        agent.settimeout(0.3)
        ctx = ctx_with("site-ro", agent.getsockname()[1], ("127.0.0.1",))
        silent = dataclasses.replace(make_host(()), seen_by=frozenset({Channel.NMAP}))
        result = attempt(SnmpProbe(), silent, ctx)
        assert (result.outcome, result.reason) == (Outcome.NOT_RUN, Reason.NOT_APPLICABLE)
        with pytest.raises(TimeoutError):
            agent.recvfrom(2048)  # the community never went out
        # The same address with an open port, or heard by a discovery protocol, is asked.
        for host in (
            dataclasses.replace(silent, services=make_host((80,)).services),
            dataclasses.replace(silent, seen_by=frozenset({Channel.NMAP, Channel.SSDP})),
        ):
            assert attempt(SnmpProbe(), host, ctx).reason is Reason.TIMEOUT
            assert agent.recvfrom(2048)[0]
