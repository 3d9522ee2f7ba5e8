"""One site benchmark: build the namespace site, audit it with camaudit and with nmap -sV from
the auditor namespace, score both against the ground truth, and tear the site down."""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from auditor.lab import LAB_COMMUNITY, LAB_PASSWORD, LAB_USERNAME, NamespaceSite
from bench.measure import Measurement, run_measured
from bench.scoring import (
    Coverage,
    camaudit_coverage,
    nmap_coverage,
    parse_camaudit,
    parse_nmap,
)
from bench.sites import SiteSpec, build_site
from bench.timeline import timeline

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ToolRun:
    measurement: Measurement
    cameras: Coverage
    """Video devices (cameras, NVRs, DVRs) whose true maker the tool named."""
    knowable: Coverage
    """Every device whose maker is knowable (cameras, printers...)."""
    cameras_with_mac: Coverage | None = None
    """nmap only: also counting its MAC-vendor string (even more generous)."""
    devices_found: int = 0
    timeline: dict[str, float] = field(default_factory=dict)
    probe_seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class SiteResult:
    spec: SiteSpec
    setup_s: float = 0.0
    teardown_s: float = 0.0
    camaudit: list[ToolRun] = field(default_factory=list)
    nmap: list[ToolRun] = field(default_factory=list)
    ports: tuple[int, ...] = ()
    stages: dict[str, float] = field(default_factory=dict)
    probe_seconds: dict[str, float] = field(default_factory=dict)
    timeline: dict[str, float] = field(default_factory=dict)
    """Stages of the last measured camaudit run (from its own report)."""
    camaudit_argv: list[str] = field(default_factory=list)
    nmap_argv: list[str] = field(default_factory=list)


def camaudit_command() -> list[str]:
    script = Path(sys.executable).with_name("camaudit")
    return [str(script)] if script.exists() else [sys.executable, "-m", "auditor.cli.app"]


def scan_argv(site: NamespaceSite, spec: SiteSpec, work: Path) -> list[str]:
    ports = ",".join(map(str, site.port_plan.ports))
    return [
        *camaudit_command(),
        "-q",
        "scan",
        spec.subnet,
        "--exclude",
        site.auditor_address,
        "--ports",
        ports,
        "--site",
        f"bench {spec.name}",
        "--db",
        str(work / "bench.db"),
        "-f",
        "json",
        "-o",
        str(work / "camaudit.json"),
        "--exit-zero",
        *(["--rate", f"{spec.rate:g}"] if spec.rate else []),
    ]


def nmap_argv(site: NamespaceSite, spec: SiteSpec, work: Path) -> list[str]:
    ports = ",".join(map(str, site.port_plan.ports))
    nmap = shutil.which("nmap") or "nmap"
    pace = ["--max-rate", f"{spec.rate:g}"] if spec.rate else []
    return [nmap, "-n", "-sV", "-p", ports, *pace, "--exclude", site.auditor_address, "-oX",
            str(work / "nmap.xml"), spec.subnet]  # fmt: skip


def in_netns(site: NamespaceSite, argv: list[str]) -> list[str]:
    return ["ip", "netns", "exec", site.auditor_netns, *argv]


def run_camaudit(site: NamespaceSite, spec: SiteSpec, work: Path, timeout: float) -> ToolRun:
    (work / "bench.db").unlink(missing_ok=True)
    (work / "camaudit.json").unlink(missing_ok=True)
    # The site's credentials, given as a consultant would be given them: the web login and the
    # SNMP read community (the Canon VB-C60 and Panasonic WJ-HD300 profiles name their maker
    # only in sysDescr, as their public captures do; camaudit never guesses a community).
    env = dict(
        os.environ,
        CAMAUDIT_USERNAME=LAB_USERNAME,
        CAMAUDIT_PASSWORD=LAB_PASSWORD,
        CAMAUDIT_SNMP_COMMUNITY=LAB_COMMUNITY,
    )
    started = datetime.now(UTC)
    m = run_measured(in_netns(site, scan_argv(site, spec, work)), env=env, timeout=timeout)
    ended = datetime.now(UTC)
    stages: dict[str, float] = {}
    probe_s: dict[str, float] = {}
    if m.returncode != 0 or not (work / "camaudit.json").exists():
        logger.error("camaudit scan failed (%d): %s", m.returncode, m.stderr_tail)
        named: dict[str, str | None] = {}
    else:
        named = parse_camaudit(work / "camaudit.json")
        stages, probe_s = timeline(work / "camaudit.json", started, ended, work / "bench.db")
    truth = site.truth
    return ToolRun(
        m,
        camaudit_coverage(named, truth, video_only=True),
        camaudit_coverage(named, truth, video_only=False),
        devices_found=len(named),
        timeline=stages,
        probe_seconds=probe_s,
    )


