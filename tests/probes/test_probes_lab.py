"""Every probe against the lab's emulated devices on loopback (auditor.lab.LoopbackSite)."""

from __future__ import annotations

from collections.abc import Iterator
from ipaddress import ip_address
from typing import Any

import pytest

from auditor.context import NetContext
from auditor.credentials import Credential, CredentialStore, Secret
from auditor.lab import LoopbackSite
from auditor.models import Host, Observation, Outcome, ProbeAttempt, Reason, Service
from auditor.models import ObservationKind as K
from auditor.probes import PROBES, ProbeName, attempt
from auditor.probes.common import observation
from auditor.scope import Scope
from tests.probes.probe_peers import http_response, router, values

DEVICES = (
    "hikvision-ipc",
    "hikvision-nvr",
    "dahua-ipc",
    "lorex-nvr",
    "axis-p1375",
    "xiongmai-dvr",
    "uniview-ipc",
)


@pytest.fixture(scope="module")
def site() -> Iterator[LoopbackSite]:
    with LoopbackSite(DEVICES) as s:
        yield s


def lab_ctx(
    site: LoopbackSite, *, creds: bool = True, password: str | None = None, timeout: float = 0.5
) -> NetContext:
    user, pw = site.credentials
    store = (
        CredentialStore(default=Credential(user, Secret(password or pw)))
        if creds
        else CredentialStore.empty()
    )
    return NetContext(
        scope=Scope.parse(list(site.targets)),
        timeout=timeout,
        ports=site.port_plan,
        credentials=store,
    )


def lab_host(site: LoopbackSite, profile: str, observations: tuple[Observation, ...] = ()) -> Host:
    d = site.device(profile)
    plan = site.port_plan.roles
    ports = sorted({p for p in d.ports.values() if p in plan})
    truth = next(t for t in site.truth if t.address == d.address)
    return Host(
        ip_address(d.address),
        mac=truth.mac,
        services=tuple(Service(p) for p in ports),
        observations=observations,
    )


#: Probes that may use credentials: like the engine, they see the anonymous probes' evidence.
CREDENTIALED = ("onvif", "dvrip", "isapi", "dahua", "axis")
ANONYMOUS = ("mac", "http", "tls", "rtsp", "banner")


def run(site: LoopbackSite, probe: str, profile: str, **kw: Any) -> tuple[ProbeAttempt, NetContext]:
    host_obs = kw.pop("observations", ())
    prior = kw.pop("prior", probe in CREDENTIALED)
    ctx = lab_ctx(site, **kw)
    host = lab_host(site, profile, host_obs)
    if prior:
        # What the engine gives a credentialed probe: the evidence of the anonymous ones.
        found = [
            o
            for name in ANONYMOUS
            for o in attempt(PROBES[ProbeName(name)](), host, ctx).observations
        ]
        host = lab_host(site, profile, (*host_obs, *found))
    return attempt(PROBES[ProbeName(probe)](), host, ctx), ctx


def test_http_against_hikvision_follows_the_meta_refresh_and_asks_clue_paths(site):
    result, _ = run(site, "http", "hikvision-ipc", creds=False)
    assert result.outcome is Outcome.COMPLETED, result.detail
    assert values(result, K.HTTP_SERVER) == ["App-webs/"]
    assert "/ISAPI/Security/userCheck 401 <userCheck statusValue" in values(result, K.HTTP_CLUE)
    assert len(values(result, K.HTTP_BODY)) == 2  # the refresh page and login.asp


def test_http_title_and_uc_httpd_on_xiongmai(site):
    result, _ = run(site, "http", "xiongmai-dvr", creds=False)
    assert values(result, K.HTTP_SERVER) == ["uc-httpd 1.0.0"]
    assert values(result, K.HTTP_TITLE) == ["NETSurveillance WEB"]


def test_tls_certificate_of_hikvision_nvr(site):
    result, _ = run(site, "tls", "hikvision-nvr", creds=False)
    assert result.outcome is Outcome.COMPLETED, result.detail
    assert any("OU=DVRNVR" in v for v in values(result, K.TLS_SUBJECT))


