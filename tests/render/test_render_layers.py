"""Reports in layers (issue 15): page one first, devices by action, each raw reply once, and
--detail summary|standard|full in every human-readable format."""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import re

import pytest

from auditor.models import (
    AuditReport,
    DeviceResult,
    EvidenceLink,
    FingerprintId,
    RemediationAction,
)
from auditor.render import Detail, FormatName, RenderOptions, renderer
from auditor.render.evidence import evidence
from auditor.render.view import summarise
from tests.render.camaudit_sample_audit import sample_report


def _render(fmt: FormatName, report: AuditReport, detail: Detail, width: int = 120) -> str:
    return renderer(fmt, RenderOptions(detail=detail, width=width)).render(report).decode()


def _twice_matched() -> tuple[AuditReport, DeviceResult, EvidenceLink]:
    """The sample with one reply matched by two more fingerprints (as ONVIF/SADP XML is)."""
    report = sample_report()
    device = report.devices[0]
    link = device.identification.evidence[1]
    extra = (
        dataclasses.replace(link, fingerprint_id=FingerprintId("isapi.second-pattern")),
        dataclasses.replace(link, fingerprint_id=FingerprintId("isapi.third-pattern")),
    )
    ident = dataclasses.replace(
        device.identification, evidence=(*device.identification.evidence, *extra)
    )
    device = dataclasses.replace(device, identification=ident)
    return dataclasses.replace(report, devices=(device, *report.devices[1:])), device, link


def test_each_raw_reply_appears_once_with_every_fingerprint_that_matched_it() -> None:
    report, device, link = _twice_matched()
    ev = evidence(device)
    replies = [r for r in ev.replies if r.observation.sha256 == link.observation.sha256]
    assert len(replies) == 1
    assert replies[0].fingerprints == (
        "isapi.std-cgi",
        "isapi.second-pattern",
        "isapi.third-pattern",
    )
    marker = "<firmwareVersion>V5.6.3</firmwareVersion>"
    escaped = marker.replace("<", "&lt;").replace(">", "&gt;")
    for detail in (Detail.STANDARD, Detail.FULL):
        html = _render(FormatName.HTML, report, detail)
        assert html.count(escaped) == 1, detail
        for fp in replies[0].fingerprints:
            assert fp in html
    md = _render(FormatName.MARKDOWN, report, Detail.FULL)
    assert md.count(marker) == 1
    # One <pre> per distinct reply, not one per fingerprint.
    html = _render(FormatName.HTML, report, Detail.STANDARD)
    distinct = sum(len(evidence(d).replies) for d in report.devices)
    assert html.count('<pre class="raw">') == distinct


def test_detail_levels_in_html() -> None:
    report = sample_report()
    summary = _render(FormatName.HTML, report, Detail.SUMMARY)
    standard = _render(FormatName.HTML, report, Detail.STANDARD)
    full = _render(FormatName.HTML, report, Detail.FULL)
    # Page one is in every level; per-device evidence only from standard on.
    for html in (summary, standard, full):
        assert "What was audited" in html and "What to do first" in html
        assert "How sure we are" in html
    assert 'id="evidence"' not in summary and "<pre" not in summary
    assert 'id="evidence"' in standard
    # Standard collapses the raw replies; full opens them and lists every probe and reply.
    assert '<details class="raw">' in standard and '<details class="raw" open>' not in standard
    assert '<details class="raw" open>' in full
    assert "Other replies recorded" in full and "Other replies recorded" not in standard
    assert len(summary) < len(standard) < len(full)


def test_summary_does_not_grow_with_the_devices() -> None:
    report = sample_report()
    many = dataclasses.replace(
        report,
        devices=tuple(
            dataclasses.replace(
                report.devices[i % len(report.devices)],
                host=dataclasses.replace(
                    report.devices[i % len(report.devices)].host,
                    address=ipaddress.ip_address("10.100.0.1") + i,
                ),
            )
            for i in range(500)
        ),
    )
    small = _render(FormatName.HTML, report, Detail.SUMMARY)
    big = _render(FormatName.HTML, many, Detail.SUMMARY)
    # Counts change, not the length: no per-device row, no address list.
    assert len(big) < len(small) * 1.2
    assert "10.100.1.244" not in big
    assert "10.100.1.244" in _render(FormatName.HTML, many, Detail.STANDARD)


def test_top_actions_are_ranked_and_say_why_once() -> None:
    report = sample_report()
    s = summarise(report)
    assert [a.rank for a in s.actions] == list(range(1, len(s.actions) + 1))
    assert s.actions[0].action is RemediationAction.REPLACE
    console = _render(FormatName.CONSOLE, report, Detail.STANDARD)
    numbers = re.findall(r"^\s*(\d+)\.\s+\S", console.split("Top actions", 1)[1], re.M)
    assert numbers[: len(s.actions)] == [str(i) for i in range(1, len(s.actions) + 1)]
    md = _render(FormatName.MARKDOWN, report, Detail.STANDARD)
    block = md.split("## What to do first", 1)[1].split("##", 1)[0]
    assert [line.split(".", 1)[0] for line in block.strip().splitlines()] == [
        str(i) for i in range(1, len(s.actions) + 1)
    ]
    # A count and the top instrument, never the addresses (those are in the device tables).
    assert "10.20.0." not in block


