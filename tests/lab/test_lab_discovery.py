"""UDP discovery of the lab by unicast: WS-Discovery, SADP, DHIP, Xiongmai, SSDP."""

from __future__ import annotations

import dataclasses
import json
import struct

import pytest
from defusedxml import ElementTree as ET

from auditor.lab import LoopbackSite, load_profiles
from tests.lab.lab_client import M_SEARCH, SADP_INQUIRY, XM_SEARCH, dhip_search, probe, udp_ask

D = "{http://schemas.xmlsoap.org/ws/2005/04/discovery}"
WSA = "{http://schemas.xmlsoap.org/ws/2004/08/addressing}"
PROFILES = load_profiles()
ONVIF_CAMERAS = sorted(
    p for p, prof in PROFILES.items() if "wsd" in prof.services and prof.device_type.is_video
)


@pytest.mark.parametrize("profile", ONVIF_CAMERAS)
@pytest.mark.parametrize("types", ["dn:NetworkVideoTransmitter", "tds:Device", ""])
def test_probe_match_for_typed_and_untyped_probes(all_site, profile, types):
    device = all_site.device(profile)
    reply = udp_ask(device.address, 3702, probe(types, "uuid:0b0f6c3e-5a57-4c8e-9d1e-3c3f8c1b2a10"))
    assert reply is not None
    root = ET.fromstring(reply)
    assert root.findtext(f".//{WSA}RelatesTo") == "uuid:0b0f6c3e-5a57-4c8e-9d1e-3c3f8c1b2a10"
    assert root.findtext(f".//{WSA}Address") == f"urn:uuid:{device.uuid}"
    assert "tds:Device" in (root.findtext(f".//{D}Types") or "")
    xaddrs = root.findtext(f".//{D}XAddrs") or ""
    if profile == "onvif-outside":
        assert device.outside_address in xaddrs and device.address not in xaddrs
    else:
        assert device.address in xaddrs


def test_scopes_carry_the_profile_values(all_site):
    device = all_site.device("hikvision-ipc")
    root = ET.fromstring(udp_ask(device.address, 3702, probe()) or b"")
    scopes = (root.findtext(f".//{D}Scopes") or "").split()
    assert "onvif://www.onvif.org/name/HIKVISION%20DS-2CD2143G2-I" in scopes
    assert f"onvif://www.onvif.org/MAC/{device.mac}" in scopes


def test_printer_ignores_typed_probes_but_answers_untyped(all_site):
    address = all_site.address_of("printer-hp")
    assert udp_ask(address, 3702, probe("dn:NetworkVideoTransmitter"), timeout=0.5) is None
    reply = udp_ask(address, 3702, probe(""))
    assert reply is not None and b"wprt:PrintDeviceType" in reply


def test_probe_for_an_unknown_namespace_is_not_matched(all_site):
    address = all_site.address_of("hikvision-ipc")
    odd = probe("dn:NetworkVideoTransmitter").replace(
        b"http://www.onvif.org/ver10/network/wsdl", b"urn:example:other"
    )
    assert udp_ask(address, 3702, odd, timeout=0.5) is None


@pytest.mark.parametrize(
    "profile",
    ["hikvision-ipc", "hikvision-nvr", "ezviz-c6n", "lts-ipc", "annke-ipc", "hikvision-sadp-only"],
)
def test_sadp_inquiry(all_site, profile):
    device = all_site.device(profile)
    reply = udp_ask(device.address, 37020, SADP_INQUIRY)
    assert reply is not None
    root = ET.fromstring(reply)
    assert root.tag == "ProbeMatch"
    assert root.findtext("Uuid") == "8282F1DB-2FA6-4709-B261-3C6B6A48CA17"
    assert root.findtext("Types") == "inquiry"
    assert root.findtext("MAC") == device.mac.replace(":", "-")
    assert root.findtext("DeviceDescription") == device.profile.model


def test_sadp_ignores_anything_but_inquiry(all_site):
    address = all_site.address_of("hikvision-ipc")
    update = SADP_INQUIRY.replace(b"inquiry", b"update")
    assert udp_ask(address, 37020, update, timeout=0.5) is None


