"""Run discovery inside a network namespace and print the result as JSON (used by netns tests).

Usage: ip netns exec NS python tests/discovery/netns_scan.py '<json options>'
A separate process because a namespace is entered per process: the pytest process itself stays
in the host namespace and never sends anything.
"""

from __future__ import annotations

import json
import sys
import time

from auditor.context import NetContext
from auditor.discovery import discover_all
from auditor.ports import PortPlan
from auditor.scope import Scope


def main() -> None:
    opts = json.loads(sys.argv[1])
    if opts.get("debug"):
        import logging

        log = logging.getLogger("auditor")
        log.addHandler(logging.StreamHandler(sys.stderr))
        log.setLevel(logging.DEBUG)
    ctx = NetContext(
        scope=Scope.parse(
            opts["targets"], opts.get("excludes", []), allow_large=opts.get("allow_large", False)
        ),
        timeout=opts.get("timeout", 1.5),
        multicast=opts.get("multicast", True),
        interfaces=tuple(opts.get("interfaces", ())),
        ports=PortPlan.from_ports(opts["ports"]) if opts.get("ports") else PortPlan.default(),
    )
    start = time.monotonic()
    result = discover_all(ctx, opts.get("channels"))
    wall = time.monotonic() - start
    out = {
        "wall": wall,
        "errors": result.errors,
        "out_of_scope": [[r.address, str(r.referrer), r.via] for r in ctx.out_of_scope],
        "hosts": [
            {
                "address": str(h.address),
                "mac": h.mac,
                "mac_vendor": h.mac_vendor,
                "seen_by": sorted(c.value for c in h.seen_by),
                "ports": sorted(h.open_tcp_ports),
                "endpoint_ids": sorted(h.endpoint_ids),
                "kinds": sorted({o.kind.value for o in h.observations}),
            }
            for h in result.hosts
        ],
    }
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