def run_nmap(site: NamespaceSite, spec: SiteSpec, work: Path, timeout: float) -> ToolRun:
    out = work / "nmap.xml"
    out.unlink(missing_ok=True)
    m = run_measured(in_netns(site, nmap_argv(site, spec, work)), timeout=timeout)
    hosts = parse_nmap(out) if m.returncode == 0 and out.exists() else {}
    if not hosts:
        logger.error("nmap gave no result (%d): %s", m.returncode, m.stderr_tail)
    truth = site.truth
    return ToolRun(
        m,
        nmap_coverage(hosts, truth, video_only=True),
        nmap_coverage(hosts, truth, video_only=False),
        nmap_coverage(hosts, truth, video_only=True, with_mac_vendor=True),
        devices_found=sum(1 for h in hosts.values() if h.open_ports),
    )


def run_site(
    spec: SiteSpec,
    runs: int,
    nmap_timeout: float,
    nmap_runs: int = 1,
    stages: bool = False,
    progress: object = None,
) -> SiteResult:
    """Build the site, run camaudit ``runs`` times and nmap ``nmap_runs`` times, interleaved
    (alternating which tool goes first, so drift in the machine's load hits both), optionally
    time the stages in-process, and always tear down."""
    say = progress if callable(progress) else (lambda _msg: None)
    result = SiteResult(spec)
    tag = f"b{spec.name[4:]}{os.getpid() % 10000}"
    site = build_site(spec, tag)
    start = time.monotonic()
    say(f"{spec.name}: building {spec.description} ...")
    with tempfile.TemporaryDirectory(prefix=f"camaudit-bench-{spec.name}-") as tmp:
        work = Path(tmp)
        try:
            site.start()
            result.setup_s = time.monotonic() - start
            result.ports = site.port_plan.ports
            result.camaudit_argv = scan_argv(site, spec, work)
            result.nmap_argv = nmap_argv(site, spec, work)
            say(f"{spec.name}: site up in {result.setup_s:.1f} s; ports {len(result.ports)}")
            scan_timeout = max(120.0, spec.wall_target_s * 4)
            for i in range(runs):
                order = ["camaudit", "nmap"] if i % 2 == 0 else ["nmap", "camaudit"]
                for tool in order:
                    if tool == "camaudit":
                        run = run_camaudit(site, spec, work, scan_timeout)
                        result.camaudit.append(run)
                    elif i < nmap_runs:
                        run = run_nmap(site, spec, work, nmap_timeout)
                        result.nmap.append(run)
                    else:
                        continue
                    m = run.measurement
                    say(
                        f"{spec.name} run {i + 1}/{runs} {tool}: {m.wall_s:.1f} s wall, "
                        f"{m.cpu_s:.1f} s CPU, {m.peak_rss_mb:.0f} MB, cameras {run.cameras}"
                        + (f" (exit {m.returncode})" if m.returncode else "")
                    )
            if stages:
                from bench.stages import time_stages

                say(f"{spec.name}: timing the stages in-process ...")
                result.stages, result.probe_seconds = time_stages(site, spec, work)
        finally:
            start = time.monotonic()
            site.stop()
            result.teardown_s = time.monotonic() - start
            say(f"{spec.name}: torn down in {result.teardown_s:.1f} s")
    return result
