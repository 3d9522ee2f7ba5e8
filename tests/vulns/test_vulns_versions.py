"""Firmware versions compared across the makers' numbering; UNKNOWN rather than a guess."""

from __future__ import annotations

import pytest

from auditor.vulns.versions import FirmwareVersion, Order


def order(a: str, b: str) -> Order:
    left, right = FirmwareVersion.parse(a), FirmwareVersion.parse(b)
    assert left is not None and right is not None
    return left.compare(right)


@pytest.mark.parametrize(
    ("device", "bound", "expected"),
    [
        # Hikvision: "V5.5.0 build 170725" (a device) against the V5.5.800 line.
        ("V5.5.0 build 170725", "V5.5.800", Order.LESS),
        ("V5.7.3", "V5.5.800", Order.GREATER),
        ("V5.4.0 Build 160530", "V5.4.0 build 160530", Order.EQUAL),
        ("V5.4.0 build 160401", "V5.4.0 Build 160530", Order.LESS),
        # What the lab's Annke answers (no space before "build").
        ("V5.7.0build 220101", "V5.7.0 build 220101", Order.EQUAL),
        # Dahua as devices report it, against NVD's fixed versions (CVE-2021-33044).
        ("2.800.0000000.16.R", "2.800.0000000.29.r.210630", Order.LESS),
        ("2.800.0000000.30.R", "2.800.0000000.29.r.210630", Order.GREATER),
        ("2.800.0000000.29.R, Build Date: 2021-07-01", "2.800.0000000.29.r.210630", Order.GREATER),
        ("2.800.0000000.29.R, Build Date: 2021-06-01", "2.800.0000000.29.r.210630", Order.LESS),
        ("4.001.0000005.0", "4.001.0000005.1.r.210713", Order.LESS),
        # Only the build date decides, and the device does not report one: no answer.
        ("2.800.0000000.29.R", "2.800.0000000.29.r.210630", Order.UNKNOWN),
        # Amcrest's own numbering on a Dahua platform cannot be ordered against Dahua's.
        ("2.800.00AC000.0.R", "2.800.0000000.29.r.210630", Order.UNKNOWN),
        ("5.4", "5.4.0", Order.EQUAL),
    ],
)
def test_versions_order_across_numbering(device: str, bound: str, expected: Order) -> None:
    assert order(device, bound) is expected


@pytest.mark.parametrize("text", ["", "-", "n/a", "unknown", "version", "*"])
def test_no_version_is_never_made_up(text: str) -> None:
    assert FirmwareVersion.parse(text) is None
