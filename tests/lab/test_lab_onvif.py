"""ONVIF device service of the lab, driven by hand-built SOAP and a hand-computed digest."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests
from defusedxml import ElementTree as ET
from requests.auth import HTTPDigestAuth

from auditor.lab import LoopbackSite
from tests.lab.lab_client import skewed, soap, username_token

TT = "{http://www.onvif.org/ver10/schema}"
TDS = "{http://www.onvif.org/ver10/device/wsdl}"
SOAP = "{http://www.w3.org/2003/05/soap-envelope}"


def onvif_url(site: LoopbackSite, profile: str) -> str:
    device = site.device(profile)
    assert device.profile.onvif is not None
    port = device.port(int(device.profile.onvif.get("port", 80)))
    return f"http://{device.address}:{port}/onvif/device_service"


def post(url: str, body: bytes, auth: requests.auth.AuthBase | None = None) -> requests.Response:
    return requests.post(
        url, data=body, timeout=3, headers={"Content-Type": "application/soap+xml"}, auth=auth
    )


def device_time(resp: requests.Response) -> datetime:
    root = ET.fromstring(resp.content)
    utc = root.find(f".//{TT}UTCDateTime")
    assert utc is not None
    parts = {el.tag.replace(TT, ""): int(el.text or 0) for el in utc.iter() if el.text}
    return datetime(
        parts["Year"],
        parts["Month"],
        parts["Day"],
        parts["Hour"],
        parts["Minute"],
        parts["Second"],
        tzinfo=UTC,
    )


def fault_subcode(resp: requests.Response) -> str:
    root = ET.fromstring(resp.content)
    value = root.find(f".//{SOAP}Subcode/{SOAP}Value")
    return (value.text or "") if value is not None else ""


def test_system_date_and_time_is_anonymous_and_follows_the_device_clock(all_site):
    resp = post(onvif_url(all_site, "hikvision-ipc"), soap("GetSystemDateAndTime"))
    assert resp.status_code == 200
    assert abs((device_time(resp) - datetime.now(UTC)).total_seconds()) < 5


def test_device_information_needs_a_token_and_fails_with_the_real_fault(all_site):
    resp = post(onvif_url(all_site, "hikvision-ipc"), soap("GetDeviceInformation"))
    assert resp.status_code == 400
    assert fault_subcode(resp) == "ter:NotAuthorized"
    assert b"<tds:Manufacturer>" not in resp.content


def test_hand_computed_digest_is_accepted(all_site):
    user, password = all_site.credentials
    body = soap("GetDeviceInformation", username_token(user, password))
    resp = post(onvif_url(all_site, "hikvision-ipc"), body)
    assert resp.status_code == 200, resp.text
    root = ET.fromstring(resp.content)
    assert root.findtext(f".//{TDS}Manufacturer") == "HIKVISION"
    assert root.findtext(f".//{TDS}Model") == "DS-2CD2143G2-I"
    assert "LAB" in (root.findtext(f".//{TDS}SerialNumber") or "")


@pytest.mark.parametrize(
    "case",
    ["wrong-password", "wrong-user", "skewed-past", "skewed-future"],
)
def test_wrong_or_skewed_tokens_are_rejected(all_site, case):
    user, password = all_site.credentials
    token = {
        "wrong-password": lambda: username_token(user, password + "x"),
        "wrong-user": lambda: username_token("operator", password),
        "skewed-past": lambda: username_token(user, password, skewed(-301)),
        "skewed-future": lambda: username_token(user, password, skewed(+301)),
    }[case]()
    resp = post(onvif_url(all_site, "hikvision-ipc"), soap("GetDeviceInformation", token))
    assert resp.status_code == 400
    assert fault_subcode(resp) == "ter:NotAuthorized"


def test_scopes_and_mac_behind_the_token(all_site):
    user, password = all_site.credentials
    device = all_site.device("hikvision-ipc")
    url = onvif_url(all_site, "hikvision-ipc")
    scopes = post(url, soap("GetScopes", username_token(user, password)))
    assert f"onvif://www.onvif.org/MAC/{device.mac}" in scopes.text
    nics = post(url, soap("GetNetworkInterfaces", username_token(user, password)))
    assert ET.fromstring(nics.content).findtext(f".//{TT}HwAddress") == device.mac


def test_skewed_device_accepts_a_token_signed_with_its_own_clock():
    with LoopbackSite(["hikvision-ipc"], clock_skew=900) as site:
        url = onvif_url(site, "hikvision-ipc")
        user, password = site.credentials
        clock = device_time(post(url, soap("GetSystemDateAndTime")))
        assert 890 < (clock - datetime.now(UTC)).total_seconds() < 910
        naive = post(url, soap("GetDeviceInformation", username_token(user, password)))
        assert naive.status_code == 400
        adjusted = post(url, soap("GetDeviceInformation", username_token(user, password, clock)))
        assert adjusted.status_code == 200


def test_dahua_answers_401_digest_and_accepts_http_digest(all_site):
    url = onvif_url(all_site, "dahua-ipc")
    serial = all_site.device("dahua-ipc").serial
    resp = post(url, soap("GetDeviceInformation"))
    assert resp.status_code == 401
    assert f'Digest realm="Login to {serial}"' in resp.headers["WWW-Authenticate"]
    ok = post(url, soap("GetDeviceInformation"), auth=HTTPDigestAuth(*all_site.credentials))
    assert ok.status_code == 200
    assert ok.text.startswith('<?xml version="1.0" encoding="UTF-8" standalone="yes" ?>')
    bad = post(url, soap("GetDeviceInformation"), auth=HTTPDigestAuth("admin", "guess"))
    assert bad.status_code == 401


def test_xiongmai_gives_device_information_anonymously(all_site):
    resp = post(onvif_url(all_site, "xiongmai-dvr"), soap("GetDeviceInformation"))
    assert resp.status_code == 200
    assert ET.fromstring(resp.content).findtext(f".//{TDS}Manufacturer") == "H264"


def test_axis_authenticates_even_pre_auth_calls(all_site):
    resp = post(onvif_url(all_site, "axis-p1375"), soap("GetSystemDateAndTime"))
    assert resp.status_code == 401
    assert "AXIS_WS_" in resp.headers["WWW-Authenticate"]


def test_malformed_soap_and_unknown_operations(all_site):
    url = onvif_url(all_site, "hikvision-ipc")
    assert post(url, b"<not-xml").status_code == 400
    unknown = post(url, soap("GetSystemLog", username_token(*all_site.credentials)))
    assert fault_subcode(unknown) == "ter:ActionNotSupported"
    entity = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><s:Envelope '
        b'xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>&a;</s:Body></s:Envelope>'
    )
    assert post(url, entity).status_code == 400
