"""The scope decides what may be contacted; these tests pin its parsing and its guards."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from auditor.errors import ScopeError
from auditor.scope import Scope


def test_cidr_range_short_range_and_single() -> None:
    scope = Scope.parse(["192.0.2.0/30", "198.51.100.10-12", "203.0.113.5", "10.0.0.1-10.0.0.2"])
    addrs = [str(a) for a in scope.addresses()]
    assert addrs == [
        "10.0.0.1",
        "10.0.0.2",
        "192.0.2.1",
        "192.0.2.2",
        "198.51.100.10",
        "198.51.100.11",
        "198.51.100.12",
        "203.0.113.5",
    ]


def test_exclusions_win() -> None:
    scope = Scope.parse(["192.0.2.0/29"], ["192.0.2.4-6"])
    assert "192.0.2.3" in scope
    assert "192.0.2.5" not in scope
    assert "192.0.2.200" not in scope
    assert [str(a) for a in scope.addresses()] == ["192.0.2.1", "192.0.2.2", "192.0.2.3"]


def test_ipv6_and_link_local_zone() -> None:
    scope = Scope.parse(["fe80::/120", "2001:db8::1"], interfaces=("lo",))
    assert "fe80::1%lo" in scope
    assert "fe80::1%eth0" not in scope  # the same address on another link is not the target
    assert ipaddress.ip_address("2001:db8::1") in scope
    assert "2001:db8::2" not in scope


def test_file_targets(tmp_path: Path) -> None:
    f = tmp_path / "targets.txt"
    f.write_text("# site A\n192.0.2.1\n\n192.0.2.7  # NVR\n")
    assert [str(a) for a in Scope.parse([f"@{f}"]).addresses()] == ["192.0.2.1", "192.0.2.7"]
    with pytest.raises(ScopeError, match="cannot read target list"):
        Scope.parse([f"@{tmp_path / 'missing'}"])


@pytest.mark.parametrize("bad", ["camera.local", "192.0.2.300", "192.0.2.9-1", "10.0.0.1-::1", ""])
def test_unparseable_targets_are_a_clear_error(bad: str) -> None:
    with pytest.raises(ScopeError):
        Scope.parse([bad])


def test_large_scope_needs_a_flag() -> None:
    with pytest.raises(ScopeError, match="more than a /16.*--allow-large-scope"):
        Scope.parse(["10.0.0.0/15"])
    assert Scope.parse(["10.0.0.0/16"]).size == 65536
    assert Scope.parse(["10.0.0.0/15"], allow_large=True).size == 131072


def test_public_space_needs_a_flag_and_says_which() -> None:
    with pytest.raises(ScopeError, match="8.8.8.0/24.*--allow-public"):
        Scope.parse(["8.8.8.0/24"])
    assert "8.8.8.8" in Scope.parse(["8.8.8.8"], allow_public=True)


def test_garbage_is_never_in_scope() -> None:
    scope = Scope.parse(["192.0.2.0/24"])
    assert "http://192.0.2.1/" not in scope
    assert None not in scope


def test_an_endless_target_file_is_a_clear_error() -> None:
    # `scan @/dev/zero` used to end in MemoryError.
    with pytest.raises(ScopeError, match="larger than"):
        Scope.parse(["@/dev/zero"])


def test_a_binary_target_file_is_a_clear_error(tmp_path: Path) -> None:
    f = tmp_path / "t.bin"
    f.write_bytes(b"\xff\xfe10.0.0.1\n")
    with pytest.raises(ScopeError, match="cannot read target list"):
        Scope.parse([f"@{f}"])


def test_listed_addresses_and_ranges_are_probed_whole() -> None:
    """Sixteen listed addresses collapse into a /28 and a range into /30s, yet every address the
    user asked for is probed: only a CIDR's own network and broadcast addresses are skipped."""
    listed = [f"192.0.2.{i}" for i in range(16, 32)]
    assert [str(a) for a in Scope.parse(listed).addresses()] == listed
    ranged = [str(a) for a in Scope.parse(["198.51.100.12-19"]).addresses()]
    assert ranged == [f"198.51.100.{i}" for i in range(12, 20)]
    both = [str(a) for a in Scope.parse(["192.0.2.16/28", "192.0.2.31"]).addresses()]
    assert both == [f"192.0.2.{i}" for i in range(17, 32)]  # .31 was listed itself


# --- IPv4-mapped and IPv4-compatible forms (issue 13) ---------------------------------------
MAPPED_FORMS = ("::ffff:10.88.0.14", "::ffff:a58:e", "::10.88.0.14", "[::ffff:10.88.0.14]")