def test_rtsp_dahua_server_and_serial_realm(site):
    result, _ = run(site, "rtsp", "dahua-ipc", creds=False)
    assert result.outcome is Outcome.COMPLETED, result.detail
    assert values(result, K.RTSP_SERVER) == ["Dahua Rtsp Server"]
    serial = site.device("dahua-ipc").serial
    assert values(result, K.RTSP_WWW_AUTHENTICATE) == [f'Digest realm="Login to {serial}"']


def test_onvif_anonymous_records_time_and_services_and_treats_auth_as_an_answer(site):
    result, _ = run(site, "onvif", "hikvision-ipc", creds=False)
    assert result.outcome is Outcome.COMPLETED, result.detail
    assert values(result, K.ONVIF_CLOCK_SKEW) == ["+0s"]
    assert "GetSystemDateAndTimeResponse" in values(result, K.ONVIF_SYSTEM_DATE_TIME)[0]
    assert "GetServicesResponse" in values(result, K.ONVIF_SERVICES)[0]
    assert values(result, K.ONVIF_DEVICE_INFORMATION) == []  # ter:NotAuthorized: auth required


def test_onvif_anonymous_device_information_where_firmware_allows_it(site):
    result, _ = run(site, "onvif", "xiongmai-dvr", creds=False)
    assert result.outcome is Outcome.COMPLETED, result.detail
    [info] = values(result, K.ONVIF_DEVICE_INFORMATION)
    assert "<tds:Manufacturer>H264</tds:Manufacturer>" in info
    assert {o.port for o in result.observations} == {8899}


@pytest.mark.parametrize("profile", ["hikvision-ipc", "dahua-ipc", "uniview-ipc", "axis-p1375"])
def test_onvif_with_lab_credentials(site, profile):
    result, _ = run(site, "onvif", profile)
    assert result.outcome is Outcome.COMPLETED, result.detail
    [info] = values(result, K.ONVIF_DEVICE_INFORMATION)
    assert site.device(profile).serial in info
    [scopes] = values(result, K.ONVIF_SCOPES)
    assert all(line.startswith("onvif://") for line in scopes.splitlines())
    assert "%20" not in scopes
    assert site.device(profile).mac in values(result, K.ONVIF_NETWORK_INTERFACES)[0].lower()


def test_onvif_wrong_password_fails_and_keeps_the_anonymous_evidence(site):
    result, _ = run(site, "onvif", "hikvision-ipc", password="not-the-password")
    assert (result.outcome, result.reason) == (Outcome.FAILED, Reason.AUTH_FAILED)
    assert values(result, K.ONVIF_SYSTEM_DATE_TIME)
    assert "not-the-password" not in result.detail


def test_onvif_everything_protected_without_credentials_is_auth_required(site):
    result, _ = run(site, "onvif", "axis-p1375", creds=False)
    assert (result.outcome, result.reason) == (Outcome.FAILED, Reason.AUTH_REQUIRED)


def test_onvif_no_device_service_is_not_applicable(site):
    result, _ = run(site, "onvif", "lorex-nvr")
    assert (result.outcome, result.reason) == (Outcome.NOT_RUN, Reason.NOT_APPLICABLE)


def test_onvif_credentialed_call_succeeds_despite_a_two_hour_clock_skew():
    with LoopbackSite(["hikvision-ipc"], clock_skew=7200) as skewed:
        result, _ = run(skewed, "onvif", "hikvision-ipc")
    assert result.outcome is Outcome.COMPLETED, result.detail
    assert values(result, K.ONVIF_CLOCK_SKEW) == ["+7200s"]
    [info] = values(result, K.ONVIF_DEVICE_INFORMATION)
    assert "DS-2CD2143G2-I" in info


def probe_match(xaddrs: str) -> Observation:
    xml = (
        '<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"><e:Body><d:ProbeMatches>'
        f"<d:ProbeMatch><d:XAddrs>{xaddrs}</d:XAddrs></d:ProbeMatch></d:ProbeMatches>"
        "</e:Body></e:Envelope>"
    )
    return observation(K.ONVIF_PROBE_MATCH, xml, "ws-discovery", None)


