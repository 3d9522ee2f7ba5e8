"""The profile data: it loads, cites sources, keeps made-up values visibly synthetic."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.errors import DataFileError
from auditor.lab import DEMO_DEVICES, load_profiles
from auditor.lab.profiles import load_profile_file

PROFILES = load_profiles()
REQUIRED = {
    "hikvision-ipc",
    "hikvision-nvr",
    "ezviz-c6n",
    "lts-ipc",
    "annke-ipc",
    "dahua-ipc",
    "amcrest-ipc",
    "lorex-nvr",
    "uniview-ipc",
    "xiongmai-dvr",
    "hipcam-generic",
    "axis-p1375",
    "hanwha-xno",
    "bosch-dinion",
    "tiandy-onvif",
    "printer-hp",
    "router-openwrt",
    "linux-nginx",
    "silent-host",
    "xiongmai-ipc",
    "hikvision-sadp-only",
    "dahua-dhip-only",
    "onvif-outside",
}


def test_every_required_device_exists():
    assert set(PROFILES) >= REQUIRED
    assert set(DEMO_DEVICES) <= set(PROFILES)
    assert 10 <= len(DEMO_DEVICES) <= 16


@pytest.mark.parametrize("pid", sorted(PROFILES))
def test_profile_cites_sources_and_marks_synthetic_serials(pid):
    profile = PROFILES[pid]
    assert profile.sources, "every profile names its public sources"
    if "${index" in profile.serial:
        assert "LAB" in profile.serial, "made-up serials must say so"


def test_relabels_are_flagged():
    relabels = {p for p, prof in PROFILES.items() if prof.oem_relabel}
    assert {"lts-ipc", "annke-ipc", "amcrest-ipc", "lorex-nvr"} <= relabels
    for pid in relabels:
        assert PROFILES[pid].brand != PROFILES[pid].manufacturer


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- just a list\n", "must be a mapping"),
        (
            "id: broken\ntruth: {model: x, device_type: ip_camera}\nservices: {}\nmac_oui: 'zz'\n",
            "sources",
        ),
        (
            "id: broken\nsources: {a: b}\ntruth: {model: x, device_type: toaster}\nservices: {}\n"
            "mac_oui: 'c4:2f:90'\n",
            "unknown device_type",
        ),
        (
            "id: broken\nsources: {a: b}\ntruth: {model: x, device_type: ip_camera}\n"
            "services: {gopher: {}}\nmac_oui: 'c4:2f:90'\n",
            "unknown service",
        ),
        ("id: other\nsources: {a: b}\n", "equal the file name"),
        ("id: [unclosed\n", "cannot read profile"),
    ],
)
def test_malformed_profiles_name_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    with pytest.raises(DataFileError, match=message) as info:
        load_profile_file(path)
    assert str(path) in str(info.value)


def test_a_profile_may_keep_its_own_credentials(tmp_path: Path) -> None:
    from auditor.lab.device import Device

    source = PROFILES["linux-nginx"].path.read_text()
    path = tmp_path / "linux-nginx.yaml"
    path.write_text(source + "credentials: {username: root, password: other-LAB}\n")
    device = Device(load_profile_file(path), 1, "127.0.0.9", {})
    assert (device.username, device.password) == ("root", "other-LAB")
    bad = tmp_path / "broken.yaml"
    bad.write_text(source.replace("id: linux-nginx", "id: broken") + "credentials: [x]\n")
    with pytest.raises(DataFileError, match="credentials"):
        load_profile_file(bad)
