"""Where the time of one measured ``camaudit scan`` went, read from its own JSON report.

No second audit is needed: the report carries the audit's start and finish times and every
observation's time and source. Discovery channels stamp their sightings with the channel's
name; probe observations come after discovery, so the first of them marks its end.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from auditor.discovery import CHANNELS


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text)


def timeline(
    report: Path, started: datetime, ended: datetime
) -> tuple[dict[str, float], dict[str, float]]:
    """(stage -> seconds, probe -> seconds summed over hosts) for one run."""
    doc = json.loads(report.read_text(encoding="utf-8"))
    audit_start = _t(doc["audit"]["started"])
    audit_end = _t(doc["audit"]["finished"])
    last_by_channel: dict[str, datetime] = {}
    first_probe: datetime | None = None
    probe_s: dict[str, float] = {}
    for device in doc["devices"]:
        for obs in device.get("observations", []):
            when = _t(obs["observed_at"])
            source = obs.get("source") or ""
            if source in CHANNELS:
                if source not in last_by_channel or when > last_by_channel[source]:
                    last_by_channel[source] = when
            elif first_probe is None or when < first_probe:
                first_probe = when
        for attempt in device.get("probes", []):
            name = attempt["probe"]
            probe_s[name] = probe_s.get(name, 0.0) + float(attempt.get("duration_s") or 0.0)
    discovery_end = first_probe or audit_end
    stages = {
        "start-up (interpreter, imports, data, store)": (audit_start - started).total_seconds(),
        "discovery (all channels at once)": (discovery_end - audit_start).total_seconds(),
    }
    for channel, when in sorted(last_by_channel.items(), key=lambda kv: kv[1]):
        stages[f"  last sighting by {channel}"] = (when - audit_start).total_seconds()
    stages["probes + identify + assess + store, per host"] = (
        audit_end - discovery_end
    ).total_seconds()
    stages["report: load from store, render JSON, write"] = (ended - audit_end).total_seconds()
    stages["total"] = (ended - started).total_seconds()
    return stages, probe_s
