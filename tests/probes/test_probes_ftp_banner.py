"""FTP greetings read by the banner probe (nothing sent), from loopback peers and the lab."""

from __future__ import annotations

from auditor.lab import LoopbackSite
from auditor.models import ObservationKind, Outcome, ProbeAttempt, Reason
from auditor.ports import PortPlan, Role
from auditor.probes import attempt
from auditor.probes.banner import BannerProbe
from tests.probes.probe_peers import make_ctx, make_host


def run(port: int, address: str = "127.0.0.1") -> ProbeAttempt:
    ctx = make_ctx({port: Role.FTP}, targets=(address,))
    return attempt(BannerProbe(), make_host((port,), address=address), ctx)


def test_multi_line_greeting_is_read_to_its_last_line(peer):
    def greet(conn):
        conn.sendall(
            b"220-Welcome\r\n220-second line\r\n220 AXIS 214 PTZ Network Camera 4.49 ready\r\n"
        )

    result = run(peer(greet).port)
    assert result.outcome is Outcome.COMPLETED, result.detail
    (obs,) = result.observations
    assert obs.kind is ObservationKind.FTP_BANNER
    assert obs.value == "220-Welcome\n220-second line\n220 AXIS 214 PTZ Network Camera 4.49 ready"


def test_a_non_ftp_greeting_is_malformed(peer):
    def http_like(conn):
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")

    result = run(peer(http_like).port)
    assert (result.outcome, result.reason) == (Outcome.FAILED, Reason.MALFORMED)


def test_lab_vivotek_ftp_greeting():
    with LoopbackSite(["vivotek-ip7131"]) as site:
        device = site.device("vivotek-ip7131")
        result = run(device.port(21), device.address)
    assert [o.value for o in result.observations] == ["220 Welcome to Network Camera FTP Server"]


def test_ftp_is_in_the_default_plan():
    assert PortPlan.default().role(21) is Role.FTP
