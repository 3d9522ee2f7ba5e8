"""The open vendor world: the vendor registry, the IEEE MAC registry, declared makers, mDNS."""

from __future__ import annotations

import inspect
import re
import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import quote
from xml.sax.saxutils import escape

import pytest

from auditor.errors import DataFileError
from auditor.identify import Identifier, load_data
from auditor.identify.coverage import CHANNEL_EMITS, PROBE_EMITS, emitted, unread
from auditor.identify.extract import EVIDENCE_ONLY, extract
from auditor.identify.ieee import IeeeDataError, folder_as_of, parse_csv, write_registry
from auditor.identify.reference import parse_oui
from auditor.identify.vendors import name_key
from auditor.models import DeviceType, Observation, ObservationKind
from auditor.resources import fingerprints_dir

IDENT = Identifier.default()
REG = IDENT.vendor_registry
WHEN = datetime(2026, 1, 1, tzinfo=UTC)


def obs(kind: str, value: str, source: str = "test") -> Observation:
    return Observation(ObservationKind(kind), value, source, WHEN)


# -- names --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("Zhejiang Dahua Technology Co., Ltd.", "Dahua"),
        ("ZHEJIANG DAHUA TECHNOLOGYCO.,LTD", "Dahua"),
        ("Hangzhou Hikvision Digital Technology Co.,Ltd.", "Hikvision"),
        ("HIKVISION", "Hikvision"),
        ("Axis Communications AB", "Axis"),
        ("Samsung Techwin", "Hanwha"),
        ("Hanwha Techwin", "Hanwha"),
        ("Hanwha Vision", "Hanwha"),
        ("Merit LILIN", "LILIN"),
        ("Teledyne FLIR", "FLIR"),
        ("TP-LINK TECHNOLOGIES CO.,LTD.", "TP-Link"),
        ("Bosch Security Systems", "Bosch"),
        ("Honeywell Building Solutions", "Honeywell"),
    ],
)
def test_registry_names_one_maker_however_written(name: str, canonical: str) -> None:
    hit = REG.resolve(name)
    assert hit is not None and hit.canonical == canonical


def test_name_key_ignores_forms_cities_and_punctuation() -> None:
    assert name_key("Shenzhen Reecam Tech. Ltd.") == name_key("REECAM")
    assert name_key("D-Link") == name_key("DLINK") != name_key("Digital Watchdog")


@pytest.mark.parametrize(
    "text", ["IPCAM", "Generic", "ONVIF", "Network Camera", "H264", "IPC", "DS-2CD2143G2-I", "NONE"]
)
def test_placeholders_are_no_makers(text: str) -> None:
    assert REG.is_placeholder(text)
    ident = IDENT.identify([obs("onvif.scopes", f"onvif://www.onvif.org/manufacturer/{text}")])
    assert ident.manufacturer is None and ident.brand is None


def test_firmware_declared_as_maker_is_a_brand_not_a_maker() -> None:
    # OpenWrt (https://openwrt.org) is a Linux distribution; miniupnpd on it declares it.
    xml = "<root><device><manufacturer>OpenWrt</manufacturer></device></root>"
    ident = IDENT.identify([obs("upnp.description", xml)])
    assert (ident.manufacturer, ident.brand) == (None, "OpenWrt")
    assert any("is firmware, no maker" in r for r in ident.rationale)


TAILSCALE_UPNP = (
    "tailscale/tailscale@de9ec7ee25627e0e518f53c710a3fc3d947c86c1:net/portmapper/upnp_test.go"
)


@pytest.mark.parametrize(
    ("declared", "source"),
    [("FreeBSD", TAILSCALE_UPNP), ("MiniUPnP", TAILSCALE_UPNP)],
)
def test_an_os_or_upnp_daemon_declared_as_maker_is_no_maker(declared: str, source: str) -> None:
    # A pfSense router (FreeBSD) and miniupnpd's own sub-devices put these in <manufacturer>.
    xml = f"<root><device><manufacturer>{declared}</manufacturer></device></root>"
    ident = IDENT.identify([obs("upnp.description", xml)])
    assert (ident.manufacturer, ident.brand) == (None, declared) and source


def test_a_tiandy_model_in_the_hardware_scope_names_tiandy() -> None:
    scopes = "onvif://www.onvif.org/hardware/TC-C32GN onvif://www.onvif.org/name/Gate"
    ident = IDENT.identify([obs("onvif.scopes", scopes)])
    assert (ident.manufacturer, ident.brand, ident.model) == ("Tiandy", "Tiandy", "TC-C32GN")


def test_a_maker_nobody_knows_is_reported_as_declared() -> None:
    # A real UPnP manufacturer (Home Assistant's SSDP matchers) that no registry lists.
    xml = "<root><device><manufacturer>The OctoPrint Project</manufacturer></device></root>"
    ident = IDENT.identify([obs("upnp.description", xml)])
    assert ident.manufacturer == "The OctoPrint Project"
    assert any("reported as declared" in r for r in ident.rationale)


