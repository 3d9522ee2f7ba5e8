"""ONVIF, vendor API and DVRIP probes against loopback peers that stall, refuse, send garbage or
too much, and a DVRIP peer that accepts a login (the lab's DVRIP refuses every login)."""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable
from typing import Any

import pytest

from auditor.models import Observation, Outcome, ProbeAttempt, Reason
from auditor.models import ObservationKind as K
from auditor.ports import Role
from auditor.probes import attempt
from auditor.probes.dvrip import DvripProbe, sofia_hash
from auditor.probes.onvif import OnvifProbe
from auditor.probes.vendor import DahuaProbe, IsapiProbe
from tests.probes.probe_peers import (
    closed_port,
    garbage,
    http_response,
    make_ctx,
    make_host,
    read_request,
    router,
    silent,
)

CRED = ("admin", "lab-secret")


def everyone(_observations: Iterable[Observation]) -> frozenset[str]:
    """Vendor evidence for every platform: these tests are about the transport, not the gate."""
    return frozenset({"hikvision", "dahua", "axis", "xiongmai"})


def onvif_run(port: int, **kw: Any) -> ProbeAttempt:
    ctx = make_ctx({port: Role.ONVIF}, **kw)
    return attempt(OnvifProbe(), make_host((port,)), ctx)


@pytest.mark.parametrize(
    ("handler", "reason"), [(silent, Reason.TIMEOUT), (garbage, Reason.MALFORMED)]
)
def test_onvif_failures(peer, handler, reason):
    result = onvif_run(peer(handler).port)
    assert (result.outcome, result.reason) == (Outcome.FAILED, reason)


def test_onvif_refused():
    result = onvif_run(closed_port())
    assert (result.outcome, result.reason) == (Outcome.FAILED, Reason.REFUSED)


def test_onvif_reply_over_the_cap_is_too_large(peer):
    big = http_response(
        200, b"<a>" + b"x" * 200_000 + b"</a>", (("Content-Type", "application/soap+xml"),)
    )
    result = onvif_run(peer(router({"/onvif/device_service": big})).port, max_read_bytes=50_000)
    assert (result.outcome, result.reason) == (Outcome.FAILED, Reason.TOO_LARGE)


def test_onvif_malformed_soap_with_a_soap_content_type(peer):
    bad = http_response(200, b"<Envelope><Body>", (("Content-Type", "application/soap+xml"),))
    result = onvif_run(peer(router({"/onvif/device_service": bad})).port)
    assert (result.outcome, result.reason) == (Outcome.FAILED, Reason.MALFORMED)


def test_onvif_only_posts_to_the_device_service(peer):
    log: list[bytes] = []
    onvif_run(peer(router({}, log)).port)
    assert log and all(r.startswith(b"POST /onvif/device_service ") for r in log)


@pytest.mark.parametrize("probe", [IsapiProbe, DahuaProbe])
@pytest.mark.parametrize(
    ("handler", "reason"), [(silent, Reason.TIMEOUT), (garbage, Reason.MALFORMED)]
)
def test_vendor_api_failures(peer, probe, handler, reason):
    port = peer(handler).port
    ctx = make_ctx({port: Role.HTTP}, credential=CRED)
    result = attempt(probe(everyone), make_host((port,)), ctx)
    assert (result.outcome, result.reason) == (Outcome.FAILED, reason)


def test_vendor_api_sends_credentials_only_in_answer_to_a_challenge(peer):
    log: list[bytes] = []
    challenge = http_response(
        401, b"", (("WWW-Authenticate", 'Digest realm="r", nonce="n", qop="auth"'),)
    )

    def handle(conn):
        request = read_request(conn)
        log.append(request)
        if b"Authorization: Digest" in request:
            conn.sendall(
                http_response(
                    200, b'<?xml version="1.0"?><DeviceInfo><model>X</model></DeviceInfo>'
                )
            )
        else:
            conn.sendall(challenge)

    port = peer(handle).port
    ctx = make_ctx({port: Role.HTTP}, credential=CRED)
    result = attempt(IsapiProbe(everyone), make_host((port,)), ctx)
    assert result.outcome is Outcome.COMPLETED, result.detail
    assert [b"Authorization" in r for r in log] == [False, True]
    assert all(r.startswith(b"GET /ISAPI/System/deviceInfo ") for r in log)
    assert not any(CRED[1].encode() in r for r in log)


HEADER = struct.Struct("<BB2xIIBBHI")


def dvrip_device(conn):
    """A DVRIP peer: login checks the Sofia hash, then SystemInfo for that session."""
    conn.settimeout(2)
    for _ in range(2):
        head = b""
        while len(head) < HEADER.size:
            chunk = conn.recv(HEADER.size - len(head))
            if not chunk:
                return
            head += chunk
        _m, _v, session, seq, _a, _b, msg, length = HEADER.unpack(head)
        body = b""
        while len(body) < length:
            body += conn.recv(length - len(body))
        request = json.loads(body.rstrip(b"\x00").strip())
        if msg == 1000:
            ok = request["PassWord"] == sofia_hash(CRED[1]) and request["UserName"] == CRED[0]
            reply: dict[str, object] = {
                "Ret": 100 if ok else 203,
                "SessionID": "0x0000000B",
                "DeviceType ": "DVR",
            }
            session = 0x0B
        elif msg == 1020 and session == 0x0B:
            reply = {
                "Name": "SystemInfo",
                "Ret": 100,
                "SessionID": "0x0000000B",
                "SystemInfo": {"HardWare": "HI3520D_V300", "SoftWareVersion": "V4.02.R11"},
            }
        else:
            return
        data = json.dumps(reply).encode() + b"\n\x00"
        conn.sendall(HEADER.pack(0xFF, 1, session, seq, 0, 0, msg + 1, len(data)) + data)


def dvrip_run(port: int, credential: tuple[str, str]) -> ProbeAttempt:
    ctx = make_ctx({port: Role.DVRIP}, credential=credential)
    return attempt(DvripProbe(everyone), make_host((port,)), ctx)


def test_dvrip_login_then_system_info(peer):
    result = dvrip_run(peer(dvrip_device).port, CRED)
    assert result.outcome is Outcome.COMPLETED, result.detail
    [info] = [o.value for o in result.observations if o.kind is K.DVRIP_SYSTEM_INFO]
    assert json.loads(info)["SystemInfo"]["HardWare"] == "HI3520D_V300"
    assert [o.kind for o in result.observations] == [K.DVRIP_BANNER, K.DVRIP_SYSTEM_INFO]


def test_dvrip_wrong_password_and_failures(peer):
    result = dvrip_run(peer(dvrip_device).port, ("admin", "wrong"))
    assert (result.outcome, result.reason) == (Outcome.FAILED, Reason.AUTH_FAILED)
    assert result.observations  # the refusal itself is evidence
    result = dvrip_run(peer(silent).port, CRED)
    assert (result.outcome, result.reason) == (Outcome.FAILED, Reason.TIMEOUT)
    result = dvrip_run(peer(garbage).port, CRED)
    assert (result.outcome, result.reason) == (Outcome.FAILED, Reason.MALFORMED)
    result = dvrip_run(closed_port(), CRED)
    assert (result.outcome, result.reason) == (Outcome.FAILED, Reason.REFUSED)
