"""The exception tree. Each error renders as one clear line for the user; no traceback unless -v."""

from __future__ import annotations

from pathlib import Path


class CamauditError(Exception):
    """Base of every error the CLI reports as a single line (exit code 2 unless said otherwise)."""


class UsageError(CamauditError):
    """Wrong command-line arguments or a combination that cannot work."""


class ConfigError(CamauditError):
    """A configuration problem: missing tool, refused credentials file, unwritable path."""


class NotBuiltError(CamauditError):
    """A command or format that is part of the contract but not implemented yet."""


class ScopeError(UsageError):
    """A target or exclusion that cannot be parsed, or a scope that needs an explicit flag."""


class DataFileError(CamauditError):
    """A malformed input file; names the file and, where known, the line."""

    def __init__(self, path: Path | str, message: str, line: int | None = None) -> None:
        self.path = Path(path)
        self.line = line
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        super().__init__(f"{where}: {message}")


class StoreError(CamauditError):
    """The audit store could not be read or written (the store itself stays consistent)."""


class ProbeError(Exception):
    """Raised inside a probe for an expected network or protocol failure.

    The engine turns it into a FAILED ProbeAttempt with ``reason``; any other exception becomes
    Reason.BUG. Messages must never contain credentials.
    """

    def __init__(self, reason: object, detail: str) -> None:
        from auditor.models import Reason

        if not isinstance(reason, Reason):
            raise TypeError("ProbeError needs a models.Reason")
        self.reason: Reason = reason
        self.detail = detail
        super().__init__(f"{reason.value}: {detail}")


class ProbeNotRun(Exception):
    """Raised inside a probe that decides not to run (no credentials, no applicable service)."""

    def __init__(self, reason: object, detail: str) -> None:
        from auditor.models import Reason

        if not isinstance(reason, Reason) or reason.is_failure:
            raise TypeError("ProbeNotRun needs a not-run models.Reason")
        self.reason: Reason = reason
        self.detail = detail
        super().__init__(f"{reason.value}: {detail}")
