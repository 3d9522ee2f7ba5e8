"""Where the time of one measured ``camaudit scan`` went, read from its own JSON report and store.

No second audit is needed: the report carries the audit's start and finish times and every
observation's time and source, and the store records when the discovery round started and
ended (``discovery_rounds``). Stages overlap since issue 16: hosts are probed while discovery
still runs, so the timeline gives moments (seconds after the audit started) and the stretch of
probing left once discovery was over.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path

from auditor.discovery import CHANNELS

#: Keys the benchmark's ratios are computed from.
TOTAL = "total"
WINDOW = "discovery window (all channels, to the last one's end)"
SWEEP = "  last sighting by nmap"


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text)


def discovery_round(db: Path, audit_id: str) -> tuple[datetime, datetime] | None:
    """(started, finished) of the audit's last finished discovery round, from the store."""
    if not db.exists():
        return None
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        row = conn.execute(
            "SELECT started, finished FROM discovery_rounds WHERE audit_id = ? "
            "AND finished IS NOT NULL ORDER BY started DESC LIMIT 1",
            (audit_id,),
        ).fetchone()
    except sqlite3.Error:
        return None  # a store from before the discovery rounds were recorded
    finally:
        conn.close()
    return (_t(row[0]), _t(row[1])) if row else None


def timeline(
    report: Path, started: datetime, ended: datetime, db: Path | None = None
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
    rnd = discovery_round(db, doc["audit"]["id"]) if db is not None else None
    # Without the store's record (an older camaudit), the last sighting is the best guess.
    discovery_end = rnd[1] if rnd else max(last_by_channel.values(), default=audit_start)

    def since(moment: datetime) -> float:
        return (moment - audit_start).total_seconds()

    stages = {
        "start-up (interpreter, imports, data, store)": (audit_start - started).total_seconds()
    }
    stages[WINDOW] = since(discovery_end)
    for channel, when in sorted(last_by_channel.items(), key=lambda kv: kv[1]):
        stages[f"  last sighting by {channel}"] = since(when)
    if first_probe is not None:
        stages["first probe answer (probing overlaps discovery)"] = since(first_probe)
    stages["probes + identify + assess + store left after discovery"] = max(
        0.0, (audit_end - discovery_end).total_seconds()
    )
    stages["report: load from store, render JSON, write"] = (ended - audit_end).total_seconds()
    stages[TOTAL] = (ended - started).total_seconds()
    return stages, probe_s


def ratio(stages: dict[str, float], key: str) -> float | None:
    """total / the stage ``key`` (the discovery window, the nmap sweep), or None."""
    base = stages.get(key)
    return stages[TOTAL] / base if base and TOTAL in stages else None
