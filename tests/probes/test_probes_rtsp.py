"""The rtsp probe against a socket RTSP responder: Server, realm, SDP, and every failure."""

from __future__ import annotations

import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditor.errors import ProbeError
from auditor.models import ObservationKind as K
from auditor.models import Outcome, ProbeAttempt, Reason
from auditor.ports import Role
from auditor.probes import attempt
from auditor.probes.rtsp import RtspProbe, parse_rtsp_response, sdp_markers
from tests.probes.probe_peers import (
    Handler,
    closed_port,
    garbage,
    http_response,
    make_ctx,
    make_host,
    read_request,
    silent,
    values,
)

SDP = (
    b"v=0\r\no=- 1109162014219182 1109162014219192 IN IP4 0.0.0.0\r\n"
    b"s=Media Presentation\r\ne=NONE\r\nb=AS:5050\r\nt=0 0\r\n"
    b"a=control:rtsp://127.0.0.1:554/\r\nm=video 0 RTP/AVP 96\r\n"
)


def rtsp_responder(
    replies: dict[str, tuple[int, tuple[tuple[str, str], ...], bytes]],
    log: list[bytes] | None = None,
) -> Handler:
    def handle(conn: socket.socket) -> None:
        request = read_request(conn)
        if log is not None:
            log.append(request)
        method = request.split(b" ", 1)[0].decode("latin-1")
        cseq = next(
            (
                ln.split(b":", 1)[1].strip()
                for ln in request.split(b"\r\n")
                if ln.lower().startswith(b"cseq")
            ),
            b"0",
        )
        status, headers, body = replies.get(method, (405, (), b""))
        headers = (("CSeq", cseq.decode()), *headers)
        conn.sendall(http_response(status, body, headers, reason="X", protocol="RTSP/1.0"))

    return handle


def run_rtsp(port: int) -> ProbeAttempt:
    return attempt(RtspProbe(), make_host((port,)), make_ctx({port: Role.RTSP}))


def test_server_realm_and_unauthenticated_sdp(peer):
    log: list[bytes] = []
    replies = {
        "OPTIONS": (200, (("Server", "Dahua Rtsp Server"), ("Public", "OPTIONS, DESCRIBE")), b""),
        "DESCRIBE": (200, (("Content-Type", "application/sdp"),), SDP),
    }
    result = run_rtsp(peer(rtsp_responder(replies, log)).port)
    assert result.outcome is Outcome.COMPLETED, result.detail
    assert values(result, K.RTSP_SERVER) == ["Dahua Rtsp Server"]
    [sdp] = values(result, K.RTSP_SDP)
    assert "s=Media Presentation" in sdp.splitlines()
    assert [r.split(b" ", 1)[0] for r in log] == [b"OPTIONS", b"DESCRIBE"]
    assert not any(b"Authorization" in r for r in log)


def test_auth_required_describe_gives_the_realm(peer):
    challenge = 'Digest realm="IP Camera(C1214)", nonce="abc", stale="FALSE"'
    replies = {
        "OPTIONS": (200, (("Public", "OPTIONS, DESCRIBE, PLAY"),), b""),
        "DESCRIBE": (
            401,
            (
                ("WWW-Authenticate", challenge),
                ("WWW-Authenticate", 'Basic realm="IP Camera(C1214)"'),
            ),
            b"",
        ),
    }
    result = run_rtsp(peer(rtsp_responder(replies)).port)
    assert result.outcome is Outcome.COMPLETED
    assert values(result, K.RTSP_WWW_AUTHENTICATE) == [
        'Digest realm="IP Camera(C1214)"',
        'Basic realm="IP Camera(C1214)"',
    ]


@pytest.mark.parametrize(
    ("handler", "reason"),
    [(silent, Reason.TIMEOUT), (garbage, Reason.MALFORMED)],
)
def test_failures(peer, handler, reason):
    result = run_rtsp(peer(handler).port)
    assert (result.outcome, result.reason) == (Outcome.FAILED, reason)


def test_refused():
    result = run_rtsp(closed_port())
    assert (result.outcome, result.reason) == (Outcome.FAILED, Reason.REFUSED)


def test_http_reply_on_an_rtsp_port_is_malformed(peer):
    def http_only(conn):
        read_request(conn)
        conn.sendall(http_response(400, b"bad"))

    result = run_rtsp(peer(http_only).port)
    assert (result.outcome, result.reason) == (Outcome.FAILED, Reason.MALFORMED)


def test_describe_failure_keeps_what_options_said(peer):
    state = {"n": 0}

    def options_then_hang(conn):
        state["n"] += 1
        request = read_request(conn)
        if request.startswith(b"OPTIONS"):
            conn.sendall(b"RTSP/1.0 200 OK\r\ncseq: 1\r\nServer: H264DVR 1.0\r\n\r\n")
        else:
            silent(conn)

    result = run_rtsp(peer(options_then_hang).port)
    assert result.outcome is Outcome.COMPLETED
    assert values(result, K.RTSP_SERVER) == ["H264DVR 1.0"]


def test_sdp_markers_needs_a_version_line():
    assert sdp_markers(b"<html>") is None
    markers = sdp_markers(SDP)
    assert markers is not None and markers.startswith("v=0\no=")


@given(st.binary(max_size=600))
def test_rtsp_parser_returns_a_response_or_a_typed_error(data):
    try:
        resp = parse_rtsp_response(data, cap=4096)
    except ProbeError as exc:
        assert exc.reason in (Reason.MALFORMED, Reason.TOO_LARGE)
    else:
        assert resp.protocol == "RTSP" and 100 <= resp.status <= 999


@given(
    st.sampled_from([b"RTSP/1.0 200 OK\r\n", b"RTSP/1.0 401 Unauthorized\r\n"]),
    st.lists(st.tuples(st.from_regex(rb"\A[A-Za-z-]{1,12}\Z"), st.binary(max_size=40)), max_size=6),
    st.binary(max_size=100),
)
def test_rtsp_parser_on_status_plus_arbitrary_headers(status, headers, tail):
    data = status + b"".join(k + b": " + v.replace(b"\n", b"") + b"\r\n" for k, v in headers) + tail
    try:
        resp = parse_rtsp_response(data, cap=4096)
    except ProbeError as exc:
        assert exc.reason in (Reason.MALFORMED, Reason.TOO_LARGE)
    else:
        assert resp.status in (200, 401)