@pytest.mark.parametrize("form", MAPPED_FORMS)
def test_an_exclusion_holds_for_the_mapped_and_compatible_forms(form: str) -> None:
    scope = Scope.parse(["10.88.0.0/24"], ["10.88.0.14"])
    assert form.strip("[]") not in scope
    assert "::ffff:10.88.0.15" in scope


@pytest.mark.parametrize("form", MAPPED_FORMS)
def test_an_exclusion_written_in_mapped_form_excludes_the_ipv4_address(form: str) -> None:
    scope = Scope.parse(["10.88.0.0/24"], [form.strip("[]")])
    assert "10.88.0.14" not in scope
    assert "10.88.0.14" not in {str(a) for a in scope.addresses()}


def test_mapped_targets_become_ipv4_networks() -> None:
    assert Scope.parse(["::ffff:10.88.0.0/120"]).describe() == ("10.88.0.0/24",)
    assert Scope.parse(["::ffff:10.0.0.1-::ffff:10.0.0.2"]).size == 2
    # :: and ::1 are not IPv4-compatible addresses
    assert Scope.parse(["::1"]).describe() == ("::1/128",)


def test_device_supplied_mapped_address_of_an_excluded_host_is_refused() -> None:
    from auditor.context import NetContext
    from auditor.discovery.replies import check_referenced
    from auditor.errors import ProbeError
    from auditor.net.wire import Deadline, connect

    ctx = NetContext(scope=Scope.parse(["10.88.0.0/24"], ["10.88.0.14"]))
    referrer = ipaddress.ip_address("10.88.0.2")
    assert not check_referenced(ctx, "::ffff:10.88.0.14", referrer, "onvif.xaddrs")
    assert [r.address for r in ctx.out_of_scope] == ["::ffff:10.88.0.14"]
    with pytest.raises(ProbeError, match="outside the audit scope"):
        connect(ctx, ipaddress.ip_address("::ffff:10.88.0.14"), 80, Deadline(1.0))


# --- link-local targets need their interface (issue 13) -------------------------------------
@pytest.mark.parametrize("target", ["fe80::1", "fe80::/64", "fe80::1-fe80::5"])
def test_a_link_local_target_without_an_interface_is_a_usage_error(target: str) -> None:
    with pytest.raises(ScopeError, match="needs an interface"):
        Scope.parse([target])
    with pytest.raises(ScopeError, match="needs an interface"):
        Scope.parse([target], interfaces=("lo", "lo"))


def test_a_link_local_target_takes_its_zone_or_the_one_interface() -> None:
    for scope in (Scope.parse(["fe80::1%lo"]), Scope.parse(["fe80::1"], interfaces=("lo",))):
        assert scope.describe() == ("fe80::1%lo/128",)
        assert [str(a) for a in scope.addresses()] == ["fe80::1%lo"]
    with pytest.raises(ScopeError, match="no interface 'camaudit-no-such'"):
        Scope.parse(["fe80::1%camaudit-no-such"])


def test_link_local_multicast_goes_out_of_its_own_interface_only() -> None:
    from auditor.discovery.netif import Interface

    scope = Scope.parse(["fe80::1%lo"])
    link = (ipaddress.ip_network("fe80::/64"),)
    assert Interface("lo", 1, link).carries(scope, 6)
    assert not Interface("eth0", 2, link).carries(scope, 6)


def test_listed_single_addresses_are_all_probed_even_when_they_collapse() -> None:
    """.32-.35 collapse to a /30; .32 and .35 are hosts the user listed, not its network and
    broadcast addresses (they were silently skipped, so a device there was never probed)."""
    listed = ["10.0.0.32", "10.0.0.33", "10.0.0.34", "10.0.0.35"]
    assert [str(a) for a in Scope.parse(listed).addresses()] == listed
    # A CIDR the user wrote still skips its own network and broadcast addresses.
    two = [str(a) for a in Scope.parse(["10.0.0.0/24", "10.0.1.0/24"]).addresses()]
    assert len(two) == 508 and "10.0.0.255" not in two and "10.0.1.0" not in two


def test_a_zoneless_link_local_address_from_nmap_gets_its_targets_zone() -> None:
    scope = Scope.parse(["fe80::%lo/64", "10.0.0.0/24"], allow_large=True)
    assert str(scope.with_zone(ipaddress.ip_address("fe80::5"))) == "fe80::5%lo"
    assert str(scope.with_zone(ipaddress.ip_address("10.0.0.5"))) == "10.0.0.5"
