"""Fusion: relabels, conflicts, abstention, non-cameras, components, speed."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.identify import Identifier
from auditor.identify.extract import ExtractError, extract
from auditor.models import DeviceType, Observation, ObservationKind

NOW = datetime(2026, 11, 21, tzinfo=UTC)
IDENT = Identifier.default()

ONVIF_LTS = (
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>'
    '<tds:GetDeviceInformationResponse xmlns:tds="http://www.onvif.org/ver10/device/wsdl">'
    "<tds:Manufacturer>LTS</tds:Manufacturer><tds:Model>CMIP8242WB</tds:Model>"
    "<tds:FirmwareVersion>V5.5.0 build 180808</tds:FirmwareVersion>"
    "</tds:GetDeviceInformationResponse>"
    "</s:Body></s:Envelope>"
)
SADP = (
    "<ProbeMatch><Types>inquiry</Types><DeviceDescription>DS-7804HQH-K1</DeviceDescription>"
    "<MAC>68-6d-bc-ee-f8-f0</MAC></ProbeMatch>"
)


def obs(kind: str, value: str) -> Observation:
    return Observation(kind=ObservationKind(kind), value=value, source="test", observed_at=NOW)


def test_lts_relabel_is_hikvision() -> None:
    ident = IDENT.identify(
        [
            obs("onvif.device_information", ONVIF_LTS),
            obs("sadp.probe_match", SADP),
            obs("mac", "44:19:b6:01:02:03"),
            obs("http.server", "DNVRS-Webs"),
        ]
    )
    assert ident.manufacturer == "Hikvision"
    assert ident.brand == "LTS"
    assert ident.oem_relabel is True
    assert ident.confidence > 0.9
    assert {str(link.fingerprint_id) for link in ident.evidence} >= {
        "sadp-inquiry-answered",
        "oui:4419B6",
        "hikvision-dnvrs-webs",
    }
    assert any("LTS" in r for r in ident.rationale)


def test_amcrest_with_dahua_platform() -> None:
    ident = IDENT.identify(
        [
            obs(
                "dahua.system_info",
                "deviceType=IP4M-1041B\nupdateSerial=IPC-AW46WN-S2\nprocessor=HI3516DV300",
            ),
            obs("mac", "9c:8e:cd:00:00:01"),
        ]
    )
    assert ident.manufacturer == "Dahua"
    assert ident.model == "IP4M-1041B"
    assert [(c.vendor, c.model) for c in ident.components] == [("HiSilicon", "HI3516DV300")]


def test_own_brand_is_not_a_relabel() -> None:
    ident = IDENT.identify(
        [
            obs(
                "onvif.scopes",
                "onvif://www.onvif.org/name/HIKVISION onvif://www.onvif.org/hardware/DS-2CD2146G2-ISU",
            )
        ]
    )
    assert (
        ident.manufacturer == "Hikvision" and ident.brand == "Hikvision" and not ident.oem_relabel
    )
    assert ident.model == "DS-2CD2146G2-ISU"


@pytest.mark.parametrize(
    "server", ["Boa/0.92o", "GoAhead-Webs", "nginx", "Apache/2.4.27", "Webs", "lighttpd/1.4.35"]
)
def test_generic_server_alone_names_no_maker(server: str) -> None:
    ident = IDENT.identify([obs("http.server", server)])
    assert ident.manufacturer is None
    assert ident.device_type is DeviceType.UNKNOWN


def test_weak_camera_evidence_abstains_as_camera_maker_unknown() -> None:
    ident = IDENT.identify([obs("http.server", "uc-httpd 1.0.0")])
    assert ident.manufacturer is None
    assert ident.device_type.is_video
    assert any("abstained" in r for r in ident.rationale)


def test_two_weak_independent_signals_identify() -> None:
    ident = IDENT.identify(
        [obs("http.server", "uc-httpd 1.0.0"), obs("http.title", "NETSurveillance WEB")]
    )
    assert ident.manufacturer == "Xiongmai"


def test_hipcam_is_component_only() -> None:
    ident = IDENT.identify([obs("rtsp.server", "Hipcam RealServer/V1.0")])
    assert ident.manufacturer is None
    assert ident.device_type is DeviceType.IP_CAMERA
    assert ident.components and ident.components[0].vendor == "HiSilicon"


def test_router_is_named_as_a_router_not_a_camera() -> None:
    ident = IDENT.identify(
        [
            obs("http.www_authenticate", 'Basic realm="TP-LINK Wireless N Router WR841N"'),
            obs("http.title", "TL-WR740N"),
        ]
    )
    assert ident.device_type is DeviceType.ROUTER
    assert not ident.device_type.is_video
    assert ident.manufacturer == "TP-Link"
    assert any("not a video device" in r for r in ident.rationale)


def test_printer_is_not_a_camera() -> None:
    ident = IDENT.identify(
        [obs("http.title", " HP Color LaserJet 2840  /"), obs("http.server", "Virata-EmWeb/R6_2_1")]
    )
    assert ident.device_type is DeviceType.PRINTER
    assert ident.manufacturer == "HP"


def test_nginx_server_names_nobody() -> None:
    ident = IDENT.identify(
        [obs("http.server", "nginx/1.18.0 (Ubuntu)"), obs("http.title", "Welcome to nginx!")]
    )
    assert ident.manufacturer is None and not ident.device_type.is_video


def test_lorex_realm_is_a_dahua_relabel() -> None:
    ident = IDENT.identify(
        [
            obs(
                "rtsp.www_authenticate",
                'Digest realm="Login to ND021811019863", qop="auth", nonce="1"',
            )
        ]
    )
    assert (ident.manufacturer, ident.brand, ident.oem_relabel) == ("Dahua", "Lorex", True)
    assert any("Dahua 2018-02-06..2022-11-24; Skywatch" in r for r in ident.rationale)


def test_ezviz_is_hikvision_group_brand_not_relabel() -> None:
    ident = IDENT.identify(
        [
            obs("sadp.probe_match", "<ProbeMatch><Types>inquiry</Types></ProbeMatch>"),
            obs("mac", "64:f2:fb:00:00:01"),
        ]
    )
    assert (ident.manufacturer, ident.brand, ident.oem_relabel) == ("Hikvision", "EZVIZ", False)


def test_uniview_model_is_not_mistaken_for_dahua() -> None:
    scopes = "onvif://www.onvif.org/hardware/IPC-D122-PF28 onvif://www.onvif.org/name/IPC-D122-PF28"
    ident = IDENT.identify([obs("onvif.scopes", scopes), obs("mac", "48:ea:63:00:00:01")])
    assert ident.manufacturer == "Uniview"


def test_unencoded_scope_values_are_kept_whole() -> None:
    fields = extract(
        ObservationKind.ONVIF_SCOPES,
        "onvif://www.onvif.org/hardware/DINION IP bullet 5000 HD\nonvif://www.onvif.org/name/Bosch",
    )
    assert fields["hardware"] == "DINION IP bullet 5000 HD"
    assert fields["name"] == "Bosch"


def test_mac_alone_names_only_a_camera_specialist() -> None:
    # A Hikvision NIC ships in Hikvision's own devices: the prefix names the maker (not the type).
    hik = IDENT.identify([obs("mac", "44:19:b6:01:02:03")])
    assert (hik.manufacturer, hik.device_type.value) == ("Hikvision", "unknown")
    # A general maker's prefix (Sony) or a module maker's (Espressif) alone decides nothing.
    for mac in ("00:01:4a:00:00:01", "24:0a:c4:00:00:01"):
        ident = IDENT.identify([obs("mac", mac)])
        assert ident.manufacturer is None and ident.evidence, mac


def test_conflict_is_explained() -> None:
    ident = IDENT.identify(
        [
            obs("rtsp.server", "Dahua Rtsp Server"),
            obs("http.www_authenticate", 'Digest realm="Login to 4K01FD2PAJ6E3FF"'),
            obs("mac", "44:19:b6:01:02:03"),
        ]
    )
    assert ident.manufacturer == "Dahua"
    assert ident.serial == "4K01FD2PAJ6E3FF"
    assert any("conflict resolved" in r and "Hikvision" in r for r in ident.rationale)


def test_malformed_structured_input_is_noted_not_fatal() -> None:
    ident = IDENT.identify([obs("sadp.probe_match", "<ProbeMatch><Types>inq"), obs("mac", "zz:zz")])
    assert ident.manufacturer is None
    assert any("could not be parsed" in r for r in ident.rationale)
    assert any("malformed MAC" in r for r in ident.rationale)


def test_nothing_known() -> None:
    ident = IDENT.identify([])
    assert ident.manufacturer is None and not ident.evidence


def test_billion_laughs_is_refused() -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        "<ProbeMatch>&b;</ProbeMatch>"
    )
    with pytest.raises(ExtractError):
        extract(ObservationKind.SADP_PROBE_MATCH, bomb)


def test_deep_json_is_refused() -> None:
    with pytest.raises(ExtractError):
        extract(ObservationKind.DHIP_REPLY, "[" * 5000 + "]" * 5000)


KINDS = st.sampled_from(list(ObservationKind))


@settings(max_examples=300, deadline=None)
@given(kind=KINDS, value=st.text(max_size=400))
def test_any_input_gives_a_value_or_typed_error(kind: ObservationKind, value: str) -> None:
    with contextlib.suppress(ExtractError):
        extract(kind, value)
    IDENT.identify([obs(kind.value, value)])


def test_the_same_fact_reported_twice_counts_once() -> None:
    scopes = "onvif://www.onvif.org/manufacturer/HIKVISION onvif://www.onvif.org/type/video_encoder"
    probe = (
        '<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"><e:Body><d:ProbeMatches>'
        f"<d:ProbeMatch><d:Types>dn:NetworkVideoTransmitter</d:Types><d:Scopes>{scopes}</d:Scopes>"
        "</d:ProbeMatch></d:ProbeMatches></e:Body></e:Envelope>"
    )
    once = IDENT.identify([obs("onvif.scopes", scopes)])
    twice = IDENT.identify([obs("onvif.scopes", scopes), obs("onvif.probe_match", probe)])
    assert once.manufacturer == twice.manufacturer == "Hikvision"
    assert twice.confidence == once.confidence
    # A realm seen on HTTP and RTSP is one setting, not two signals.
    realm = 'Digest realm="Login to 4K01FD2PAJ6E3FF"'
    one = IDENT.identify([obs("http.www_authenticate", realm)])
    both = IDENT.identify(
        [obs("http.www_authenticate", realm), obs("rtsp.www_authenticate", realm)]
    )
    assert both.confidence == one.confidence
