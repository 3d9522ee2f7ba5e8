"""Banner kinds (SNMP, SIP, SSH, TLS issuer, Telnet, FTP): what a user sees for real strings.

Every value below is a real observation cited in the fingerprint files (Recog, nmap, LibreNMS
captures); the tests pin the behaviour that matters: a maker named from its own words, a shared
stack string never naming one, and conferencing gear never counted as a camera.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from auditor.identify import Identifier
from auditor.models import DeviceType, Observation, ObservationKind

NOW = datetime(2026, 11, 21, tzinfo=UTC)
IDENT = Identifier.default()


def obs(kind: str, value: str) -> Observation:
    return Observation(kind=ObservationKind(kind), value=value, source="test", observed_at=NOW)


def test_snmp_sysdescr_and_sysobjectid_name_an_axis_camera_with_model_and_firmware() -> None:
    ident = IDENT.identify(
        [
            obs("snmp.sysdescr", "; AXIS Q1656; Box Camera; 10.12.240; Jun 03 2024 14:13; 900; 1"),
            obs("snmp.sysobjectid", "1.3.6.1.4.1.368.1.1"),
        ]
    )
    assert ident.manufacturer == "Axis"
    assert ident.device_type is DeviceType.IP_CAMERA
    assert (ident.model, ident.firmware) == ("Q1656", "10.12.240")


def test_generic_sysdescr_is_a_camera_of_unknown_maker_until_the_enterprise_oid_names_it() -> None:
    alone = IDENT.identify([obs("snmp.sysdescr", "Mega-Pixel Network Camera")])
    assert alone.manufacturer is None
    assert alone.device_type is DeviceType.IP_CAMERA
    assert any("maker unknown" in note for note in alone.rationale)

    with_oid = IDENT.identify(
        [
            obs("snmp.sysdescr", "Mega-Pixel Network Camera"),
            obs("snmp.sysobjectid", "1.3.6.1.4.1.23465"),
        ]
    )
    assert with_oid.manufacturer == "Vivotek"
    assert with_oid.device_type is DeviceType.IP_CAMERA


@pytest.mark.parametrize(
    ("kind", "value", "product"),
    [
        ("ssh.banner", "SSH-2.0-dropbear_2015.67", "Dropbear SSH"),
        ("ssh.banner", "OpenSSH_6.6.1", "OpenSSH"),
    ],
)
def test_a_stock_ssh_server_is_recognised_but_names_no_maker_or_type(
    kind: str, value: str, product: str
) -> None:
    ident = IDENT.identify([obs(kind, value)])
    assert ident.manufacturer is None
    assert ident.device_type is DeviceType.UNKNOWN
    assert [dict(link.asserts).get("service.product") for link in ident.evidence] == [product]


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        (
            "ftp.banner",
            "220 IPCamera FtpServer(www.maygion.com),"
            "do NOT change firmware unless you know what you are doing!",
        ),
        ("telnet.banner", "          The products of network camera\r\n\r\nUsername: "),
        ("snmp.sysdescr", "Mega-Pixel Network Camera"),
    ],
)
def test_an_sdk_string_sold_to_many_makers_says_camera_but_names_no_maker(
    kind: str, value: str
) -> None:
    ident = IDENT.identify([obs(kind, value)])
    assert ident.manufacturer is None
    assert ident.device_type is DeviceType.IP_CAMERA


@pytest.mark.parametrize(
    ("kind", "value", "maker"),
    [
        ("sip.user_agent", "TANDBERG/519 (TC7.0.2.aecf2d9)", "Cisco"),
        ("sip.user_agent", "PolycomHDX8000HD/3.1.7", "Polycom"),
        ("snmp.sysdescr", "Cisco TelePresence MCU 4205", "Cisco"),
        ("tls.issuer", "CN=Avaya cu360 11YT11111111", "Avaya"),
        (
            "tls.subject",
            "CN=a_lifesize_system,OU=lifesize,O=lifesize,L=Austin,ST=Texas,C=US",
            "Lifesize",
        ),
    ],
)
def test_conferencing_systems_are_named_but_kept_out_of_the_camera_inventory(
    kind: str, value: str, maker: str
) -> None:
    ident = IDENT.identify([obs(kind, value)])
    assert ident.manufacturer == maker
    assert not ident.device_type.is_video


def test_axis_door_station_sip_agent_is_an_intercom_and_its_speaker_is_not_video() -> None:
    door = IDENT.identify([obs("sip.user_agent", "AXIS A8105-E Network Video Door Station")])
    assert (door.manufacturer, door.model, door.device_type) == (
        "Axis",
        "A8105-E",
        DeviceType.INTERCOM,
    )
    speaker = IDENT.identify([obs("sip.user_agent", "AXIS C3003-E Network Horn Speaker")])
    assert speaker.manufacturer == "Axis"
    assert not speaker.device_type.is_video


def test_telnet_greeting_of_a_bosch_camera_names_bosch_and_the_model() -> None:
    ident = IDENT.identify(
        [obs("telnet.banner", "Welcome to FLEXIDOME NDC-455-P 1.2.3.4 from 5.6.7.8")]
    )
    assert (ident.manufacturer, ident.model) == ("Bosch", "FLEXIDOME NDC-455-P")
    assert ident.device_type is DeviceType.IP_CAMERA