def test_onvif_uses_in_scope_xaddrs_and_refuses_the_others(site, peer):
    d = site.device("xiongmai-dvr")
    outside = peer(router({"/": http_response(200, b"")}), "127.0.0.3")
    xaddrs = (
        f"http://127.0.0.3:{outside.port}/onvif/device_service "
        f"http://{d.address}:{d.port(8899)}/onvif/device_service"
    )
    result, ctx = run(site, "onvif", "xiongmai-dvr", observations=(probe_match(xaddrs),))
    assert result.outcome is Outcome.COMPLETED, result.detail
    assert outside.connections == 0
    assert [(r.address, r.via) for r in ctx.out_of_scope] == [("127.0.0.3", "onvif.xaddrs")]


def test_isapi_dahua_axis_with_credentials(site):
    isapi, _ = run(site, "isapi", "hikvision-ipc")
    [xml] = values(isapi, K.ISAPI_DEVICE_INFO)
    assert 'xmlns="http://www.hikvision.com/ver20/XMLSchema"' in xml
    dahua, _ = run(site, "dahua", "dahua-ipc")
    [info] = values(dahua, K.DAHUA_SYSTEM_INFO)
    assert "updateSerial=" in info and f"serialNumber={site.device('dahua-ipc').serial}" in info
    https, _ = run(site, "http", "axis-p1375")
    assert any(o.source.startswith("https:") for o in https.observations)
    axis, _ = run(site, "axis", "axis-p1375")
    assert any("root.Brand.ProdNbr=P1375" in v for v in values(axis, K.AXIS_DEVICE_INFO))


def test_vendor_apis_need_credentials_and_skip_other_platforms(site):
    result, _ = run(site, "isapi", "hikvision-ipc", creds=False)
    assert (result.outcome, result.reason) == (Outcome.NOT_RUN, Reason.NO_CREDENTIALS)
    result, _ = run(site, "isapi", "dahua-ipc")
    assert (result.outcome, result.reason) == (Outcome.NOT_RUN, Reason.NOT_APPLICABLE)
    result, _ = run(site, "dahua", "hikvision-ipc")
    assert (result.outcome, result.reason) == (Outcome.NOT_RUN, Reason.NOT_APPLICABLE)


def test_vendor_api_wrong_password_is_auth_failed(site):
    result, _ = run(site, "isapi", "hikvision-ipc", password="wrong")
    assert (result.outcome, result.reason) == (Outcome.FAILED, Reason.AUTH_FAILED)


def test_dvrip_login_reply_is_recorded_even_when_refused(site):
    result, _ = run(site, "dvrip", "xiongmai-dvr")
    # The lab's DVRIP refuses every login (Ret 203): the reply is still platform evidence.
    assert (result.outcome, result.reason) == (Outcome.FAILED, Reason.AUTH_FAILED)
    assert '"Ret": 203' in values(result, K.DVRIP_BANNER)[0]
    result, _ = run(site, "dvrip", "xiongmai-dvr", creds=False)
    assert (result.outcome, result.reason) == (Outcome.NOT_RUN, Reason.NO_CREDENTIALS)


def test_mac_probe(site):
    result, _ = run(site, "mac", "hikvision-ipc")
    assert values(result, K.MAC) == [site.device("hikvision-ipc").mac]


def test_every_probe_on_every_lab_device_ends_in_a_recorded_outcome(site):
    for profile in DEVICES:
        for name in PROBES:
            result, _ = run(site, name, profile)
            assert result.reason is not Reason.BUG, (profile, name, result.detail)
            for o in result.observations:
                assert site.credentials[1] not in o.value
            assert site.credentials[1] not in result.detail


