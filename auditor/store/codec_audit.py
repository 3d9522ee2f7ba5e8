"""The ``audits`` table: one row per audit, its scope, settings and data versions."""

from __future__ import annotations

from typing import Any

from auditor.models import Audience, AuditId, AuditInfo, ChannelFailure, DataVersion
from auditor.store.codec import (
    dump,
    load,
    moment,
    opt_day,
    opt_moment,
    opt_parse_day,
    opt_parse_moment,
    parse_moment,
    text,
)


def audit_row(info: AuditInfo) -> dict[str, Any]:
    return {
        "id": text(info.id),
        "site": text(info.site),
        "started": moment(info.started),
        "finished": opt_moment(info.finished),
        "tool_version": text(info.tool_version),
        "targets": dump([text(t) for t in info.targets]),
        "excludes": dump([text(t) for t in info.excludes]),
        "profile": Audience(info.profile).value,
        "data_versions": dump(
            [
                {
                    "name": text(v.name),
                    "version": text(v.version),
                    "as_of": opt_day(v.as_of),
                    "source": text(v.source),
                    "stale": bool(v.stale),
                }
                for v in info.data_versions
            ]
        ),
        "ports": dump([int(p) for p in info.ports]),
        "probes": dump([text(p) for p in info.probes]),
        "port_spec": text(info.port_spec),
        "options": dump(
            {
                "rate": info.rate,
                "timeout": info.timeout,
                "allow_large": info.allow_large,
                "allow_public": info.allow_public,
            }
        ),
        "channel_failures": failures(info.channel_failures),
    }


def failures(items: tuple[ChannelFailure, ...]) -> str:
    return dump([{"channel": text(f.channel), "message": text(f.message)} for f in items])


def audit_from_row(row: Any) -> AuditInfo:
    options = load(row["options"])
    return AuditInfo(
        id=AuditId(row["id"]),
        site=row["site"],
        started=parse_moment(row["started"]),
        finished=opt_parse_moment(row["finished"]),
        tool_version=row["tool_version"],
        targets=tuple(load(row["targets"])),
        excludes=tuple(load(row["excludes"])),
        profile=Audience(row["profile"]),
        data_versions=tuple(
            DataVersion(
                name=d["name"],
                version=d["version"],
                as_of=opt_parse_day(d["as_of"]),
                source=d["source"],
                stale=bool(d.get("stale", False)),
            )
            for d in load(row["data_versions"])
        ),
        ports=tuple(load(row["ports"])),
        probes=tuple(load(row["probes"])),
        port_spec=row["port_spec"],
        rate=_opt_float(options.get("rate")),
        timeout=_opt_float(options.get("timeout")),
        allow_large=bool(options.get("allow_large", False)),
        allow_public=bool(options.get("allow_public", False)),
        channel_failures=tuple(
            ChannelFailure(str(f["channel"]), str(f["message"]))
            for f in load(row["channel_failures"])
        ),
    )


def _opt_float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None
