"""Third-party ONVIF clients against the lab: zeep in strict mode on the ONVIF WSDLs that
onvif-zeep ships, onvif-zeep's own ONVIFCamera and the npm `onvif` package, the way users
drive real cameras."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from zeep.proxy import ServiceProxy

onvif = pytest.importorskip("onvif")
zeep = pytest.importorskip("zeep")

from zeep.wsse.username import UsernameToken  # noqa: E402

from auditor.lab import LoopbackSite, load_profiles  # noqa: E402

WSDL_DIR = os.path.join(os.path.dirname(os.path.dirname(onvif.__file__)), "wsdl")
DEVICE_BINDING = "{http://www.onvif.org/ver10/device/wsdl}DeviceBinding"
MEDIA_BINDING = "{http://www.onvif.org/ver10/media/wsdl}MediaBinding"
MEDIA_NS = "http://www.onvif.org/ver10/media/wsdl"
ONVIF_PROFILES = sorted(
    pid
    for pid, p in load_profiles().items()
    # Devices that accept WS-UsernameToken (a digest-only ONVIF service needs HTTP Digest).
    if p.onvif is not None and "wsse" in p.onvif.get("auth", ("wsse",))
)


def strict_client(wsdl: str, binding: str, xaddr: str, site: LoopbackSite) -> ServiceProxy:
    user, password = site.credentials
    client = zeep.Client(
        os.path.join(WSDL_DIR, wsdl),
        wsse=UsernameToken(user, password, use_digest=True),
        settings=zeep.Settings(strict=True),
    )
    service: ServiceProxy = client.create_service(binding, xaddr)
    return service


def device_xaddr(site: LoopbackSite, pid: str) -> str:
    device = site.device(pid)
    assert device.profile.onvif is not None
    port = device.port(int(device.profile.onvif.get("port", 80)))
    return f"http://{device.address}:{port}/onvif/device_service"


@pytest.mark.parametrize("pid", ONVIF_PROFILES)
def test_strict_zeep_reads_identity_services_and_stream_uri(all_site, pid):
    device = strict_client("devicemgmt.wsdl", DEVICE_BINDING, device_xaddr(all_site, pid), all_site)
    info = device.GetDeviceInformation()
    assert info.Model == all_site.device(pid).profile.model
    # The rest of what a client reads on connect parses strictly too.
    device.GetCapabilities(Category="All")
    device.GetSystemDateAndTime()
    device.GetHostname()
    device.GetNetworkInterfaces()
    caps = device.GetServiceCapabilities()
    assert caps.Security.UsernameToken is True
    services = device.GetServices(IncludeCapability=True)
    by_ns = {s.Namespace: s for s in services}
    assert MEDIA_NS in by_ns
    # IncludeCapability is honoured: every service carries its capabilities.
    assert all(s.Capabilities is not None for s in services)
    without = device.GetServices(IncludeCapability=False)
    assert all(s.Capabilities is None for s in without)
    # The Media service that GetServices advertises answers (it was a 404 before).
    media = strict_client("media.wsdl", MEDIA_BINDING, by_ns[MEDIA_NS].XAddr, all_site)
    profiles = media.GetProfiles()
    assert profiles and profiles[0].token
    uri = media.GetStreamUri(
        StreamSetup={"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}},
        ProfileToken=profiles[0].token,
    )
    assert uri.Uri.startswith(f"rtsp://{all_site.device(pid).address}")


def test_media_service_refuses_anonymous_and_unknown_profiles(all_site):
    xaddr = device_xaddr(all_site, "hikvision-ipc").replace("device_service", "Media")
    anonymous = zeep.Client(
        os.path.join(WSDL_DIR, "media.wsdl"), settings=zeep.Settings(strict=True)
    ).create_service(MEDIA_BINDING, xaddr)
    with pytest.raises(zeep.exceptions.Fault) as denied:
        anonymous.GetProfiles()
    assert [q.localname for q in denied.value.subcodes] == ["NotAuthorized"]
    media = strict_client("media.wsdl", MEDIA_BINDING, xaddr, all_site)
    with pytest.raises(zeep.exceptions.Fault) as missing:
        media.GetStreamUri(
            StreamSetup={"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}},
            ProfileToken="no-such-profile",
        )
    assert [q.localname for q in missing.value.subcodes] == ["InvalidArgVal", "NoProfile"]


@pytest.mark.parametrize("pid", [p for p in ONVIF_PROFILES if "wsd" in load_profiles()[p].services])
def test_onvif_zeep_camera_scopes_match_the_probe_match(all_site, pid):
    """GetScopes and the WS-Discovery ProbeMatch are one list on a real device."""
    device = all_site.device(pid)
    assert device.profile.onvif is not None
    port = device.port(int(device.profile.onvif.get("port", 80)))
    user, password = all_site.credentials
    cam = onvif.ONVIFCamera(device.address, port, user, password, WSDL_DIR)
    scopes = [s.ScopeItem for s in cam.devicemgmt.GetScopes()]
    wsd = [device.render(str(s)) for s in device.profile.services["wsd"]["scopes"]]
    assert scopes == wsd
    media = cam.create_media_service()
    assert media.GetProfiles()[0].token


NODE_DIR = Path(__file__).with_name("node")


@pytest.mark.parametrize("pid", ONVIF_PROFILES)
def test_node_onvif_connects_and_reads_the_stream_uri(all_site, pid):
    """The npm `onvif` package (install: npm install --prefix tests/lab/node)."""
    if shutil.which("node") is None or not (NODE_DIR / "node_modules" / "onvif").is_dir():
        pytest.skip(
            "node and tests/lab/node/node_modules (npm install --prefix tests/lab/node) needed"
        )
    device = all_site.device(pid)
    assert device.profile.onvif is not None
    port = device.port(int(device.profile.onvif.get("port", 80)))
    user, password = all_site.credentials
    done = subprocess.run(
        ["node", str(NODE_DIR / "onvif_client.js"), device.address, str(port), user, password],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    got = json.loads(done.stdout)
    assert got["model"] == device.profile.model
    assert got["mediaService"] and got["profiles"] == 1 and got["videoSources"] == 1
    assert got["uri"].startswith(f"rtsp://{device.address}")