# -- real self-declared makers, each from a public source ----------------------------------------
HA_SSDP = (
    "sebastian-software/ha-lite@6481d6fe852332b37d735200609e16cb5bc6a73b:"
    "homeassistant/generated/ssdp.py"
)
HA_SSDP_OLD = (
    "home-assistant/core@3dc866092dc953e81f8e3327387fc8930e0885fe:homeassistant/generated/ssdp.py"
)
RECOG_DHCP = "rapid7/recog:xml/dhcp_vendor_class.xml"
AXIS_JS = (
    "FantasticFiasco/axis-js@189d2a47404570665be7f84fe9f1c972cfc8a970:"
    "packages/axis-discovery-ssdp/test/root-descriptions/RootDescription.mock.ts"
)
#: (UPnP <manufacturer> as devices send it, the maker a reader expects, source)
DECLARED_UPNP: list[tuple[str, str, str]] = [
    ("ARCAM", "ARCAM", HA_SSDP),
    ("AXIS", "Axis", HA_SSDP),
    ("Sony Corporation", "Sony", HA_SSDP),
    ("Royal Philips Electronics", "Royal Philips", HA_SSDP),
    ("Denon", "Denon", HA_SSDP),
    ("DENON", "Denon", HA_SSDP),
    ("DENON PROFESSIONAL", "DENON PROFESSIONAL", HA_SSDP),
    ("Marantz", "Marantz", HA_SSDP),
    ("DIRECTV", "DIRECTV", HA_SSDP),
    ("Harman Luxury Audio", "Harman Luxury Audio", HA_SSDP),
    ("Logitech", "Logitech", HA_SSDP),
    ("Hegel", "Hegel", HA_SSDP),
    ("Huawei", "Huawei", HA_SSDP),
    ("Huawei Technologies Co., Ltd.", "Huawei", HA_SSDP),
    ("SOYEA TECHNOLOGY CO., LTD.", "SOYEA", HA_SSDP),
    ("IMEON", "IMEON", HA_SSDP),
    ("Universal Devices Inc.", "Universal Devices", HA_SSDP),
    ("Kaleidescape, Inc.", "Kaleidescape", HA_SSDP),
    ("Keenetic Ltd.", "Keenetic", HA_SSDP),
    ("ZyXEL Communications Corp.", "ZyXEL", HA_SSDP),
    ("Lyngdorf", "Lyngdorf", HA_SSDP),
    ("NETGEAR, Inc.", "Netgear", HA_SSDP),
    ("ONKYO", "ONKYO", HA_SSDP),
    ("Onkyo & Pioneer Corporation", "Onkyo & Pioneer", HA_SSDP),
    ("Pioneer", "Pioneer", HA_SSDP),
    ("Roku", "Roku", HA_SSDP),
    ("Samsung", "Samsung", HA_SSDP),
    ("Samsung Electronics", "Samsung", HA_SSDP),
    ("Ubiquiti Networks", "Ubiquiti", HA_SSDP),
    ("Belkin International Inc.", "Belkin", HA_SSDP),
    ("All Automacao Ltda", "All Automacao", HA_SSDP),
    ("Microsoft Corporation", "Microsoft", HA_SSDP),
    ("Yamaha Corporation", "Yamaha", HA_SSDP),
    ("Synology", "Synology", HA_SSDP_OLD),
    ("Signify", "Signify", HA_SSDP_OLD),
    ("AXIS", "Axis", AXIS_JS),
]
#: (DHCP vendor class, maker, source)
DECLARED_DHCP: list[tuple[str, str, str]] = [
    ("Mfg=Xerox;Typ=MFP;Mod=VersaLink C405;Ser=ABC123456;Loc=Print Room", "Xerox", RECOG_DHCP),
    ("Mfg=XEROX;Typ=MFP;Mod=WorkCentre 3345;Ser=1AB234567;Loc=", "Xerox", RECOG_DHCP),
    (
        "Mfg=Hewlett Packard;Typ=Printer;Mod=HP LaserJet 400 M401dne;Ser=ABCDE12345;",
        "HP",
        RECOG_DHCP,
    ),
    ("Mfg=LEXMARK;Typ=MFP;Mod=Lexmark MX410de;Ser=12345ABC6D7EF;", "Lexmark", RECOG_DHCP),
    ("Mfg=DELL;Typ=Printer;Mod=Dell B2360dn Laser Printer;Ser=ABCDEF1;", "Dell", RECOG_DHCP),
    ("Mfg=Dell;Typ=printer;Mod=Dell Color Printer S3840cdn;Ser=123456", "Dell", RECOG_DHCP),
    ("Mfg=FujiXerox;Typ=printer;Mod=Phaser 6500DN;Ser=ABC123456", "Xerox", RECOG_DHCP),
    (
        "mfg=Xerox;typ=MFP;mod=Xerox AltaLink B8045 MFP;ser=A1B234567;loc=Print Room 3",
        "Xerox",
        RECOG_DHCP,
    ),
]