@pytest.mark.parametrize("profile", ["dahua-ipc", "dahua-dhip-only"])
def test_dhip_search(all_site, profile):
    device = all_site.device(profile)
    reply = udp_ask(device.address, 37810, dhip_search())
    assert reply is not None and reply[4:8] == b"DHIP"
    length = struct.unpack_from("<I", reply, 16)[0]
    body = json.loads(reply[32 : 32 + length])
    assert body["method"] == "client.notifyDevInfo"
    assert body["mac"] == device.mac
    info = body["params"]["deviceInfo"]
    assert info["DeviceType"] == device.profile.model and info["Port"] == 37777


def test_xiongmai_search(all_site):
    device = all_site.device("xiongmai-dvr")
    reply = udp_ask(device.address, 34569, XM_SEARCH)
    assert reply is not None
    head = struct.unpack_from("<BBHIIHHI", reply)
    assert head[0] == 0xFF and head[6] == 1531
    common = json.loads(reply[20 : 20 + head[7]])["NetWork.NetCommon"]
    octets = device.address.split(".")
    assert common["HostIP"] == "0x" + "".join(f"{int(o):02X}" for o in reversed(octets))
    assert common["TCPPort"] == 34567


def test_ssdp_reply_and_outside_location(all_site):
    router = all_site.device("router-openwrt")
    reply = (udp_ask(router.address, 1900, M_SEARCH) or b"").decode()
    assert reply.startswith("HTTP/1.1 200 OK\r\n")
    assert f"LOCATION: http://{router.address}:{router.port(80)}/rootDesc.xml" in reply
    assert "MiniUPnPd/1.9" in reply
    outside = all_site.device("onvif-outside")
    reply = (udp_ask(outside.address, 1900, M_SEARCH) or b"").decode()
    assert f"LOCATION: http://{outside.outside_address}:49152/desc.xml" in reply
    assert outside.outside_address not in all_site.targets


def test_silent_host_and_sadp_only_host_do_not_answer_other_protocols(all_site):
    silent = all_site.address_of("silent-host")
    for port, payload in [
        (3702, probe()),
        (37020, SADP_INQUIRY),
        (37810, dhip_search()),
        (34569, XM_SEARCH),
        (1900, M_SEARCH),
    ]:
        assert udp_ask(silent, port, payload, timeout=0.3) is None
    sadp_only = all_site.address_of("hikvision-sadp-only")
    assert udp_ask(sadp_only, 3702, probe(), timeout=0.3) is None


def mdns_query(*services: str) -> bytes:
    out = struct.pack("!HHHHHH", 0x1234, 0, len(services), 0, 0, 0)
    for name in services:
        out += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
        out += struct.pack("!HH", 12, 1)
    return out


AXIS_MDNS = {
    # The shape Axis announces (sources in axis-p1375.yaml: research protocols.md §3 [S25]).
    "service": "_axis-video._tcp.local",
    "instance": "AXIS ${model} - ${mac_plain_upper}",
    "host": "axis-${mac_plain}.local",
    "srv_port": "${port_80}",
    "txt": ["macaddress=${mac_plain_upper}"],
}


def test_mdns_axis_video_service():
    from auditor.discovery.mdns import parse_response

    axis = load_profiles()["axis-p1375"]
    with_mdns = dataclasses.replace(axis, services={**axis.services, "mdns": AXIS_MDNS})
    with LoopbackSite([with_mdns]) as site:
        device = site.devices[0]
        query = mdns_query("_arec._tcp.local", "_axis-video._tcp.local")
        reply = udp_ask(device.address, 5353, query)
        silent = udp_ask(device.address, 5353, mdns_query("_rtsp._tcp.local"), timeout=0.3)
    assert reply is not None and reply[:2] == b"\x12\x34"
    texts = [r.text for r in parse_response(reply)]
    mac = device.mac.replace(":", "").upper()
    instance = f"AXIS P1375 - {mac}._axis-video._tcp.local"
    assert f"PTR _axis-video._tcp.local {instance}" in texts
    assert f"TXT {instance} macaddress={mac}" in texts
    assert f"A axis-{mac.lower()}.local {device.address}" in texts
    assert any(t.startswith(f"SRV {instance} 0 0 {device.port(80)} ") for t in texts)
    assert silent is None  # not asked for its service: no answer
