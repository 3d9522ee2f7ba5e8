"""The plain-language wording every format shares (statuses, reasons, the disclaimer)."""

from __future__ import annotations

import re
from datetime import date

from auditor.models import AuditInfo, DeviceType, ExposureStatus, Reason

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


def status_text(status: ExposureStatus | str) -> str:
    return ExposureStatus(status).label


def status_short(status: ExposureStatus | str) -> str:
    return ExposureStatus(status).short_label


def reason_text(reason: Reason | None) -> str:
    return "" if reason is None else REASON_TEXT[reason]


def type_label(device_type: DeviceType) -> str:
    """The one reader-facing word for a device type (the JSON keeps the canonical value)."""
    return DeviceType(device_type).label


def age_text(as_of: date, at: date) -> str:
    """How old a data set was on the audit's day (fixed by the audit, never by today)."""
    days = (at - as_of).days
    if days < 0:
        return "newer than the audit"
    if days == 0:
        return "current"
    if days < 60:
        return f"{days} day{'s' if days != 1 else ''} old"
    return f"{days // 30} months old"


def elapsed_text(info: AuditInfo) -> str:
    if info.finished is None:
        return "interrupted"
    seconds = int((info.finished - info.started).total_seconds())
    if seconds < 60:
        return f"took {seconds} s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"took {minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"took {hours} h {minutes:02d} min"


def scope_text(info: AuditInfo, shown: int = 4) -> str:
    """The scope in one line: the first few targets and how many more, ports and exclusions."""
    targets = list(info.targets)
    text = ", ".join(targets[:shown]) if targets else "no targets recorded"
    if len(targets) > shown:
        text += f" and {len(targets) - shown} more"
    if info.excludes:
        text += f"; {len(info.excludes)} exclusion{'s' if len(info.excludes) != 1 else ''}"
    if info.ports:
        text += f"; {len(info.ports)} TCP port{'s' if len(info.ports) != 1 else ''}"
    return text


def first_sentence(text: str) -> str:
    """A long legal effect cut to its first sentence (full detail shows all of it)."""
    head, sep, _rest = text.partition(". ")
    return head + "." if sep else text


_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>\s*")


def first_line(text: str, limit: int = 100) -> str:
    """A reply's first non-empty line, short: the summary of a collapsed raw reply.

    An XML declaration says nothing about the device, so the summary starts after it.
    """
    for line in _XML_DECLARATION.sub("", text, count=1).splitlines():
        if line.strip():
            return line.strip()[:limit] + ("…" if len(line.strip()) > limit else "")
    return ""
