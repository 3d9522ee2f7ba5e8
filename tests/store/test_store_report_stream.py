"""The JSON and CSV reports written device by device from the store are the bytes the whole
loaded report gave, on both engines, and memory does not grow with the audit (issue 16)."""

from __future__ import annotations

import dataclasses
import gc
import io
import ipaddress
import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from auditor.history.combine import combine
from auditor.models import AuditId, AuditReport, ChannelFailure, DeviceResult
from auditor.render.csv_format import CsvFormat, write_csv
from auditor.render.interface import RenderOptions
from auditor.render.json_format import (
    SCHEMA_VERSION,
    JsonFormat,
    audit_dict,
    device_dict,
    write_json,
)
from auditor.render.view import summarise
from auditor.store import Store
from bench.micro import replicate
from tests.render.camaudit_sample_audit import audit_info, sample_report
from tests.store.store_engines import save_report
from tests.store.test_store_summary import KEV, MINOR


def report_dict(report: AuditReport) -> dict[str, Any]:
    """The whole report as one value, its summary from ``summarise`` (the loaded report's, which
    the HTML and Markdown reports show): how camaudit built the JSON report before it streamed."""
    summary = summarise(report)
    return {
        "schema_version": SCHEMA_VERSION,
        "audit": audit_dict(report, report.evidence_sha256),
        "devices": [device_dict(d) for d in report.devices],
        "summary": {
            "devices": summary.devices,
            "cameras": summary.cameras,
            "exposed": summary.exposed,
            "review": summary.review,
            "incomplete": summary.incomplete,
            "discovery_incomplete": report.discovery_incomplete,
            "unconfirmed": summary.unconfirmed,
            "oem_relabels": summary.relabels,
            "by_manufacturer": dict(summary.by_manufacturer),
            "by_instrument": {row.instrument: row.devices for row in summary.by_instrument},
            "by_severity": {sev.label: n for sev, n in summary.by_severity},
            "actions": [
                {
                    "rank": a.rank,
                    "action": a.action.value,
                    "priority": a.priority,
                    "devices": len(a.devices),
                    "makers": dict(a.makers),
                    "top_instrument": a.top_instrument_id,
                    "advice": a.advice,
                }
                for a in summary.actions
            ],
            "vulnerable_devices": summary.vulnerable,
            "known_exploited_devices": summary.known_exploited,
        },
    }


def todays_json(report: AuditReport) -> bytes:
    """The JSON report as camaudit wrote it before it streamed: one dict of every device,
    encoded chunk by chunk (JsonFormat.render until issue 16)."""
    encoder = json.JSONEncoder(indent=2, ensure_ascii=False)
    chunks = encoder.iterencode(report_dict(report))
    return b"".join(c.encode("utf-8", "backslashreplace") for c in chunks) + b"\n"


def streamed(store: Store, audit_id: str, batch: int = 200) -> tuple[bytes, bytes]:
    """(JSON, CSV) written from the store device by device."""
    js, cs = io.BytesIO(), io.BytesIO()
    with store.report_stream(audit_id, batch) as source:
        write_json(js, source.head, source.devices, source.evidence_sha256)
    with store.report_stream(audit_id, batch) as source:
        write_csv(cs, source.head, source.devices)
    return js.getvalue(), cs.getvalue()


def save(store: Store, report: AuditReport) -> None:
    save_report(store, report, relaxed=True)


def _with(
    report: AuditReport, audit_id: str, failures: tuple[ChannelFailure, ...] = ()
) -> AuditReport:
    audit = report.audit
    audit = dataclasses.replace(audit, id=AuditId(audit_id), channel_failures=failures)
    return dataclasses.replace(report, audit=audit)


def _mixed(count: int) -> AuditReport:
    """``count`` devices, IPv6 among IPv4, saved in no particular order, some with findings, on
    two sites: the store must give them back in report order."""
    base = replicate(sample_report(), count)
    devices: list[DeviceResult] = []
    for i, d in enumerate(base.devices):
        if i % 3 == 0:
            d = dataclasses.replace(
                d,
                host=dataclasses.replace(d.host, address=ipaddress.ip_address(f"2001:db8::{i:x}")),
            )
        if i % 7 == 0:
            d = dataclasses.replace(d, vulnerabilities=(KEV,) if i % 2 else (MINOR,))
        devices.append(dataclasses.replace(d, site="Branch" if i % 5 == 0 else d.site))
    shuffled = devices[1::2] + devices[::2]
    return dataclasses.replace(_with(base, f"mixed-{count}"), devices=tuple(shuffled))


