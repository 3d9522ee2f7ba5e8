"""Where the time goes: one in-process audit in the auditor namespace, with a timing observer,
and each discovery channel alone. Used for site16's breakdown; not the measured run."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from auditor.context import NetContext
from auditor.credentials import Credential, CredentialStore, Secret
from auditor.discovery import CHANNELS, discover_all
from auditor.engine import AuditConfig, AuditObserver, Auditor
from auditor.lab import LAB_COMMUNITY, NamespaceSite
from auditor.models import DeviceResult
from auditor.scope import Scope
from bench.sites import SiteSpec


class StageTimer(AuditObserver):
    """Monotonic time at which each stage began, and when the last host finished."""

    def __init__(self) -> None:
        self.marks: dict[str, float] = {}
        self.last_host = 0.0
        self.lock = threading.Lock()

    def on_stage(self, stage: str, total: int | None = None) -> None:
        self.marks[stage] = time.monotonic()

    def on_host_done(self, device: DeviceResult) -> None:
        with self.lock:
            self.last_host = time.monotonic()


def time_stages(
    site: NamespaceSite, spec: SiteSpec, work: Path
) -> tuple[dict[str, float], dict[str, float]]:
    """(stage -> seconds, probe -> summed seconds over all hosts)."""
    user, password = site.credentials
    config = AuditConfig(
        targets=(spec.subnet,),
        excludes=(site.auditor_address,),
        db_path=work / "stages.db",
        site=f"bench {spec.name} (stages)",
        ports=site.port_plan,
        credentials=CredentialStore(
            default=Credential(user, Secret(password)), snmp_default=Secret(LAB_COMMUNITY)
        ),
    )
    timer = StageTimer()

    def audit() -> float:
        start = time.monotonic()
        report = Auditor(config, timer).run()
        end = time.monotonic()
        timer.marks["_start"], timer.marks["_end"] = start, end
        probe_s: dict[str, float] = {}
        for device in report.devices:
            for a in device.attempts:
                probe_s[a.probe] = probe_s.get(a.probe, 0.0) + a.duration_s
        timer.probe = dict(probe_s)  # type: ignore[attr-defined]
        return end - start

    site.call_in_auditor(audit)
    m = timer.marks
    # Hosts are probed while discovery runs (issue 16): "probing" marks discovery's end, so
    # the next stage is the probing left after it.
    stages = {
        "setup (load data, open store)": m["discovery"] - m["_start"],
        "discovery (all channels at once; probing overlaps it)": m["probing"] - m["discovery"],
        "probes + identify + assess + store left after discovery": m["report"] - m["probing"],
        "load report from store": m["_end"] - m["report"],
        "total (in-process)": m["_end"] - m["_start"],
    }
    ctx = NetContext(scope=Scope.parse((spec.subnet,), (site.auditor_address,)),
                     ports=site.port_plan)  # fmt: skip
    for name in CHANNELS:

        def one(channel: str = name) -> float:
            start = time.monotonic()
            discover_all(ctx, channels=[channel])
            return time.monotonic() - start

        stages[f"  discovery channel {name} alone"] = site.call_in_auditor(one)
    return stages, timer.probe  # type: ignore[attr-defined]
