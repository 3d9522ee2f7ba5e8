"""The two emulated sites of the benchmark, built as namespace labs (root)."""

from __future__ import annotations

from dataclasses import dataclass

from auditor.lab import NamespaceSite, load_profiles

SILENT = "silent-host"


@dataclass(frozen=True, slots=True)
class SiteSpec:
    name: str
    subnet: str
    devices: int
    """Emulated devices that answer (a mix of every shipped profile but the silent one)."""
    silent: int
    """Addresses held by a silent host: ARP answers, every port drops (a firewall)."""
    sparse: bool
    description: str
    wall_target_s: float
    rss_target_mb: float | None = None
    speedup_target: float | None = None
    rate: float | None = None
    """Packets/connections per second for both tools (camaudit --rate, nmap --max-rate)."""
    window_ratio_target: float | None = None
    """camaudit's total / its discovery window, at most (issue 16: the stages overlap)."""
    sweep_ratio_target: float | None = None
    """camaudit's total / its own nmap sweep, at most (issue 16)."""


SITES: dict[str, SiteSpec] = {
    "site24": SiteSpec(
        "site24",
        "10.201.0.0/24",
        devices=200,
        silent=50,
        sparse=False,
        description="a /24: 200 emulated devices of mixed profiles and 50 silent addresses",
        wall_target_s=15.0,
        speedup_target=3.0,
        window_ratio_target=1.4,
    ),
    "site16": SiteSpec(
        "site16",
        "10.202.0.0/16",
        devices=2000,
        silent=0,
        sparse=True,
        description="a sparse /16: 2,000 devices among 65,536 addresses, most silent",
        wall_target_s=600.0,
        rss_target_mb=300.0,
        sweep_ratio_target=1.2,
        # The lab's limit, not the tools': every broadcast frame (an ARP who-has) is copied to
        # all 2,000 macvlans by one kernel worker. Measured on a /19 of it: 250 ARP/s finds
        # 242/242 devices, 500/s 162, 1,000/s 110. Both tools get the same pace.
        rate=250.0,
    ),
}


def device_mix(spec: SiteSpec) -> list[str]:
    """Profiles in a stable order: the answering mix cycled, a silent host every few slots."""
    mix = sorted(p for p in load_profiles() if p != SILENT)
    answering = [mix[i % len(mix)] for i in range(spec.devices)]
    if not spec.silent:
        return answering
    out: list[str] = []
    every = max(1, (spec.devices + spec.silent) // spec.silent)
    silent_left = spec.silent
    for profile in answering:
        if silent_left and len(out) % every == every - 1:
            out.append(SILENT)
            silent_left -= 1
        out.append(profile)
    out += [SILENT] * silent_left
    return out


def build_site(spec: SiteSpec, tag: str) -> NamespaceSite:
    """The site (not started: use it as a context manager so teardown always happens)."""
    return NamespaceSite(devices=device_mix(spec), subnet=spec.subnet, sparse=spec.sparse, tag=tag)
