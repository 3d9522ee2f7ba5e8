"""HTTP long tail: what a user sees for real banners, realms, titles and favicons from the field.

Every value here is a real observed string quoted by the fingerprint files (Recog, nmap,
WhatWeb, Ingram); the assertions are the identification a report would show for it.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from auditor.identify import Identifier
from auditor.models import DeviceType, Identification, Observation, ObservationKind

NOW = datetime(2026, 11, 21, tzinfo=UTC)
IDENT = Identifier.default()


def identify(*pairs: tuple[str, str]) -> Identification:
    return IDENT.identify(
        [
            Observation(kind=ObservationKind(k), value=v, source="test", observed_at=NOW)
            for k, v in pairs
        ]
    )


@pytest.mark.parametrize(
    ("kind", "value", "maker", "device"),
    [
        ("http.server", "VCS-VIDOS-NVR", "Bosch", DeviceType.NVR),
        ("http.server", "AV-TECH AV787 Video Web Server", "AVTECH", DeviceType.DVR),
        ("http.server", "AvigilonOnvifNvt/2.4.4.38", "Avigilon", DeviceType.IP_CAMERA),
        ("http.title", "WV-NS202A Network Camera", "i-PRO", DeviceType.IP_CAMERA),
        ("http.title", "IQA22N IQEYE1A1613: Live Images", "IQinVision", DeviceType.IP_CAMERA),
        ("http.title", "WEB SERVICE", "Dahua", DeviceType.CAMERA),
        ("http.title", "Genetec - SHARPV01111", "Genetec", DeviceType.IP_CAMERA),
        ("http.www_authenticate", 'Basic realm="DNR-322L"', "D-Link", DeviceType.NVR),
        ("http.www_authenticate", 'Basic realm="Arecont Vision"', "Arecont Vision", None),
        ("http.favicon_md5", "1536f25632f78fb03babedcb156d3f69", "Uniview", DeviceType.CAMERA),
        ("http.favicon_md5", "bd1b5fef10a0846b2db322b90a57b746", "FLIR", DeviceType.IP_CAMERA),
    ],
)
def test_surveillance_makers_are_named(
    kind: str, value: str, maker: str, device: DeviceType | None
) -> None:
    ident = identify((kind, value))
    assert ident.manufacturer == maker
    assert ident.device_type.is_video
    if device is not None:
        assert ident.device_type is device


def test_dlink_realm_gives_the_model() -> None:
    ident = identify(("http.www_authenticate", 'Digest realm="DCS-932LB1_BC",qop="auth"'))
    assert (ident.manufacturer, ident.model) == ("D-Link", "DCS-932LB1")


@pytest.mark.parametrize(
    ("kind", "value", "device"),
    [
        ("http.www_authenticate", 'Basic realm="DVR"', DeviceType.DVR),
        ("http.www_authenticate", 'Basic realm="IPCamera Login"', DeviceType.IP_CAMERA),
        ("http.server", "Mini Dome IP Camera", DeviceType.IP_CAMERA),
        ("http.title", "Network Camera TUCCAM1", DeviceType.IP_CAMERA),
        ("http.title", "NVR", DeviceType.NVR),
    ],
)
def test_camera_only_strings_say_maker_unknown(kind: str, value: str, device: DeviceType) -> None:
    ident = identify((kind, value))
    assert ident.manufacturer is None
    assert ident.device_type is device
    assert f"{device.value}, maker unknown" in ident.rationale


@pytest.mark.parametrize(
    "server",
    ["Netwave IP Camera", "alphapd/2.1.8", "IPCamera HTTP/ONVIF/P2P/RTSP/VOD Multi-Server"],
)
def test_shared_sdk_servers_never_decide_a_maker(server: str) -> None:
    ident = identify(("http.server", server))
    assert ident.manufacturer is None
    assert ident.device_type.is_video


def test_netwave_names_the_chip_platform_as_a_component() -> None:
    ident = identify(("http.server", "Netwave IP Camera"))
    assert [c.vendor for c in ident.components] == ["Netwave"]


def test_steinsvik_orbit_is_a_truen_relabel() -> None:
    ident = identify(("http.www_authenticate", 'Digest realm="Orbit-351", nonce="0000040d"'))
    assert (ident.manufacturer, ident.brand, ident.model) == ("Truen", "Steinsvik", "Orbit-351")
    assert ident.oem_relabel


@pytest.mark.parametrize(
    ("kind", "value", "maker"),
    [
        ("http.server", "Crestron Webserver", "Crestron"),
        ("http.server", "tivo-httpd-1:20.7.4.RC35-D18-6:D18", "TiVo"),
        ("http.title", "Cisco TelePresence MCU - Home page", "Cisco"),
        ("http.title", "WyzeOutdoorPlug - Main Menu", "Wyze"),
        ("http.server", "Grandstream GXP2020 1.2.5.3", "Grandstream"),
        ("http.title", "EDIMAX Technology", "Edimax"),
    ],
)
def test_makers_named_without_a_false_camera_claim(kind: str, value: str, maker: str) -> None:
    ident = identify((kind, value))
    assert ident.manufacturer == maker
    assert not ident.device_type.is_video


def test_avtech_login_title_is_a_hint_that_the_server_banner_confirms() -> None:
    alone = identify(("http.title", "::: Login :::"))
    assert alone.manufacturer is None
    both = identify(
        ("http.title", "::: Login :::"), ("http.server", "Linux/2.x UPnP/1.0 Avtech/1.0")
    )
    assert both.manufacturer == "AVTECH"


def test_intelbras_title_reports_the_brand_without_guessing_the_maker() -> None:
    ident = identify(("http.title", "Intelbras"))
    assert ident.brand == "Intelbras"
    assert ident.manufacturer is None
