"""Out-of-scope references are bounded: a flood of replies naming outside addresses (each
recorded, none contacted) must not grow the audit without limit, and what was left out is noted."""

from __future__ import annotations

import ipaddress

from auditor.context import MAX_REFS_PER_REFERRER, NetContext
from auditor.discovery.replies import check_referenced
from auditor.scope import Scope


def test_references_are_capped_per_device_and_the_cap_is_noted() -> None:
    ctx = NetContext(scope=Scope.parse(["10.88.0.0/24"]))
    flooder = ipaddress.ip_address("10.88.0.9")
    for i in range(1000):
        assert not check_referenced(ctx, f"203.0.113.{i % 250}:{i}", flooder, "onvif.xaddrs")
    check_referenced(ctx, "198.51.100.1", ipaddress.ip_address("10.88.0.10"), "ssdp.location")
    refs = ctx.out_of_scope
    assert sum(1 for r in refs if r.referrer == flooder) == MAX_REFS_PER_REFERRER
    assert any(r.address == "198.51.100.1" for r in refs)  # another device is still recorded
    assert any("more were not recorded" in n for n in ctx.discovery_caps)