RECOG_DHCP_PINNED = (
    "rapid7/recog@14fa1a7211e7fb5707c7a1b421a07d6c2cf4eec5:xml/dhcp_vendor_class.xml"
)
#: (DHCP vendor class of a video device, maker, source)
DECLARED_DHCP_VIDEO: list[tuple[str, str, str]] = [
    ("AXIS,Network Camera,P3343,5.20.3", "Axis", RECOG_DHCP_PINNED),
    ("AXIS,Network Video Encoder,M7011,5.90.1", "Axis", RECOG_DHCP_PINNED),
]


@pytest.mark.parametrize(("declared", "maker", "source"), DECLARED_DHCP_VIDEO)
def test_dhcp_declared_camera_maker_is_named(declared: str, maker: str, source: str) -> None:
    ident = IDENT.identify([obs("dhcp.vendor_class", declared)])
    assert ident.manufacturer == maker and source, ident.rationale
    assert ident.device_type.is_video


NMAP = "nmap/nmap:nmap-service-probes (nmap 7.93, $Id 38429 2022-08-30) lines 11569, 11663, 11666"
DECLARED_UPNP += [
    ("ZTE", "ZTE", NMAP),
    ("Wistron", "Wistron", NMAP),
    ("LG Electronics", "LG Electronics", NMAP),
    ("Hyperion Open Source Ambient Lighting", "Hyperion Open Source Ambient Lighting", HA_SSDP),
    ("konnected.io", "konnected.io", HA_SSDP_OLD),
]
# Real device descriptions kept as test data or quoted as observed renderer details by other
# projects (each file holds the exact <manufacturer> text a device sent).
UMS = (
    "UniversalMediaServer/UniversalMediaServer@ed2f2f8053da3d44d4ec32ef53464ded0194753c:"
    "src/main/external-resources/renderers/"
)
LIBTORRENT = "arvidn/libtorrent@8ece65c2e3ec35830abe80a0b735faf0844d9b82:test/test_xml.cpp"
MINIUPNP = (
    "miniupnp/miniupnp@b91c025446d3ec3d9161cd56c91e200484af7906:"
    "miniupnpc/testdesc/new_LiveBox_desc.xml"
)
AIOUPNP = "lbryio/aioupnp@e6d5c86efbe7f06c83f3b71886812ac9b6b4e71a:"
FRITZ = "kbr/fritzconnection@896894c56a832242e15587f0e990012273636c3a:fritzconnection/tests/xml/"
JELLYFIN = (
    "jellyfin/jellyfin-plugin-dlna@deab450fac5d260703db6e0d2809d2ae8e07658b:"
    "src/Jellyfin.Plugin.Dlna/Profiles/Xml/Dish Hopper-Joey.xml"
)
SOCO = "SoCo/SoCo@1ed4fdcced6b15a575d7557524007656c61e4cb8:tests/test_core.py"
DECLARED_UPNP += [
    ("Philips", "Philips", UMS + "Philips-AndroidTV.conf"),
    # A Panasonic VIERA TV: Panasonic makes it; i-PRO makes only Panasonic security cameras.
    ("Panasonic", "Panasonic", UMS + "Panasonic-VieraE6.conf"),
    ("PIONEER CORPORATION", "Pioneer", UMS + "Pioneer-BDP.conf"),
    ("Linkplay Technology Inc.", "Linkplay", UMS + "Linkplay-WiiM.conf"),
    (
        "Cabot Communications Ltd",
        "Cabot Communications",
        UMS + "Bush-FreeviewHighDefinitionDigitalSetTopBox.conf",
    ),
    ("D-Link", "D-Link", LIBTORRENT),
    ("LINKSYS", "Linksys", LIBTORRENT),
    ("Sagemcom", "Sagemcom", MINIUPNP),
    ("Actiontec", "Actiontec", AIOUPNP + "tests/replays/Actiontec GT784WN"),
    ("Cisco", "Cisco", AIOUPNP + "tests/protocols/test_scpd.py"),
    ("D-Link Corporation", "D-Link", AIOUPNP + "tests/test_gateway.py"),
    ("NETGEAR", "Netgear", AIOUPNP + "tests/test_gateway.py"),
    ("AVM", "AVM", FRITZ + "tr64desc.xml"),
    ("AVM Berlin", "AVM", FRITZ + "igddesc.xml"),
    ("Echostar Technologies LLC", "EchoStar", JELLYFIN),
    ("Sonos, Inc.", "Sonos", SOCO),
    ("Google", "Google", TAILSCALE_UPNP),  # Google Wifi (OnHub)
    ("MikroTik", "MikroTik", TAILSCALE_UPNP),
    (  # a Naim Mu-so Qb's UPnP details as the renderer test feeds them
        "Naim Audio Ltd.",
        "Naim Audio",
        "UniversalMediaServer/UniversalMediaServer@ed2f2f8053da3d44d4ec32ef53464ded0194753c:"
        "src/test/java/net/pms/configuration/RendererConfigurationTest.java",
    ),
    (  # the root device of ASUS routers' miniupnpd
        "ASUSTeK Computer Inc.",
        "ASUS",
        "RMerl/asuswrt-merlin@be6be85e9ec2a4e1c74cd4ac47b2004aa2854cd5:"
        "release/src/router/miniupnpd/upnpdescstrings.h",
    ),
    (  # the RT-N56U firmware's media server
        "ASUSTeK",
        "ASUS",
        "rrelmy/asus-rt-n56u-firmware@1484d8ae18eedae3aee19d8f4a3cd8e2760efdca:"
        "user/minidlna/upnpdescstrings.h",
    ),
    (  # the UPnP description a HomeMatic CCU (RaspberryMatic firmware) serves
        "EQ3",
        "eQ-3",
        "jens-maus/RaspberryMatic@dc6f0a4e669cff270b5a62d95c6988c6d29f3f47:"
        "buildroot-external/package/recovery-system/external/overlay/www/upnp/basic_dev.cgi",
    ),
]
#: (ONVIF Manufacturer or manufacturer/ scope as cameras send it, maker, source)
DECLARED_ONVIF: list[tuple[str, str, str]] = [
    ("FLIR Systems", "FLIR", "https://github.com/vicmaeg/onvif-discovery/issues/17 (scope)"),
    ("DVTel", "DVTel", "https://github.com/vicmaeg/onvif-discovery/issues/17 (scope)"),
    ("Milesight Technology Co.,Ltd.", "Milesight", "https://github.com/evercam/ex_nvr/issues/272"),
    ("Hikvision", "Hikvision", "https://github.com/evercam/ex_nvr/issues/272"),
    ("AXIS", "Axis", "https://github.com/evercam/ex_nvr/issues/272"),
    ("HIKVISION", "Hikvision", "https://github.com/evercam/evercam-server/issues/10"),
    ("EYEPLUS", "EYEPLUS", "https://github.com/home-assistant/core/issues/63399"),
    (  # a Tapo C200's GetDeviceInformation (firmware 1.1.16 Build 211209)
        "TP-Link",
        "TP-Link",
        "edgexfoundry/device-onvif-camera@3bef71a458050caad0e348ab590f9730d3645923:"
        "doc/openapi/v3/device-onvif-camera.yaml",
    ),
    (  # a Canon VB-S30D's GetDeviceInformation
        "Canon",
        "Canon",
        "futomi/node-onvif@d41e34e9a7d031f5c2d06a048d85e5bef5361e0c:README.md",
    ),
    (  # a Vstarcam (model "Hi3518eV100") GetDeviceInformation
        "Vstarcam",
        "Vstarcam",
        "futomi/node-onvif@d41e34e9a7d031f5c2d06a048d85e5bef5361e0c:README.md",
    ),
    (  # a raw capture from an EZVIZ CS-H8c; EZVIZ is Hikvision's brand (brands.yaml)
        "EZVIZ",
        "Hikvision",
        "nirsimetri/onvif-python@0c417c7ccc66b5105b7606b099149bfe1d6b5be6:"
        "assets/raw/GetDeviceInformation.xml",
    ),
]
#: (mDNS TXT property, maker, source)
HA_ZEROCONF = (
    "sebastian-software/ha-lite@6481d6fe852332b37d735200609e16cb5bc6a73b:"
    "homeassistant/generated/zeroconf.py"
)
DECLARED_MDNS: list[tuple[str, str, str, str]] = [
    (
        "manufacturer",
        "lunatone industrielle elektronik gmbh",
        "lunatone industrielle elektronik",
        HA_ZEROCONF,
    ),
    ("manufacturer", "nettigo", "nettigo", HA_ZEROCONF),
    ("vendor", "tailwind", "tailwind", HA_ZEROCONF),
]