def _fixtures() -> list[AuditReport]:
    sample = sample_report()
    odd = dataclasses.replace(
        sample.devices[0],
        identification=dataclasses.replace(sample.devices[0].identification, model="DS\udce9"),
    )
    return [
        sample,
        _with(dataclasses.replace(sample, devices=(odd, *sample.devices[1:])), "undecodable"),
        AuditReport(audit=dataclasses.replace(audit_info(), id=AuditId("empty"), finished=None)),
        _with(
            sample,
            "channel-failed",
            (ChannelFailure("ws-discovery", "no multicast route"),),
        ),
        _mixed(23),
    ]


@pytest.mark.parametrize("batch", [1, 4, 200])
def test_streamed_reports_are_the_loaded_reports_bytes(
    store_location: Path | str, batch: int
) -> None:
    with Store(store_location) as store:
        for report in _fixtures():
            save(store, report)
    with Store(store_location, read_only=True) as store:
        for report in _fixtures():
            loaded = store.load_report(report.audit.id)
            js, cs = streamed(store, report.audit.id, batch)
            assert js == todays_json(loaded), report.audit.id
            assert cs == CsvFormat(RenderOptions()).render(loaded), report.audit.id
            doc = json.loads(js)
            assert len(doc["devices"]) == doc["summary"]["devices"] == len(report.devices)
            failed = doc["summary"]["discovery_incomplete"]
            assert failed is bool(report.audit.channel_failures), report.audit.id
        # Several audits combined (`report A B`) are loaded, then written by the same writer.
        both = combine([store.load_report(r.audit.id) for r in _fixtures()[::4]])
        assert JsonFormat(RenderOptions()).render(both) == todays_json(both)
    # The mixed audit came back in address order, IPv4 before IPv6, whatever the saving order.
    addresses = [ipaddress.ip_address(d["address"]) for d in doc["devices"]]
    assert addresses == sorted(addresses, key=lambda a: (a.version, int(a)))


def _alive(kind: type) -> int:
    """Objects of ``kind`` alive in this process now."""
    gc.collect()
    return sum(1 for o in gc.get_objects() if type(o) is kind)


def test_streaming_holds_one_batch_of_devices_at_most(store_location: Path | str) -> None:
    audit = _with(replicate(sample_report(), 1000), "large")
    with Store(store_location) as store:
        save(store, audit)
    del audit
    seen: list[int] = []

    def watched(devices: Iterable[DeviceResult]) -> Iterator[DeviceResult]:
        for i, d in enumerate(devices):
            if i % 250 == 249:
                seen.append(_alive(DeviceResult))
            yield d

    with Store(store_location, read_only=True) as store, open(os.devnull, "wb") as sink:
        with store.report_stream("large", batch=100) as source:
            write_json(sink, source.head, watched(source.devices), source.evidence_sha256)
        # The same count while a loaded report is alive: every device.
        loaded = store.load_report("large")
        assert _alive(DeviceResult) >= len(loaded.devices) == 1000
    # At most the batch being written (and the one in hand), whatever the audit's size.
    assert len(seen) == 4 and max(seen) <= 101, seen


def test_a_stream_reads_one_state_of_the_store_while_it_is_written(
    store_location: Path | str,
) -> None:
    audit = _with(replicate(sample_report(), 30), "busy")
    with Store(store_location) as store:
        save(store, audit)
    with Store(store_location, read_only=True) as store:
        expected = todays_json(store.load_report("busy"))
    js = io.BytesIO()
    moved = audit.devices[0]
    added = dataclasses.replace(
        moved, host=dataclasses.replace(moved.host, address=ipaddress.ip_address("10.200.0.1"))
    )
    with (
        Store(store_location) as writer,
        Store(store_location, read_only=True) as store,
        store.report_stream("busy", batch=4) as source,
    ):
        devices = iter(source.devices)
        first = next(devices)
        # Another process saves every host again (a resumed audit replaces a host it saves
        # again) and adds one, while the report is half-way.
        for d in audit.devices:
            writer.save_device("busy", dataclasses.replace(d, site="moved"))
        writer.save_device("busy", added)
        write_json(js, source.head, [first, *devices], source.evidence_sha256)
    # The report is the audit as it was when the stream opened, whole and consistent.
    assert js.getvalue() == expected