def test_markdown_has_per_device_evidence_at_standard_and_full_only() -> None:
    report = sample_report()
    summary = _render(FormatName.MARKDOWN, report, Detail.SUMMARY)
    standard = _render(FormatName.MARKDOWN, report, Detail.STANDARD)
    full = _render(FormatName.MARKDOWN, report, Detail.FULL)
    assert "## Evidence per device" not in summary
    assert "## Evidence per device" in standard and "## Evidence per device" in full
    assert "isapi.std-cgi" in standard
    # The full level prints the raw reply (fenced); standard only how it starts.
    assert "<systemContact>STD-CGI</systemContact>" in full
    assert "<systemContact>STD-CGI</systemContact>" not in standard


def test_a_reply_cannot_close_the_markdown_fence() -> None:
    report, device, link = _twice_matched()
    sneaky = dataclasses.replace(link.observation, value="```\n# injected heading\n```")
    links = tuple(
        dataclasses.replace(x, observation=sneaky) if x.observation == link.observation else x
        for x in device.identification.evidence
    )
    ident = dataclasses.replace(device.identification, evidence=links)
    report = dataclasses.replace(
        report,
        devices=(dataclasses.replace(device, identification=ident), *report.devices[1:]),
    )
    md = _render(FormatName.MARKDOWN, report, Detail.FULL)
    assert "````\n```\n# injected heading\n```\n````" in md


@pytest.mark.parametrize("detail", [Detail.SUMMARY, Detail.STANDARD])
def test_console_fits_80_columns_without_splitting_an_address_or_an_id(detail: Detail) -> None:
    report = sample_report()
    text = _render(FormatName.CONSOLE, report, detail, width=80)
    assert max(len(line) for line in text.splitlines()) <= 80
    if detail is Detail.STANDARD:
        for d in report.devices:
            assert re.search(rf"(^|\s){re.escape(str(d.host.address))}\*?(\s|$)", text, re.M), (
                d.host.address
            )
        # The exposures column: a count and the top instrument id, whole.
        assert re.search(r"\b3 us-ndaa-889\b", text)
        assert "us-ndaa-889," not in text  # not a list of ids that wraps


def test_console_detail_levels() -> None:
    report = sample_report()
    summary = _render(FormatName.CONSOLE, report, Detail.SUMMARY)
    standard = _render(FormatName.CONSOLE, report, Detail.STANDARD)
    full = _render(FormatName.CONSOLE, report, Detail.FULL, width=80)
    # Summary: counts per action and maker, no device rows.
    assert "Devices by action and maker" in summary and "10.20.0.11" not in summary
    assert "10.20.0.11" in standard and "Evidence per device" not in standard
    # Full: each device's replies, numbered, with the fingerprints that matched them.
    assert "Evidence per device" in full
    assert re.search(r"^\s*2\.\s+isapi\.device_info:80\s+isapi\.std-cgi\s*$", full, re.M)
    assert max(len(line) for line in full.splitlines()) <= 80


def test_json_summary_lists_the_ranked_actions_for_pipelines() -> None:
    doc = json.loads(renderer(FormatName.JSON).render(sample_report()))
    actions = doc["summary"]["actions"]
    assert [a["rank"] for a in actions] == list(range(1, len(actions) + 1))
    assert actions[0] == {
        "rank": 1,
        "action": "replace",
        "priority": 1,
        "devices": 2,
        "makers": {"Dahua": 1, "Hikvision": 1},
        "top_instrument": "us-ndaa-889",
        "advice": "Covered under NDAA section 889 for a federal contractor",
    }


def test_the_same_reply_on_two_ports_is_one_row_with_both() -> None:
    report = sample_report()
    device = report.devices[0]
    first = device.identification.evidence[0]  # http.server "App-webs/" on port 80
    on_443 = dataclasses.replace(first.observation, source="http:443", port=443)
    ident = dataclasses.replace(
        device.identification,
        evidence=(*device.identification.evidence, dataclasses.replace(first, observation=on_443)),
    )
    device = dataclasses.replace(device, identification=ident)
    ev = evidence(device)
    (reply,) = [r for r in ev.replies if r.observation.value == "App-webs/"]
    assert reply.where == ":80, :443"
    assert {o.sha256 for o in reply.seen} == {first.observation.sha256, on_443.sha256}
    html = _render(
        FormatName.HTML,
        dataclasses.replace(report, devices=(device, *report.devices[1:])),
        Detail.FULL,
    )
    assert html.count(on_443.sha256) == 1 and html.count(first.observation.sha256) == 1