@pytest.mark.parametrize(("declared", "maker", "source"), DECLARED_ONVIF)
def test_onvif_declared_maker_is_named(declared: str, maker: str, source: str) -> None:
    xml = (
        "<Envelope><Body><GetDeviceInformationResponse>"
        f"<Manufacturer>{escape(declared)}</Manufacturer>"
        "</GetDeviceInformationResponse></Body></Envelope>"
    )
    scope = f"onvif://www.onvif.org/manufacturer/{quote(declared)}"
    for ident in (
        IDENT.identify([obs("onvif.device_information", xml)]),
        IDENT.identify([obs("onvif.scopes", scope)]),
    ):
        assert ident.manufacturer is not None and source
        assert name_key(ident.manufacturer) == name_key(maker), ident.rationale


@pytest.mark.parametrize(("key", "declared", "maker", "source"), DECLARED_MDNS)
def test_mdns_declared_maker_is_named(key: str, declared: str, maker: str, source: str) -> None:
    text = f"TXT device._http._tcp.local {key}={declared.replace(' ', '_')}"
    ident = IDENT.identify([obs("mdns.service", text)])
    assert ident.manufacturer is not None and source
    assert name_key(ident.manufacturer.replace("_", " ")) == name_key(maker), ident.rationale


def test_at_least_80_real_declared_makers_are_covered() -> None:
    # Distinct strings as devices sent them (the same text from two sources counts once).
    declared = {
        d for d, _m, _s in DECLARED_UPNP + DECLARED_DHCP + DECLARED_DHCP_VIDEO + DECLARED_ONVIF
    }
    declared |= {d for _k, d, _m, _s in DECLARED_MDNS}
    assert len(declared) >= 85


