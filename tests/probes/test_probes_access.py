"""Where the probes send credentials (issue 13), against loopback peers that log every request.

One device behind two HTTP ports that refuses every login (a wrong password), probed by every
probe in registry order as the engine does: it receives exactly one credentialed request. A
device that echoes a Digest HA1 and the escaped password: none of it survives redaction.
"""

from __future__ import annotations

import hashlib
import html
import socket
from collections.abc import Callable
from dataclasses import replace

from auditor import redact
from auditor.models import DeviceResult, Outcome, Reason
from auditor.models import ObservationKind as K
from auditor.ports import Role
from auditor.probes import PROBES, ProbeName, attempt
from auditor.probes.common import observation
from auditor.probes.vendor import IsapiProbe
from tests.probes.probe_peers import Peer, http_response, make_ctx, make_host, read_request

USER, PASSWORD = "admin", "S3cr&t<pw>"
CHALLENGE = (("WWW-Authenticate", 'Digest realm="cam", nonce="abc123", qop="auth"'),)


def test_a_wrong_password_reaches_a_two_port_device_once_across_all_probes(
    peer: Callable[..., Peer],
) -> None:
    log: list[bytes] = []

    def refuse_everything(conn: socket.socket) -> None:
        request = read_request(conn)
        log.append(request)
        # A Hikvision-like web server (App-webs/) that wants Digest for every path.
        conn.sendall(http_response(401, b"", (*CHALLENGE, ("Server", "App-webs/"))))

    ports = (peer(refuse_everything).port, peer(refuse_everything).port)
    ctx = make_ctx(dict.fromkeys(ports, Role.HTTP), credential=(USER, "wrong-password"))
    host = make_host(ports)
    attempts = []
    for cls in PROBES.values():
        result = attempt(cls(), host, ctx)
        attempts.append(result)
        host = replace(host, observations=host.observations + result.observations)
    credentialed = [r.split(b"\r\n", 1)[0] for r in log if b"Authorization:" in r]
    assert len(credentialed) == 1, credentialed
    refused = [a for a in attempts if a.reason is Reason.AUTH_FAILED]
    assert len(refused) == 1
    assert "credentials 'default' (user admin) refused" in refused[0].detail
    withheld = [a for a in attempts if a.reason is Reason.WITHHELD]
    assert withheld and all("were refused by this device" in a.detail for a in withheld)
    assert "wrong-password" not in repr(attempts)


def test_an_echoed_digest_ha1_and_escaped_password_are_redacted(peer: Callable[..., Peer]) -> None:
    ha1 = hashlib.md5(f"{USER}:cam:{PASSWORD}".encode()).hexdigest()

    def echo(conn: socket.socket) -> None:
        request = read_request(conn)
        if b"Authorization: Digest" not in request:
            conn.sendall(http_response(401, b"", CHALLENGE))
            return
        # The device knows its own password: it can print it, escaped, and its HA1.
        body = (
            '<?xml version="1.0"?><DeviceInfo xmlns="http://www.hikvision.com/ver20/XMLSchema">'
            f"<model>{html.escape(PASSWORD)}</model><serialNumber>{ha1.upper()}</serialNumber>"
            "</DeviceInfo>"
        ).encode()
        conn.sendall(http_response(200, body, (("Content-Type", "application/xml"),)))

    port = peer(echo).port
    ctx = make_ctx({port: Role.HTTP}, credential=(USER, PASSWORD))
    host = make_host((port,), observations=(observation(K.HTTP_SERVER, "App-webs/", "http", port),))
    result = attempt(IsapiProbe(), host, ctx)
    assert result.outcome is Outcome.COMPLETED, result.detail
    [raw] = [o.value for o in result.observations if o.kind is K.ISAPI_DEVICE_INFO]
    assert ha1.upper() in raw  # the probe saw it...
    stored = redact.device(ctx.secrets, DeviceResult(host=host, attempts=(result,)))
    [value] = [o.value for o in stored.observations if o.kind is K.ISAPI_DEVICE_INFO]
    # ...what is identified, stored and rendered does not.
    assert ha1 not in value.lower() and html.escape(PASSWORD) not in value
    assert value.count("[credential redacted]") == 2


def test_vendor_apis_and_dvrip_send_nothing_without_evidence_for_their_platform(
    peer: Callable[..., Peer],
) -> None:
    log: list[bytes] = []

    def printer(conn: socket.socket) -> None:
        log.append(read_request(conn))
        conn.sendall(http_response(401, b"", (("WWW-Authenticate", 'Basic realm="printer"'),)))

    port = peer(printer).port
    ctx = make_ctx({port: Role.HTTP, 34567: Role.DVRIP}, credential=(USER, PASSWORD))
    host = make_host((port, 34567))
    for name in ("isapi", "dahua", "axis", "dvrip"):
        result = attempt(PROBES[ProbeName(name)](), host, ctx)
        assert (result.outcome, result.reason) == (Outcome.NOT_RUN, Reason.NOT_APPLICABLE), name
    assert log == []
