"""Probe attempts: what one probe did against one host (completed, failed or not run) and why."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from auditor.models.observations import Observation


class Outcome(StrEnum):
    COMPLETED = "completed"
    FAILED = "failed"
    NOT_RUN = "not_run"


class Reason(StrEnum):
    """Why a probe failed or did not run; the report shows it for incomplete hosts."""

    # failed
    TIMEOUT = "timeout"
    REFUSED = "refused"
    UNREACHABLE = "unreachable"
    RESET = "reset"
    TLS_ERROR = "tls_error"
    AUTH_REQUIRED = "auth_required"
    AUTH_FAILED = "auth_failed"
    MALFORMED = "malformed"
    TOO_LARGE = "too_large"
    OUT_OF_SCOPE = "out_of_scope"
    BUG = "bug"
    # not run
    NO_CREDENTIALS = "no_credentials"
    NO_SERVICE = "no_service"
    NOT_APPLICABLE = "not_applicable"
    INTERRUPTED = "interrupted"
    DISABLED = "disabled"
    WITHHELD = "credentials_withheld"
    """The device asked for credentials and camaudit did not send them (already refused by this
    device, or HTTP Basic over plain HTTP not allowed for the target)."""

    @property
    def is_failure(self) -> bool:
        return self not in _NOT_RUN_REASONS

    @property
    def proves_answer(self) -> bool:
        """Something at the address answered (a refusal is an answer too)."""
        return self in _ANSWER_REASONS


#: Failures that prove something at the address answered (a refusal is an answer too).
_ANSWER_REASONS = frozenset(
    {
        Reason.REFUSED,
        Reason.RESET,
        Reason.TLS_ERROR,
        Reason.AUTH_REQUIRED,
        Reason.AUTH_FAILED,
        Reason.MALFORMED,
        Reason.TOO_LARGE,
    }
)

_NOT_RUN_REASONS = frozenset(
    {
        Reason.NO_CREDENTIALS,
        Reason.NO_SERVICE,
        Reason.NOT_APPLICABLE,
        Reason.INTERRUPTED,
        Reason.DISABLED,
        Reason.WITHHELD,
    }
)


@dataclass(frozen=True, slots=True)
class ProbeAttempt:
    """What one probe did against one host: completed, failed with a reason, or not run."""

    probe: str
    outcome: Outcome
    observations: tuple[Observation, ...] = ()
    reason: Reason | None = None
    detail: str = ""
    """Human-readable context for the reason, e.g. ``"no reply on 554/tcp within 3.0 s"``."""
    duration_s: float = 0.0

    def __post_init__(self) -> None:
        if self.outcome is Outcome.COMPLETED and self.reason is not None:
            raise ValueError("a completed attempt carries no failure reason")
        if self.outcome is not Outcome.COMPLETED and self.reason is None:
            raise ValueError(f"a {self.outcome.value} attempt must say why")
        if (
            self.outcome is Outcome.FAILED
            and self.reason is not None
            and not self.reason.is_failure
        ):
            raise ValueError(f"{self.reason.value} is a not-run reason, not a failure")
        if self.outcome is Outcome.NOT_RUN and self.reason is not None and self.reason.is_failure:
            raise ValueError(f"{self.reason.value} is a failure, not a not-run reason")
        if self.outcome is Outcome.NOT_RUN and self.observations:
            raise ValueError("a probe that did not run observed nothing")
