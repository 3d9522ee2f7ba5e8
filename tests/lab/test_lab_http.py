"""Web servers of the lab: banners, vendor APIs behind Digest, TLS subjects, header shapes."""

from __future__ import annotations

import socket
import ssl

import pytest
import requests
from cryptography import x509
from cryptography.x509.oid import NameOID
from requests.auth import HTTPDigestAuth

from auditor.lab import LoopbackSite, load_profiles
from tests.lab.lab_client import tcp_exchange

PROFILES = load_profiles()
WEB = sorted(p for p, prof in PROFILES.items() if "http" in prof.services)


def base(site: LoopbackSite, profile: str) -> str:
    device = site.device(profile)
    # Not always 80: Foscam serves its web UI on 88, UniFi Video on 7080.
    port = int(device.profile.services.get("http", {}).get("port", 80))
    return f"http://{device.address}:{device.port(port)}"


@pytest.mark.parametrize("profile", WEB)
def test_server_header_is_the_profiles(all_site, profile):
    resp = requests.get(base(all_site, profile) + "/", timeout=3, allow_redirects=False)
    expected = PROFILES[profile].services["http"].get("server")
    if expected is None:
        assert "Server" not in resp.headers
    else:
        assert resp.headers["Server"] == expected


def test_hikvision_isapi_challenge_and_digest(all_site):
    url = base(all_site, "hikvision-ipc") + "/ISAPI/System/deviceInfo"
    anon = requests.get(url, timeout=3)
    assert anon.status_code == 401
    challenge = anon.headers["WWW-Authenticate"]
    assert challenge.startswith("Digest realm=")
    assert 'qop="auth"' in challenge and 'stale="FALSE"' in challenge
    assert "<statusValue>401</statusValue>" in anon.text
    ok = requests.get(url, timeout=3, auth=HTTPDigestAuth(*all_site.credentials))
    assert ok.status_code == 200
    assert 'xmlns="http://www.hikvision.com/ver20/XMLSchema"' in ok.text
    assert f"<macAddress>{all_site.device('hikvision-ipc').mac}</macAddress>" in ok.text
    wrong = requests.get(url, timeout=3, auth=HTTPDigestAuth("admin", "12345"))
    assert wrong.status_code == 401


def test_oem_relabel_shows_the_hikvision_platform(all_site):
    url = base(all_site, "lts-ipc") + "/ISAPI/System/deviceInfo"
    ok = requests.get(url, timeout=3, auth=HTTPDigestAuth(*all_site.credentials))
    assert "http://www.std-cgi.com/ver20/XMLSchema" in ok.text
    assert "<systemContact>STD-CGI</systemContact>" in ok.text


def test_hikvision_not_found_page(all_site):
    resp = requests.get(base(all_site, "hikvision-ipc") + "/nothing/here", timeout=3)
    assert resp.status_code == 404
    assert "<title>Document Error: Not Found</title>" in resp.text
    assert "/nothing/here" in resp.text


@pytest.mark.parametrize(
    ("profile", "leak"),
    [
        ("dahua-ipc", "updateSerial=IPC-HFW2431S-S-S2"),
        ("amcrest-ipc", "updateSerial=IPC-AW46WN-S2"),
        ("lorex-nvr", "updateSerial=DHI-NVR4108HS-8P-4KS2"),
    ],
)
def test_dahua_magicbox_behind_login_realm(all_site, profile, leak):
    url = base(all_site, profile) + "/cgi-bin/magicBox.cgi?action=getSystemInfo"
    anon = requests.get(url, timeout=3)
    assert anon.status_code == 401
    assert f'realm="Login to {all_site.device(profile).serial}"' in anon.headers["WWW-Authenticate"]
    ok = requests.get(url, timeout=3, auth=HTTPDigestAuth(*all_site.credentials))
    assert ok.status_code == 200
    assert leak in ok.text


def test_dahua_raw_header_shape(all_site):
    device = all_site.device("dahua-ipc")
    raw = tcp_exchange(device.address, device.port(80), b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert raw.startswith(b"HTTP/1.1 200 OK\r\nCONNECTION: close\r\nCONTENT-LENGTH: ")
    head, body = raw.split(b"\r\n\r\n", 1)
    assert b"CONTENT-TYPE: text/html" in head
    assert body.startswith(b"\xef\xbb\xbf<!DOCTYPE html PUBLIC")


def test_hikvision_raw_header_order_matches_nmap(all_site):
    device = all_site.device("hikvision-ipc")
    raw = tcp_exchange(device.address, device.port(80), b"GET / HTTP/1.0\r\n\r\n")
    assert raw.startswith(b"HTTP/1.0 200 OK\r\nDate: ")
    assert b"\r\nServer: App-webs/\r\n" in raw


def test_axis_basic_device_info_is_anonymous(all_site):
    url = base(all_site, "axis-p1375") + "/axis-cgi/basicdeviceinfo.cgi"
    body = {"apiVersion": "1.0", "method": "getAllUnrestrictedProperties"}
    props = requests.post(url, json=body, timeout=3).json()["data"]["propertyList"]
    assert props["Brand"] == "AXIS" and props["ProdNbr"] == "P1375"


@pytest.mark.parametrize(
    ("profile", "attrs"),
    [
        (
            "hikvision-nvr",
            {NameOID.COMMON_NAME: "www.hikvision.com", NameOID.ORGANIZATION_NAME: "HIKVISION"},
        ),
        ("axis-p1375", {NameOID.ORGANIZATION_NAME: "Axis Communications AB"}),
        ("bosch-dinion", {NameOID.ORGANIZATIONAL_UNIT_NAME: "ST-VS"}),
    ],
)
def test_tls_certificate_subject(all_site, profile, attrs):
    device = all_site.device(profile)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection((device.address, device.port(443)), 3) as raw,
        ctx.wrap_socket(raw) as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    cert = x509.load_der_x509_certificate(der)
    for oid, value in attrs.items():
        assert cert.subject.get_attributes_for_oid(oid)[0].value == value
    if profile == "axis-p1375":
        cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        assert cn == "axis-" + device.mac.replace(":", "")


def test_malformed_request_gets_400(all_site):
    device = all_site.device("linux-nginx")
    raw = tcp_exchange(device.address, device.port(80), b"NONSENSE\r\n\r\n")
    assert raw.split(b"\r\n", 1)[0].endswith(b"400 Bad Request")


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_https_serves_the_same_personality(all_site):
    device = all_site.device("hikvision-nvr")
    resp = requests.get(f"https://{device.address}:{device.port(443)}/", verify=False, timeout=3)
    assert resp.headers["Server"] == "DNVRS-Webs"
