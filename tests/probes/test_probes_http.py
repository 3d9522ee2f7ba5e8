"""The http probe against real loopback listeners: every outcome, and the scope rule."""

from __future__ import annotations

import hashlib
import time
from typing import Any

from auditor.context import NetContext
from auditor.models import ObservationKind as K
from auditor.models import Outcome, ProbeAttempt, Reason
from auditor.ports import Role
from auditor.probes import attempt
from auditor.probes.http import HttpProbe
from tests.probes.probe_peers import (
    closed_port,
    garbage,
    http_response,
    make_ctx,
    make_host,
    read_request,
    router,
    silent,
    slowloris,
    values,
)

PAGE = (
    b"<html><head><meta charset='utf-8'><title> Web\n Login &amp; Co </title></head>"
    b"<body>t_username</body></html>"
)


def run_http(port: int, **kw: Any) -> tuple[ProbeAttempt, NetContext]:
    ctx = make_ctx({port: Role.HTTP}, **kw)
    return attempt(HttpProbe(), make_host((port,)), ctx), ctx


def test_completed_records_server_headers_title_body_favicon_and_clues(peer):
    icon = b"\x00\x00\x01\x00fake-ico-bytes"
    routes = {
        "/": http_response(
            200, PAGE, (("Server", "App-webs/"), ("CONNECTION", "close"), ("Date", "x"))
        ),
        "/favicon.ico": http_response(200, icon, (("Content-Type", "image/x-icon"),)),
        "/ISAPI/Security/userCheck": http_response(
            401,
            b"<userCheck><statusValue>401</statusValue></userCheck>",
            (("WWW-Authenticate", 'Digest realm="IP Camera(C1214)", nonce="n1", qop="auth"'),),
            reason="Unauthorized",
        ),
    }
    p = peer(router(routes))
    result, _ = run_http(p.port)
    assert result.outcome is Outcome.COMPLETED, result.detail
    assert values(result, K.HTTP_SERVER) == ["App-webs/"]
    assert "CONNECTION: close" in values(result, K.HTTP_HEADER)
    assert not any(v.startswith("Date:") for v in values(result, K.HTTP_HEADER))
    assert values(result, K.HTTP_TITLE) == ["Web Login & Co"]
    assert "t_username" in values(result, K.HTTP_BODY)[0]
    assert values(result, K.HTTP_FAVICON_MD5) == [hashlib.md5(icon).hexdigest()]
    assert values(result, K.HTTP_CLUE) == ["/ISAPI/Security/userCheck 401 <userCheck statusValue"]
    assert values(result, K.HTTP_WWW_AUTHENTICATE) == ['Digest realm="IP Camera(C1214)"']
    assert all(o.source == f"http:{p.port}" and o.port == p.port for o in result.observations)


def test_auth_required_root_page_is_evidence_not_failure(peer):
    routes = {
        "/": http_response(
            401,
            b"",
            (("WWW-Authenticate", 'Basic realm="Login to 4K01FD2PAJ6E3FF"'),),
            reason="Unauthorized",
        )
    }
    result, _ = run_http(peer(router(routes)).port)
    assert result.outcome is Outcome.COMPLETED
    assert values(result, K.HTTP_WWW_AUTHENTICATE) == ['Basic realm="Login to 4K01FD2PAJ6E3FF"']


def test_timeout_on_a_listener_that_never_answers(peer):
    start = time.monotonic()
    result, _ = run_http(peer(silent).port)
    assert (result.outcome, result.reason) == (Outcome.FAILED, Reason.TIMEOUT)
    assert time.monotonic() - start < 2.0


def test_slowloris_cannot_hold_the_probe(peer):
    start = time.monotonic()
    result, _ = run_http(peer(slowloris).port)
    elapsed = time.monotonic() - start
    assert (result.outcome, result.reason) == (Outcome.FAILED, Reason.TIMEOUT)
    # One exchange is bounded by 2 x timeout whatever the trickle; per-read timeouts alone
    # would have waited for 10 000 bytes at 10 per second.
    assert elapsed < 1.5, elapsed


def test_refused_on_a_closed_port():
    result, _ = run_http(closed_port())
    assert (result.outcome, result.reason) == (Outcome.FAILED, Reason.REFUSED)


def test_malformed_reply(peer):
    result, _ = run_http(peer(garbage).port)
    assert (result.outcome, result.reason) == (Outcome.FAILED, Reason.MALFORMED)


def test_too_large_body(peer):
    big = http_response(200, b"A" * 200_000, (("Server", "big"),))
    result, _ = run_http(peer(router({"/": big})).port, max_read_bytes=64 * 1024)
    assert (result.outcome, result.reason) == (Outcome.FAILED, Reason.TOO_LARGE)


def test_too_large_chunked_body(peer):
    chunk = b"10000\r\n" + b"B" * 0x10000 + b"\r\n"
    reply = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk * 3 + b"0\r\n\r\n"
    result, _ = run_http(peer(router({"/": reply})).port, max_read_bytes=100_000)
    assert (result.outcome, result.reason) == (Outcome.FAILED, Reason.TOO_LARGE)