@pytest.mark.parametrize(("declared", "maker", "source"), DECLARED_UPNP)
def test_upnp_declared_maker_is_named(declared: str, maker: str, source: str) -> None:
    xml = f"<root><device><manufacturer>{escape(declared)}</manufacturer></device></root>"
    ident = IDENT.identify([obs("upnp.description", xml)])
    assert ident.manufacturer is not None and source
    assert name_key(ident.manufacturer) == name_key(maker), ident.rationale
    assert ident.brand  # the brand is always reported


@pytest.mark.parametrize(("declared", "maker", "source"), DECLARED_DHCP)
def test_dhcp_declared_maker_is_named(declared: str, maker: str, source: str) -> None:
    ident = IDENT.identify([obs("dhcp.vendor_class", declared)])
    assert ident.manufacturer is not None and source
    assert name_key(ident.manufacturer) == name_key(maker), ident.rationale
    # Named as what it is, never as a camera.
    assert ident.device_type is DeviceType.PRINTER


RECOG_PINNED = "rapid7/recog@14fa1a7211e7fb5707c7a1b421a07d6c2cf4eec5:xml/"


def test_panasonic_is_i_pro_only_for_a_security_camera() -> None:
    # A VIERA E6 TV's UPnP details (UMS renderer profile Panasonic-VieraE6.conf): Panasonic.
    tv = (
        "<root><device><friendlyName>VIERA E6 Series</friendlyName>"
        "<manufacturer>Panasonic</manufacturer><modelName>Panasonic VIErA</modelName>"
        "<modelNumber>E6</modelNumber></device></root>"
    )
    ident = IDENT.identify([obs("upnp.description", tv)])
    assert (ident.manufacturer, ident.brand, ident.oem_relabel) == (
        "Panasonic",
        "Panasonic",
        False,
    ), ident.rationale
    # The same declaration beside camera evidence (Recog html_title.xml: "WV-NS202A Network
    # Camera", a Panasonic-branded security camera) is i-PRO's.
    camera = [
        obs(
            "upnp.description",
            "<root><device><manufacturer>Panasonic</manufacturer></device></root>",
        ),
        obs("http.title", "WV-NS202A Network Camera"),
    ]
    ident = IDENT.identify(camera)
    assert (ident.manufacturer, ident.brand) == ("i-PRO", "Panasonic"), ident.rationale
    assert ident.device_type.is_video
    # i-PRO presented as itself (its IEEE registrant is "i-PRO Co., Ltd.") is brand i-PRO.
    ident = IDENT.identify([obs("upnp.description", escape_upnp("i-PRO"))])
    assert (ident.manufacturer, ident.brand) == ("i-PRO", "i-PRO"), ident.rationale


def escape_upnp(maker: str) -> str:
    return f"<root><device><manufacturer>{escape(maker)}</manufacturer></device></root>"


def onvif_info(maker: str) -> str:
    return (
        "<Envelope><Body><GetDeviceInformationResponse>"
        f"<Manufacturer>{escape(maker)}</Manufacturer>"
        "</GetDeviceInformationResponse></Body></Envelope>"
    )


@pytest.mark.parametrize(
    ("declared", "shown", "source", "banner", "platform"),
    [
        # The makers' names as Recog labels their devices; a wire capture of these exact
        # declarations was not found (unverified), the names themselves are.
        (
            "Honeywell",
            "Honeywell",
            RECOG_PINNED + "ftp_banners.xml (hw.vendor Honeywell)",
            None,
            None,
        ),
        # Beside it, Hikvision's web server banner (Recog http_servers.xml "DNVRS-Webs").
        (
            "ANNKE",
            "Annke",
            RECOG_PINNED + "http_servers.xml (hw.vendor ANNKE, 'MWS 0.01')",
            "DNVRS-Webs",
            "Hikvision",
        ),
    ],
)
def test_declared_maker_of_a_weak_brand_row_is_reported_as_declared(
    declared: str, shown: str, source: str, banner: str | None, platform: str | None
) -> None:
    # brands.yaml knows these rows only with low confidence (ANNKE -> Hikvision, uncertain):
    # the row alone cannot name the maker, so the declaration is reported, never dropped.
    for ident in (
        IDENT.identify([obs("onvif.device_information", onvif_info(declared))]),
        IDENT.identify([obs("upnp.description", escape_upnp(declared))]),
    ):
        assert (ident.manufacturer, ident.brand) == (shown, shown), ident.rationale
        assert any("as declared" in r for r in ident.rationale) and source
    if banner is not None:
        # Platform evidence still decides over the declaration.
        ident = IDENT.identify(
            [obs("onvif.device_information", onvif_info(declared)), obs("http.server", banner)]
        )
        assert (ident.manufacturer, ident.brand, ident.oem_relabel) == (platform, shown, True)


