"""The plain-language wording every format shares (statuses, reasons, the disclaimer)."""

from __future__ import annotations

from auditor.models import ExposureStatus, Reason

DISCLAIMER = (
    "This report is not legal advice. It records what camaudit observed on the network and how "
    "the listed public instruments read against it, as of the data versions shown. Confirm "
    "coverage, ownership and use with counsel before acting on it."
)


REASON_TEXT = {
    Reason.TIMEOUT: "no answer in time",
    Reason.REFUSED: "connection refused",
    Reason.UNREACHABLE: "unreachable",
    Reason.RESET: "connection reset",
    Reason.TLS_ERROR: "TLS handshake failed",
    Reason.AUTH_REQUIRED: "needs credentials",
    Reason.AUTH_FAILED: "credentials refused",
    Reason.MALFORMED: "malformed reply",
    Reason.TOO_LARGE: "reply too large",
    Reason.OUT_OF_SCOPE: "pointed outside the scope",
    Reason.BUG: "internal error",
    Reason.NO_CREDENTIALS: "no credentials given",
    Reason.NO_SERVICE: "service not present",
    Reason.NOT_APPLICABLE: "not applicable",
    Reason.INTERRUPTED: "audit interrupted",
    Reason.DISABLED: "disabled",
    Reason.WITHHELD: "credentials withheld",
}


def status_text(status: ExposureStatus) -> str:
    return ExposureStatus(status).label


def reason_text(reason: Reason | None) -> str:
    return "" if reason is None else REASON_TEXT[reason]
