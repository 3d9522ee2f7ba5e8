"""One vocabulary of device types (issue 15): defined once in auditor.models.DeviceType, used by
fingerprints (old words normalised at parse time), the store, every report and the JSON schema."""

from __future__ import annotations

import json

from auditor.identify import load_data
from auditor.identify.db import parse_file
from auditor.models import DeviceType, ExposureStatus, Outcome, RemediationAction
from auditor.render import FormatName, renderer
from auditor.resources import reports_dir
from tests.render.camaudit_sample_audit import sample_report

_FILE = """\
matches: dhip.reply
preference: 0.8
description: test
fingerprints:
- id: old-word
  description: a video device of unknown role, in the deprecated word
  pattern: '^x$'
  weight: 0.5
  assert: {hw.vendor: Dahua, hw.device: camera}
  source: test
- id: canonical-word
  description: the canonical word
  pattern: '^y$'
  weight: 0.5
  assert: {hw.vendor: Dahua, hw.device: video_device}
  source: test
"""


def test_the_deprecated_word_camera_means_a_video_device_of_unknown_role() -> None:
    assert DeviceType("camera") is DeviceType.VIDEO_DEVICE
    assert DeviceType("ip_camera") is DeviceType.IP_CAMERA
    assert "camera" not in {t.value for t in DeviceType}
    ff = parse_file(_FILE, "test.yaml")
    assert [fp.asserts["hw.device"] for fp in ff.fingerprints] == ["video_device", "video_device"]


def test_shipped_fingerprints_assert_only_canonical_types() -> None:
    canonical = {t.value for t in DeviceType}
    used = {
        fp.asserts["hw.device"] for fp in load_data().db.fingerprints if "hw.device" in fp.asserts
    }
    assert used <= canonical, used - canonical
    assert "video_device" in used and "ip_camera" in used


def test_the_json_schema_lists_exactly_the_models_words() -> None:
    schema = json.loads(
        (reports_dir() / "schema" / "camaudit-report-1.schema.json").read_text(encoding="utf-8")
    )
    device = schema["$defs"]["device"]["properties"]
    assert set(device["device_type"]["enum"]) == {t.value for t in DeviceType}
    exposure = schema["$defs"]["exposure"]["properties"]
    assert set(exposure["status"]["enum"]) == {s.value for s in ExposureStatus}
    probe = device["probes"]["items"]["properties"]
    assert set(probe["outcome"]["enum"]) == {o.value for o in Outcome}
    action = device["remediation"]["oneOf"][0]["properties"]
    assert set(action["action"]["enum"]) == {a.value for a in RemediationAction}


def test_reports_use_only_canonical_words() -> None:
    report = sample_report()
    doc = json.loads(renderer(FormatName.JSON).render(report))
    assert {d["device_type"] for d in doc["devices"]} <= {t.value for t in DeviceType}
    html = renderer(FormatName.HTML).render(report).decode()
    assert "video device (role unknown)" in html
    assert ">camera<" not in html
