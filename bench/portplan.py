"""What a default port plan costs and buys: one audit of the loopback lab per plan, compared.

``python -m bench.portplan [--runs N]`` builds a loopback site with one device of every shipped
profile, audits it with each plan (privileged ports moved by the loopback shift, as the lab
serves them) and prints wall time, observations per kind and makers named right. Everything
stays on 127.0.0.0/8. ``--netns`` (root) runs the same on a namespace site with standard ports,
ARP and ten silent hosts that drop every SYN, the case where an extra port can cost time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from auditor.credentials import Credential, CredentialStore, Secret
from auditor.engine import AuditConfig, Auditor
from auditor.lab import LoopbackSite, load_profiles
from auditor.lab.netns import NamespaceSite
from auditor.lab.site import LOOPBACK_SHIFT, PRIVILEGED
from auditor.ports import PortPlan

#: The plan before issue 12 (kept here to measure against; the product uses PortPlan.default()).
BEFORE = PortPlan.parse(
    "22/ssh,23/telnet,80/http,81/http,88/http,443/https,554/rtsp,2020/onvif,5554/rtsp,"
    "8000/hik-sdk,8080/http,8081/http,8443/https,8554/rtsp,8899/onvif,10554/rtsp,"
    "34567/dvrip,37777/dahua-sdk"
)


@dataclass(frozen=True)
class PlanRun:
    wall_s: float
    kinds: Counter[str]
    named_right: int
    devices: int


def on_loopback(plan: PortPlan) -> PortPlan:
    """The plan as the loopback lab serves it (ports below 1024 moved up by the shift)."""
    spec = ",".join(
        f"{p + LOOPBACK_SHIFT if p < PRIVILEGED else p}/{r.value}" for p, r in plan.roles.items()
    )
    return PortPlan.parse(spec)


def audit(
    site: LoopbackSite | NamespaceSite, plan: PortPlan, work: Path, netns: bool = False
) -> PlanRun:
    user, password = site.credentials
    db = work / f"plan-{time.monotonic_ns()}.db"
    config = AuditConfig(
        targets=site.targets,
        db_path=db,
        site="bench portplan",
        ports=plan if netns else on_loopback(plan),
        timeout=2.0,
        credentials=CredentialStore(
            default=Credential(user, Secret(password)),
            snmp_default=Secret(site.snmp_community),
        ),
        multicast=netns,
        snmp_port=site.snmp_port,
        interfaces=(site.auditor_interface,) if isinstance(site, NamespaceSite) else (),
    )
    start = time.monotonic()
    report = Auditor(config).run()
    wall = time.monotonic() - start
    kinds: Counter[str] = Counter()
    truth = {t.address: t for t in site.truth}
    right = 0
    for device in report.devices:
        seen = list(device.host.observations)
        for attempt in device.attempts:
            seen.extend(attempt.observations)
        for obs in seen:
            kinds[obs.kind.value] += 1
        t = truth.get(str(device.host.address))
        if t and t.manufacturer and device.identification.manufacturer == t.manufacturer:
            right += 1
    return PlanRun(wall, kinds, right, len(report.devices))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--netns", action="store_true", help="namespace site (root)")
    args = parser.parse_args(argv)
    profiles = sorted(p for p in load_profiles() if p != "silent-host")
    plans = {"before": BEFORE, "after": PortPlan.default()}
    results: dict[str, list[PlanRun]] = {name: [] for name in plans}
    site: LoopbackSite | NamespaceSite = (
        NamespaceSite(profiles + ["silent-host"] * 10, subnet="10.209.0.0/24")
        if args.netns
        else LoopbackSite(profiles)
    )
    with tempfile.TemporaryDirectory(prefix="camaudit-portplan-") as tmp, site:
        for _ in range(args.runs):
            for name, plan in plans.items():
                if isinstance(site, NamespaceSite):
                    run = site.call_in_auditor(audit, site, plan, Path(tmp), True)
                else:
                    run = audit(site, plan, Path(tmp))
                results[name].append(run)
    for name, plan in plans.items():
        runs = results[name]
        wall = statistics.median(r.wall_s for r in runs)
        last = runs[-1]
        print(
            f"{name}: {len(plan.ports)} ports, wall {wall:.2f} s (runs: "
            f"{', '.join(f'{r.wall_s:.2f}' for r in runs)}), makers named right "
            f"{last.named_right}/{len(profiles)} devices",
        )
        print("  observations: " + ", ".join(f"{k} {v}" for k, v in sorted(last.kinds.items())))
    added = sorted(set(plans["after"].ports) - set(plans["before"].ports))
    print(f"ports added: {added}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