@pytest.mark.parametrize(
    ("declared", "maker", "brand"),
    [
        # Brand names as Recog (http_wwwauth.xml "Lorex NR900 Series DVR"), the existing
        # GetDeviceInformation test (Intelbras) and the IEEE registry ("i-PRO Co., Ltd.") give them.
        ("Lorex", "Dahua", "Lorex"),
        ("Intelbras", "Dahua", "Intelbras"),
        ("i-PRO", "i-PRO", "i-PRO"),
    ],
)
def test_onvif_manufacturer_scope_names_a_relabel_maker_like_device_information(
    declared: str, maker: str, brand: str
) -> None:
    # The manufacturer/ scope is set by the vendor's firmware, like GetDeviceInformation's
    # Manufacturer: both name the maker behind a brand the brand table maps.
    scope = f"onvif://www.onvif.org/manufacturer/{quote(declared)}"
    for ident in (
        IDENT.identify([obs("onvif.device_information", onvif_info(declared))]),
        IDENT.identify([obs("onvif.scopes", scope)]),
    ):
        assert (ident.manufacturer, ident.brand) == (maker, brand), ident.rationale
    # name/ is the installer's label: never a maker, whatever it says.
    ident = IDENT.identify([obs("onvif.scopes", f"onvif://www.onvif.org/name/{declared}")])
    assert ident.manufacturer is None


def test_onvif_manufacturer_of_a_relabel_names_the_true_maker() -> None:
    xml = (
        "<Envelope><Body><GetDeviceInformationResponse><Manufacturer>Intelbras</Manufacturer>"
        "<Model>VIP 1230 B</Model></GetDeviceInformationResponse></Body></Envelope>"
    )
    ident = IDENT.identify([obs("onvif.device_information", xml)])
    assert (ident.manufacturer, ident.brand, ident.oem_relabel) == ("Dahua", "Intelbras", True)


# -- ONVIF scopes and mDNS read by the standard ---------------------------------------------------
def test_onvif_hardware_is_the_model_and_name_is_never_a_brand() -> None:
    scopes = (
        "onvif://www.onvif.org/hardware/XNV-8080R onvif://www.onvif.org/name/TC-C32GN "
        "onvif://www.onvif.org/location/country/korea onvif://www.onvif.org/type/video_encoder"
    )
    ident = IDENT.identify([obs("onvif.scopes", scopes)])
    assert ident.model == "XNV-8080R"
    assert ident.brand is None and ident.manufacturer is None
    assert ident.device_type is DeviceType.CAMERA
    assert extract(ObservationKind.ONVIF_SCOPES, scopes)["location"] == "country/korea"


def test_mdns_axis_instance_gives_maker_type_model_and_mac() -> None:
    text = (
        "PTR _axis-video._tcp.local AXIS M3045-V - ACCC8E123456._axis-video._tcp.local\n"
        "TXT AXIS M3045-V - ACCC8E123456._axis-video._tcp.local macaddress=ACCC8E123456"
    )
    ident = IDENT.identify([obs("mdns.service", text)])
    assert (ident.manufacturer, ident.brand, ident.model) == ("Axis", "Axis", "M3045-V")
    assert ident.device_type is DeviceType.IP_CAMERA
    assert any(("hw.mac", "ACCC8E123456") in link.asserts for link in ident.evidence)


def test_axis_parameters_as_the_probe_sends_them_are_read() -> None:
    text = (
        "root.Brand.Brand=AXIS\nroot.Brand.ProdNbr=P1375\nroot.Properties.Firmware.Version=10.12.1"
    )
    ident = IDENT.identify([obs("axis.device_info", text)])
    assert not any("could not be parsed" in r for r in ident.rationale)
    assert (ident.manufacturer, ident.model, ident.firmware) == ("Axis", "P1375", "10.12.1")


def test_type_only_evidence_says_camera_maker_unknown() -> None:
    ident = IDENT.identify([obs("onvif.scopes", "onvif://www.onvif.org/type/video_encoder")])
    assert ident.manufacturer is None and ident.device_type.is_video
    assert any("maker unknown" in r for r in ident.rationale)


# -- the MAC registry -----------------------------------------------------------------------------
def test_mac_registry_holds_every_ieee_assignment_with_its_date() -> None:
    oui = IDENT.data.oui
    assert len(oui.entries) > 50_000
    assert date.fromisoformat(oui.as_of)
    assert any("standards-oui.ieee.org" in s for s in oui.sources.values())
    lengths = {len(p) for p in oui.entries}
    assert lengths == {6, 7, 9}