def test_chunked_body_is_decoded(peer):
    reply = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"7\r\n<title>\r\n3\r\nDVR\r\n8\r\n</title>\r\n0\r\n\r\n"
    )
    result, _ = run_http(peer(router({"/": reply})).port)
    assert values(result, K.HTTP_TITLE) == ["DVR"]


def test_redirect_out_of_scope_is_refused_and_never_contacted(peer):
    outside = peer(router({"/": http_response(200, b"<title>outside</title>")}), "127.0.0.2")
    loc = f"http://127.0.0.2:{outside.port}/doc/page/login.asp"
    inside = peer(router({"/": http_response(302, b"", (("Location", loc),), reason="Found")}))
    result, ctx = run_http(inside.port)
    assert result.outcome is Outcome.COMPLETED
    assert outside.connections == 0
    [ref] = ctx.out_of_scope
    assert (ref.address, str(ref.referrer), ref.via) == ("127.0.0.2", "127.0.0.1", "http.redirect")
    assert f"Location: {loc}" in values(result, K.HTTP_HEADER)


def test_redirect_to_a_name_is_refused_not_resolved(peer):
    inside = peer(router({"/": http_response(302, b"", (("Location", "http://camera.example/"),))}))
    result, ctx = run_http(inside.port)
    assert result.outcome is Outcome.COMPLETED
    assert [r.address for r in ctx.out_of_scope] == ["camera.example"]


def test_redirect_within_scope_is_followed_and_loops_are_bounded(peer):
    log: list[bytes] = []
    routes = {
        "/": http_response(302, b"", (("Location", "/doc/page/login.asp"),)),
        "/doc/page/login.asp": http_response(200, b"<title>login</title>", (("Server", "Webs"),)),
        "/loop": http_response(302, b"", (("Location", "/loop2"),)),
        "/loop2": http_response(302, b"", (("Location", "/loop"),)),
    }
    result, _ = run_http(peer(router(routes, log)).port)
    assert values(result, K.HTTP_TITLE) == ["login"]
    looping = {
        "/": http_response(302, b"", (("Location", "/loop"),)),
        **{k: routes[k] for k in ("/loop", "/loop2")},
    }
    log2: list[bytes] = []
    result2, _ = run_http(peer(router(looping, log2)).port)
    assert result2.outcome is Outcome.COMPLETED
    root_hops = [r for r in log2 if b"/loop" in r.split(b"\r\n", 1)[0] or r.startswith(b"GET / ")]
    assert len(root_hops) <= 4


def test_only_get_requests_are_sent(peer):
    log: list[bytes] = []
    run_http(peer(router({"/": http_response(200, PAGE)}, log)).port)
    assert log and all(r.startswith(b"GET ") for r in log)
    assert not any(b"webLanguage" in r or b"Authorization" in r for r in log)


def test_no_http_port_means_not_run():
    ctx = make_ctx({554: Role.RTSP})
    result = attempt(HttpProbe(), make_host((554,)), ctx)
    assert (result.outcome, result.reason) == (Outcome.NOT_RUN, Reason.NO_SERVICE)


def test_one_dead_port_does_not_fail_a_device_whose_other_port_answered(peer):
    good = peer(router({"/": http_response(200, PAGE)}))
    dead = closed_port()
    ctx = make_ctx({good.port: Role.HTTP, dead: Role.HTTP})
    result = attempt(HttpProbe(), make_host((good.port, dead)), ctx)
    assert result.outcome is Outcome.COMPLETED


def test_hostile_redirect_target_cannot_inject_into_the_request(peer):
    log: list[bytes] = []
    routes = {
        "/": http_response(302, b"", (("Location", "/a b/\u00e9?x=1 2"),)),
    }
    result, _ = run_http(peer(router(routes, log)).port)
    assert result.outcome is Outcome.COMPLETED, result.detail
    hop = next(r for r in log if r.startswith(b"GET /a"))
    assert hop.split(b"\r\n", 1)[0] == b"GET /a%20b/%C3%A9?x=1%202 HTTP/1.1"


def test_a_web_ui_that_answers_every_path_yields_no_clues(peer):
    page = http_response(200, b"<title>SPA</title>")

    def everything(conn):
        read_request(conn)
        conn.sendall(page)

    result, _ = run_http(peer(everything).port)
    assert result.outcome is Outcome.COMPLETED
    assert values(result, K.HTTP_CLUE) == []


def test_every_connection_waits_for_the_rate_limiter(peer):
    from auditor.context import RateLimiter

    class Counting(RateLimiter):
        def __init__(self) -> None:
            super().__init__(None)
            self.count = 0

        def acquire(self) -> None:
            self.count += 1

    p = peer(router({"/": http_response(200, PAGE)}))
    ctx = make_ctx({p.port: Role.HTTP})
    ctx.rate = Counting()
    result = attempt(HttpProbe(), make_host((p.port,)), ctx)
    assert result.outcome is Outcome.COMPLETED
    assert ctx.rate.count == p.connections > 1
