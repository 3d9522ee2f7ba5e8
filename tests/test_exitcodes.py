"""Exit codes a pipeline can rely on: one registry, the help text and README from it, and an
incomplete audit only when a camera (or a possible camera) could not be fully probed."""

from __future__ import annotations

import argparse
import dataclasses
import re
from pathlib import Path

import pytest

from auditor.cli import app
from auditor.exitcodes import ExitCode, exit_code_for
from auditor.models import (
    AuditReport,
    DeviceResult,
    DeviceType,
    Identification,
    Outcome,
    ProbeAttempt,
    Reason,
    Severity,
)
from tests.render.camaudit_sample_audit import sample_report

README = Path(__file__).resolve().parent.parent / "README.md"


def test_help_lists_every_exit_code_from_the_registry(capsys: pytest.CaptureFixture[str]) -> None:
    assert app.main(["--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for code in ExitCode:
        assert f"{int(code)} {' '.join(code.meaning.split())}" in text
    assert "70 internal error" in text


def test_readme_documents_every_exit_code() -> None:
    section = README.read_text(encoding="utf-8").split("Exit codes:", 1)[1].split("\n\n", 1)[0]
    # "0 clean, 1 exposure ..., 130 interrupted": every code once, and no code that is gone.
    documented = [int(n) for n in re.findall(r"(?:^\s*|, )(\d+) [a-z]", section)]
    assert documented == [int(c) for c in ExitCode]


def test_an_unexpected_exception_is_an_internal_error_not_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A crash cannot be produced on purpose through a real command: a command that raises
    # stands in for a bug.
    def broken(args: argparse.Namespace) -> ExitCode:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr("auditor.cli.history.run_audits", broken)
    assert app.main(["audits"]) == ExitCode.INTERNAL_ERROR and ExitCode.INTERNAL_ERROR.value == 70
    assert "internal error" in capsys.readouterr().err


def _only(report: AuditReport, device: DeviceResult) -> AuditReport:
    return dataclasses.replace(report, devices=(device,))


def _as(device: DeviceResult, kind: DeviceType) -> DeviceResult:
    ident = dataclasses.replace(device.identification, device_type=kind)
    return dataclasses.replace(device, identification=ident, exposures=())


def test_incomplete_only_when_a_camera_or_possible_camera_was_not_fully_probed() -> None:
    report = sample_report()
    failed = next(d for d in report.devices if not d.complete)  # its probes timed out
    high = Severity.HIGH
    assert exit_code_for(_only(report, _as(failed, DeviceType.PRINTER)), high) is ExitCode.CLEAN
    assert exit_code_for(_only(report, _as(failed, DeviceType.ROUTER)), high) is ExitCode.CLEAN
    assert exit_code_for(_only(report, _as(failed, DeviceType.CAMERA)), high) == 3
    unknown = dataclasses.replace(failed, identification=Identification.unknown(), exposures=())
    assert exit_code_for(_only(report, unknown), high) == 3  # may be a camera


def test_fail_on_decides_before_completeness() -> None:
    report = sample_report()
    assert report.incomplete  # one camera timed out
    assert exit_code_for(report, Severity.HIGH) is ExitCode.EXPOSURE_FOUND
    assert exit_code_for(report, Severity.CRITICAL) is ExitCode.EXPOSURE_FOUND  # the 889 rows
    # Without exposures at HIGH or above, the timed-out camera makes the audit incomplete.
    calm = dataclasses.replace(
        report,
        devices=tuple(
            dataclasses.replace(
                d, exposures=tuple(e for e in d.exposures if e.severity < Severity.HIGH)
            )
            for d in report.devices
        ),
    )
    assert exit_code_for(calm, Severity.HIGH) is ExitCode.INCOMPLETE
    assert exit_code_for(calm, Severity.HIGH, exit_zero=True) is ExitCode.CLEAN


def _failed_with(device: DeviceResult, reason: Reason) -> DeviceResult:
    attempt = ProbeAttempt("onvif", Outcome.FAILED, reason=reason, detail="onvif:80 HTTP 401")
    return dataclasses.replace(_as(device, DeviceType.IP_CAMERA), attempts=(attempt,))


def test_refused_credentials_leave_a_camera_incomplete_but_not_a_router() -> None:
    report = sample_report()
    camera = report.devices[0]
    high = Severity.HIGH
    refused = _only(report, _failed_with(camera, Reason.AUTH_FAILED))  # the user's were refused
    assert exit_code_for(refused, high) is ExitCode.INCOMPLETE
    router = _as(_failed_with(camera, Reason.AUTH_FAILED), DeviceType.ROUTER)
    assert exit_code_for(_only(report, router), high) is ExitCode.CLEAN