@pytest.mark.parametrize(
    "maker",
    [
        "Intelbras", "Honeywell", "2N", "Edimax", "Wyze", "TRENDnet", "Verint", "Genetec",
        "FLIR", "CP Plus", "Provision-ISR", "Hikvision", "Dahua", "Axis", "Hanwha", "Uniview",
        "Vivotek", "Mobotix", "Milesight", "GeoVision", "AVTECH", "IDIS", "ACTi", "Verkada",
        "Digital Watchdog", "Speco", "Vicon", "Swann", "Reolink", "Dallmeier", "Geutebrück",
        "EverFocus", "Tiandy", "Sunell", "TVT", "Raysharp", "Jovision", "Arecont Vision",
        "Rhombus", "Eagle Eye Networks", "Zavio", "Lorex", "Amcrest", "EZVIZ", "Imou",
    ],
)  # fmt: skip
def test_every_surveillance_maker_with_prefixes_resolves(maker: str) -> None:
    hits = [
        p
        for p, registrant, _src in IDENT.data.oui.rows()
        if REG.resolve_registrant(registrant).canonical == maker
    ]
    assert hits, f"no IEEE prefix resolves to {maker}"


def test_mac_false_friends_stay_apart() -> None:
    # "Shanghai Dahua Scale Factory" is a scale maker; VMware and Apple are not Xiongmai.
    for mac in ("40:2c:76:10:00:00", "00:50:56:00:00:01", "f0:18:98:00:00:01", "c0:56:27:00:00:01"):
        ident = IDENT.identify([obs("mac", mac)])
        named = {v for link in ident.evidence for k, v in link.asserts if k == "hw.vendor"}
        assert not named & {"Dahua", "Hikvision", "Xiongmai"}, (mac, named)


def test_longest_prefix_wins() -> None:
    # 8C:1F:64 is the IEEE's MA-S parent block; 8C:1F:64:F4:B is one company's MA-S block.
    entry = IDENT.data.oui.lookup("8c:1f:64:f4:b0:01")
    assert entry is not None and len(entry.prefix) == 9


def test_the_wire_mac_outweighs_a_claimed_one() -> None:
    ident = IDENT.identify(
        [obs("mac", "44:19:b6:01:02:03"), obs("mac.claimed", "00:40:8c:01:02:03")]
    )
    assert ident.manufacturer == "Hikvision"
    assert any("differs from the MAC seen on the wire" in r for r in ident.rationale)


# -- the IEEE files -------------------------------------------------------------------------------
#: Real rows of the IEEE registry CSVs (https://standards-oui.ieee.org/...), as Debian ships them.
MAL = (
    "Registry,Assignment,Organization Name,Organization Address\n"
    'MA-L,58108C,Intelbras,"BR 101, km 210, S/N° São José Santa Catarina BR 88104800 "\n'
    "MA-L,A0E025,Provision-ISR,Atir Yeda 11 Kfar Saba  IL 4464310 \n"
)
MAM = (
    "Registry,Assignment,Organization Name,Organization Address\n"
    "MA-M,74F8DB5,Provision-ISR,11 Atir Yeda St. Kfar Saba Israel IL 4464310 \n"
)
MAS = (
    "Registry,Assignment,Organization Name,Organization Address\n"
    'MA-S,8C1F64AFA,"DATA ELECTRONIC DEVICES, INC",32 NORTHWESTERN DR SALEM NH US 03079 \n'
)
IAB = (
    "Registry,Assignment,Organization Name,Organization Address\n"
    "IAB,0050C27D5,DEUTA-WERKE GmbH,Paffrather Strasse 140 Bergisch-Gladbach NRW DE 51465 \n"
)


def test_ieee_files_become_a_dated_registry(tmp_path: Path) -> None:
    for name, text in (("oui.csv", MAL), ("mam.csv", MAM), ("oui36.csv", MAS), ("iab.csv", IAB)):
        (tmp_path / name).write_text(text, encoding="utf-8")
    out = tmp_path / "oui.tsv"
    assert write_registry(tmp_path, out, date(2024, 7, 22)) == 5
    table = parse_oui(out.read_text(encoding="utf-8"))
    assert table.as_of == "2024-07-22"
    hit = table.lookup("74:f8:db:50:00:01")
    assert hit is not None and (hit.prefix, hit.registrant) == ("74F8DB5", "Provision-ISR")
    hit = table.lookup("8c:1f:64:af:a0:01")
    assert hit is not None and hit.registrant == "DATA ELECTRONIC DEVICES, INC"
    assert any("https://standards-oui.ieee.org/oui/oui.csv" in s for s in table.sources.values())


def test_the_debian_fetch_date_is_read(tmp_path: Path) -> None:
    assert folder_as_of(tmp_path) is None
    (tmp_path / ".lastupdate").write_text("1721654721\n", encoding="ascii")
    assert folder_as_of(tmp_path) == date(2024, 7, 22)


def test_a_file_that_is_not_the_registry_is_refused(tmp_path: Path) -> None:
    with pytest.raises(IeeeDataError):
        parse_csv("Assignment,Name\n58108C,Intelbras\n", "ieee-mal")
    with pytest.raises(IeeeDataError):
        write_registry(tmp_path, tmp_path / "oui.tsv", date(2024, 7, 22))
    assert not (tmp_path / "oui.tsv").exists()


