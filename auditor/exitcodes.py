"""Exit codes, in one place (documented in the README and `camaudit --help`)."""

from __future__ import annotations

from enum import IntEnum

from auditor.models import AuditReport, Severity


class ExitCode(IntEnum):
    CLEAN = 0
    """The audit completed and no exposure reached --fail-on."""
    EXPOSURE_FOUND = 1
    """At least one exposure at or above --fail-on."""
    USAGE_ERROR = 2
    """Bad arguments, bad configuration, or a command that is not built yet."""
    INCOMPLETE = 3
    """Nothing over the threshold, but some hosts could not be fully probed."""
    INTERRUPTED = 130
    """Stopped by SIGINT/SIGTERM; what was done is in the store, `scan --resume` finishes it."""


def exit_code_for(report: AuditReport, fail_on: Severity, *, exit_zero: bool = False) -> ExitCode:
    """The exit code of a finished audit: exposure first, then completeness."""
    if exit_zero:
        return ExitCode.CLEAN
    if any(d.max_severity >= fail_on for d in report.devices):
        return ExitCode.EXPOSURE_FOUND
    if report.incomplete or report.discovery_incomplete:
        return ExitCode.INCOMPLETE
    return ExitCode.CLEAN
