"""Exit codes, in one place: `camaudit --help` is generated from this registry, the README lists
the same codes (a test holds them together)."""

from __future__ import annotations

import textwrap
from enum import IntEnum

from auditor.models import AuditReport, DeviceResult, Severity


class ExitCode(IntEnum):
    CLEAN = 0
    EXPOSURE_FOUND = 1
    USAGE_ERROR = 2
    INCOMPLETE = 3
    INTERNAL_ERROR = 70
    INTERRUPTED = 130

    @property
    def meaning(self) -> str:
        """One line for `camaudit --help` and the README."""
        return _MEANINGS[self]


_MEANINGS = {
    ExitCode.CLEAN: "clean: nothing reached --fail-on and every camera was fully probed",
    ExitCode.EXPOSURE_FOUND: "an exposure or known flaw at or above --fail-on (diff: a new or "
    "worsened exposure)",
    ExitCode.USAGE_ERROR: "usage or configuration error (bad arguments, a missing store, ...)",
    ExitCode.INCOMPLETE: "incomplete: a probe of a camera (or of a device that may be one) "
    "failed, credentials it refused included, or a discovery channel failed (printers and "
    "routers do not count); identify: an input line could not be read",
    # sysexits(3) EX_SOFTWARE, "an internal software error has been detected": a pipeline can
    # tell a camaudit bug from a bad command line (2) and retry or report it.
    ExitCode.INTERNAL_ERROR: "internal error (a camaudit bug: please report it, with -v)",
    ExitCode.INTERRUPTED: "interrupted (camaudit scan --resume AUDIT finishes it)",
}


def help_text() -> str:
    """The exit-code table of `camaudit --help`, generated from the registry above."""
    width = max(len(str(int(c))) for c in ExitCode)
    lines = [
        textwrap.fill(
            c.meaning,
            88,
            initial_indent=f"  {int(c):>{width}}  ",
            subsequent_indent=" " * (width + 4),
        )
        for c in ExitCode
    ]
    return "exit codes:\n" + "\n".join(lines)


def incomplete_cameras(report: AuditReport) -> tuple[DeviceResult, ...]:
    """The devices that make an audit incomplete: those that are, or may be, cameras with a
    failed probe (``DeviceResult.complete``; a printer whose web server timed out is in the
    report but cannot hide a camera)."""
    return report.incomplete


def is_incomplete(report: AuditReport) -> bool:
    return bool(incomplete_cameras(report)) or report.discovery_incomplete


def why_incomplete(report: AuditReport) -> tuple[str, ...]:
    """Plain reasons an audit is incomplete (empty when it is not), for `diff` and pipelines."""
    reasons = []
    cameras = incomplete_cameras(report)
    if cameras:
        shown = ", ".join(str(d.host.address) for d in cameras[:5])
        more = f" and {len(cameras) - 5} more" if len(cameras) > 5 else ""
        reasons.append(
            f"{len(cameras)} camera(s) or possible camera(s) not fully probed: {shown}{more}"
        )
    reasons += [f"discovery channel {f.channel} failed" for f in report.audit.channel_failures]
    if report.audit.finished is None:
        reasons.append("the audit was interrupted")
    return tuple(reasons)


def exit_code_for(report: AuditReport, fail_on: Severity, *, exit_zero: bool = False) -> ExitCode:
    """The exit code of a finished audit: --fail-on first, then completeness."""
    if exit_zero:
        return ExitCode.CLEAN
    if any(d.max_severity >= fail_on for d in report.devices):
        return ExitCode.EXPOSURE_FOUND
    if is_incomplete(report):
        return ExitCode.INCOMPLETE
    return ExitCode.CLEAN