def test_the_skewed_lab_really_rejects_a_token_on_our_clock():
    """Negative control for the skew test: without re-dating, the same call is refused."""
    from auditor.net.exchange import Endpoint, probe_deadline
    from auditor.probes.onvif import _Session

    with LoopbackSite(["hikvision-ipc"], clock_skew=7200) as skewed:
        ctx = lab_ctx(skewed)
        d = skewed.device("hikvision-ipc")
        host = lab_host(skewed, "hikvision-ipc")
        session = _Session(
            ctx,
            Endpoint(host.address, d.port(80)),
            "/onvif/device_service",
            probe_deadline(ctx),
            ctx.credentials.for_host(host.address),
        )
        with pytest.raises(Exception) as err:
            session.call("GetDeviceInformation", "<tds:GetDeviceInformation/>", signed=True)
    assert getattr(err.value, "reason", None) is Reason.AUTH_FAILED


def test_banner_probe_reads_telnet_and_ssh_greetings():
    with LoopbackSite(["bosch-dinion", "linux-nginx"]) as s:
        telnet, _ = run(s, "banner", "bosch-dinion", creds=False)
        ssh, _ = run(s, "banner", "linux-nginx", creds=False)
    assert telnet.outcome is Outcome.COMPLETED, telnet.detail
    [greeting] = values(telnet, K.TELNET_BANNER)
    assert greeting.startswith("Welcome to IP bullet 5000 HD") and "\xff" not in greeting
    assert values(ssh, K.SSH_BANNER) == ["SSH-2.0-OpenSSH_8.2p1 Ubuntu-4ubuntu0.5"]


def test_onvif_falls_back_to_http_digest_on_a_digest_only_device():
    import dataclasses

    from auditor.lab import load_profiles

    base = load_profiles()["dahua-ipc"]
    assert base.onvif is not None
    digest_only = dataclasses.replace(
        base, onvif={**base.onvif, "auth": ["digest"], "unauthorized": "digest401"}
    )
    with LoopbackSite([digest_only]) as s:
        result, _ = run(s, "onvif", "dahua-ipc")
        wrong, _ = run(s, "onvif", "dahua-ipc", password="wrong")
    assert result.outcome is Outcome.COMPLETED, result.detail
    assert values(result, K.ONVIF_DEVICE_INFORMATION)
    assert (wrong.outcome, wrong.reason) == (Outcome.FAILED, Reason.AUTH_FAILED)


def test_onvif_auth_required_is_noted_on_the_completed_attempt(site):
    result, _ = run(site, "onvif", "hikvision-ipc", creds=False)
    assert result.outcome is Outcome.COMPLETED
    assert result.detail == "auth required (no credentials): GetDeviceInformation"


def test_probes_against_the_lab_hostile_devices():
    from auditor.lab import load_hostile_profiles

    names = ["hostile-streams", "hostile-injection", "hostile-xml-bombs"]
    with LoopbackSite(names, profiles=load_hostile_profiles()) as s:
        streams = {n: run(s, n, "hostile-streams")[0] for n in ("http", "tls", "rtsp", "onvif")}
        injection = run(s, "onvif", "hostile-injection")[0]
        bombs = run(s, "onvif", "hostile-xml-bombs")[0]
    # 100 MiB body on 80, stalled TLS on 443, binary garbage on 554, endless chunks on 8899.
    assert (streams["http"].outcome, streams["http"].reason) == (Outcome.FAILED, Reason.TOO_LARGE)
    assert (streams["tls"].outcome, streams["tls"].reason) == (Outcome.FAILED, Reason.TIMEOUT)
    assert (streams["rtsp"].outcome, streams["rtsp"].reason) == (Outcome.FAILED, Reason.MALFORMED)
    assert streams["onvif"].outcome is Outcome.FAILED
    assert streams["onvif"].reason in (Reason.TIMEOUT, Reason.TOO_LARGE)
    assert all(r.duration_s < 2.0 for r in streams.values())
    # A malformed GetDeviceInformation after good anonymous calls keeps the anonymous evidence.
    assert (injection.outcome, injection.reason) == (Outcome.FAILED, Reason.MALFORMED)
    assert values(injection, K.ONVIF_SYSTEM_DATE_TIME)
    # Entity expansion is refused by defusedxml, never performed.
    assert (bombs.outcome, bombs.reason) == (Outcome.FAILED, Reason.MALFORMED)
    assert "DTDForbidden" in bombs.detail or "EntitiesForbidden" in bombs.detail
