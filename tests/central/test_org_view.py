"""The organisation view (`report --all-sites` on a central store, `report --site`): counts from
SQL that agree with the audits themselves, on both engines; and the pushed audits read back
whole for `audits`, `report AUDIT` and `diff`."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from auditor.cli.app import main
from auditor.models import AuditId, AuditReport, Observation, ObservationKind, Severity
from auditor.store import Store
from tests.central.pg import replicate, save_report
from tests.render.camaudit_sample_audit import sample_report

pytestmark = pytest.mark.postgres

HOSTILE_SITE = "<script>alert('site')</script>\x1b[31mRed"


def _audits(tmp_path: Path) -> tuple[Path, list[AuditReport]]:
    """Three sites, audited two or three times each, sizes changing, in one local store."""
    base = sample_report()
    reports = []
    for s, (site, sizes) in enumerate(
        {"Berlin": (7, 9, 12), "Paris": (5, 4), HOSTILE_SITE: (3, 6)}.items()
    ):
        for n, size in enumerate(sizes):
            r = replicate(base, size, site=site, audit_id=f"2026120{n}-s{s}")
            when = base.audit.started + timedelta(days=30 * n)
            info = dataclasses.replace(r.audit, started=when, finished=when + timedelta(hours=1))
            reports.append(dataclasses.replace(r, audit=info))
    local = tmp_path / "all.db"
    for r in reports:
        save_report(local, r)
    return local, reports


def _expected(r: AuditReport) -> dict[str, object]:
    labels = [s.label for s in Severity if s > Severity.NONE]
    return {
        "audit": r.audit.id,
        "devices": len(r.devices),
        "video_devices": sum(d.identification.device_type.is_video for d in r.devices),
        "relabels": sum(d.identification.oem_relabel for d in r.devices),
        "exposures": {
            label: sum(e.severity.label == label for d in r.devices for e in d.exposures)
            for label in labels
        },
        "exposed_devices": sum(
            any(e.severity >= Severity.HIGH for e in d.exposures) for d in r.devices
        ),
        "incomplete": sum(not d.complete for d in r.devices),
    }


def _view(db: str, *extra: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    assert main(["report", *extra, "--db", db, "-f", "json", "-o", "-"]) == 0
    view: dict[str, Any] = json.loads(capsys.readouterr().out)
    return view


def _point_counts(point: dict[str, Any]) -> dict[str, object]:
    keys = ("audit", "devices", "video_devices", "relabels", "exposures", "exposed_devices")
    return {k: point[k] for k in (*keys, "incomplete")}


def test_all_sites_on_the_central_store_counts_what_the_audits_hold(
    central: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    local, reports = _audits(tmp_path)
    assert main(["push", "--to", central, "--db", str(local)]) == 0
    view = _view(central, "--all-sites", capsys=capsys)
    # A pipeline checks what it reads first, as with the device report and the diff.
    assert (view["schema_version"], view["kind"]) == ("1.0", "camaudit-organisation-view")
    sites = {s["site"]: s for s in view["sites"]}
    assert set(sites) == {"Berlin", "Paris", HOSTILE_SITE}
    for site, data in sites.items():
        own = sorted((r for r in reports if r.audit.site == site), key=lambda r: r.audit.started)
        assert [_point_counts(p) for p in data["trend"]] == [_expected(r) for r in own]
        assert _point_counts(data["latest"]) == _expected(own[-1])
    latest = [max((r for r in reports if r.audit.site == s), key=lambda r: r.audit.started)
              for s in sites]  # fmt: skip
    assert view["totals"]["devices"] == sum(len(r.devices) for r in latest)
    makers = {m["manufacturer"]: m["devices"] for m in view["makers"]}
    expected_makers: dict[str | None, int] = {}
    for r in latest:
        for d in r.devices:
            m = d.identification.manufacturer
            expected_makers[m] = expected_makers.get(m, 0) + 1
    assert makers == expected_makers

    # The same view from the local file (--site works on both engines).
    for site in sites:
        assert (
            _view(str(local), "--site", site, capsys=capsys)["sites"]
            == _view(central, "--site", site, capsys=capsys)["sites"]
        )


def test_the_html_view_escapes_site_names_and_shows_each_trend(
    central: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    local, _ = _audits(tmp_path)
    assert main(["push", "--to", central, "--db", str(local)]) == 0
    out = tmp_path / "org.html"
    assert main(["report", "--all-sites", "--db", central, "-f", "html", "-o", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert "\x1b" not in html
    assert "Trend per site" in html and html.count("<polyline") == 3
    for aid in ("20261200-s0", "20261201-s0", "20261202-s0", "20261201-s2"):
        assert aid in html


def test_the_view_refuses_device_formats_and_unknown_sites(
    central: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    local, _ = _audits(tmp_path)
    assert main(["push", "--to", central, "--db", str(local)]) == 0
    assert main(["report", "--all-sites", "--db", central, "-f", "csv"]) == 2
    assert "renders as console, json, markdown, html" in capsys.readouterr().err
    assert main(["report", "--site", "Nowhere", "--db", central]) == 2
    assert "no audits of site 'Nowhere'" in capsys.readouterr().err


def test_pushed_audits_read_back_whole_for_report_audits_and_diff(
    central: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = sample_report()
    odd = dataclasses.replace(
        base.devices[2],
        host=dataclasses.replace(
            base.devices[2].host,
            observations=(
                Observation(
                    ObservationKind.HTTP_SERVER, "nul\x00here \udcff lone", "http:80",
                    base.audit.started, 80,
                ),
            ),
        ),
    )  # fmt: skip
    first = dataclasses.replace(base, devices=(*base.devices[:2], odd, *base.devices[3:]))
    later = dataclasses.replace(
        first,
        audit=dataclasses.replace(
            first.audit,
            id=AuditId("20261221T090000Z-hq"),
            started=first.audit.started + timedelta(days=30),
            finished=first.audit.started + timedelta(days=30, hours=1),
        ),
        devices=first.devices[1:],
    )
    local = tmp_path / "hq.db"
    save_report(local, first)
    save_report(local, later)
    assert main(["push", "--to", central, "--db", str(local)]) == 0
    with Store(local, read_only=True) as here, Store(central, read_only=True) as there:
        for r in (first, later):
            assert there.load_report(r.audit.id) == here.load_report(r.audit.id)
    capsys.readouterr()
    assert main(["audits", "--db", central]) == 0
    listing = capsys.readouterr().out
    assert first.audit.id in listing and later.audit.id in listing
    diffs = []
    for db in (str(local), central):
        assert main(["diff", first.audit.id, later.audit.id, "--db", db, "-f", "json",
                     "--exit-zero"]) == 0  # fmt: skip
        diffs.append(json.loads(capsys.readouterr().out))
    assert diffs[0] == diffs[1] and diffs[0]["devices"]["gone"]