# -- nothing collected is wasted ------------------------------------------------------------------
def _kinds_in_source(obj: object) -> set[ObservationKind]:
    text = inspect.getsource(obj)  # type: ignore[arg-type]
    found = {ObservationKind[m] for m in re.findall(r"ObservationKind\.([A-Z0-9_]+)", text)}
    kind = getattr(obj, "kind", None)
    if isinstance(kind, ObservationKind):
        found.add(kind)
    return found


def test_every_probe_and_channel_declares_what_it_emits() -> None:
    from auditor.discovery import CHANNELS, imports
    from auditor.probes import PROBES

    assert set(PROBES) == set(PROBE_EMITS), "declare each probe in auditor/identify/coverage.py"
    for name, cls in PROBES.items():
        assert _kinds_in_source(cls) <= PROBE_EMITS[name], name
    assert set(CHANNELS) <= set(CHANNEL_EMITS)
    for channel, ch in CHANNELS.items():
        assert _kinds_in_source(ch) <= CHANNEL_EMITS[channel], channel
    # nmap's channel parses with nmap_xml; the imports share it.
    from auditor.discovery import nmap_xml

    assert _kinds_in_source(nmap_xml._host) <= CHANNEL_EMITS["nmap"]
    assert _kinds_in_source(imports._row_host) <= CHANNEL_EMITS["import-csv"]


def test_every_emitted_kind_is_read_or_marked_evidence_only() -> None:
    missing = {k.value for k in unread(emitted(), IDENT.data.db.files)}
    assert not missing, missing
    assert not set(EVIDENCE_ONLY) & set(IDENT.data.db.files), "evidence-only kinds have no file"


# -- shared SDK strings ---------------------------------------------------------------------------
def test_a_shared_sdk_string_never_names_a_maker_alone(tmp_path: Path) -> None:
    # The IMKH media header is Hikvision's stream header, but Anjvision-made SV3C and Anpviz
    # cameras send it too (issue 12): marked shared, it supports a maker and never names one.
    root = tmp_path / "fp"
    shutil.copytree(
        Path(str(fingerprints_dir())), root, ignore=shutil.ignore_patterns("regulatory")
    )
    sdp = root / "rtsp_sdp.yaml"
    text = sdp.read_text(encoding="utf-8")
    # Marked shared, and as strong as a maker-naming string (0.75), it still names no maker.
    start = text.index("- id: hikvision-sdp-imkh\n")
    end = text.index("\n- id:", start + 1)
    block = re.sub(r"(?m)^  weight: [0-9.]+$", "  weight: 0.75", text[start:end])
    block = block.replace(
        "- id: hikvision-sdp-imkh\n", "- id: hikvision-sdp-imkh\n  shared: true\n"
    )
    marked = text[:start] + block + text[end:]
    assert "shared: true" in marked and "weight: 0.75" in block
    sdp.write_text(marked, encoding="utf-8")
    ident = Identifier(load_data(root))
    header = "a=Media_header:MEDIAINFO=494D4B48010100000400010010710110401F000000FA00000000000000"
    alone = ident.identify([obs("rtsp.sdp", header)])
    assert alone.manufacturer is None and alone.device_type.is_video
    assert any("never decide a maker alone" in r for r in alone.rationale)
    backed = ident.identify([obs("rtsp.sdp", header), obs("http.server", "DNVRS-Webs")])
    assert backed.manufacturer == "Hikvision"


def test_an_odm_mac_never_names_a_maker_alone() -> None:
    # Espressif Wi-Fi modules sit in many brands' cameras.
    ident = IDENT.identify([obs("mac", "24:0a:c4:00:00:01")])
    assert ident.manufacturer is None
    assert all(link.weight < 0.5 for link in ident.evidence)


def test_a_broken_registry_row_is_a_clear_error(tmp_path: Path) -> None:
    text = (
        "# as_of: 2024-07-22\n#   ieee-mal = IEEE MA-L registry, https://standards-oui.ieee.org/oui/oui.csv\n"
        "58108C\tIntelbras\tieee-mal\n58108D\tno source column\n"
    )
    table = parse_oui(text)
    assert table.lookup("58:10:8c:00:00:01") is not None
    with pytest.raises(DataFileError, match=r"oui/oui.tsv: row '58108D': expected prefix"):
        table.lookup("58:10:8d:00:00:01")
    with pytest.raises(DataFileError, match="58108D"):
        table.check()


def test_a_payload_mac_the_wire_denies_is_noted() -> None:
    text = (
        "PTR _axis-video._tcp.local AXIS M1014 - ACCC8E270AD8._axis-video._tcp.local\n"
        "TXT AXIS M1014 - ACCC8E270AD8._axis-video._tcp.local macaddress=ACCC8E270AD8"
    )
    ident = IDENT.identify([obs("mdns.service", text), obs("mac", "ac:cc:8e:00:00:01")])
    assert ident.manufacturer == "Axis"
    assert any("MAC ac:cc:8e:27:0a:d8 claimed by mdns-axis-instance" in r for r in ident.rationale)
    same = IDENT.identify([obs("mdns.service", text), obs("mac", "ac:cc:8e:27:0a:d8")])
    assert not any("differs from the MAC" in r for r in same.rationale)
