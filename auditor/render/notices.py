"""The notices every format carries near its top: not legal advice, the data's as-of date, and
stale or missing data with the command that updates it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from auditor.models import AuditReport, DataVersion
from auditor.render.wording import DISCLAIMER

DATA_UPDATE = "camaudit data update BUNDLE"
LISTS_UPDATE = "camaudit lists import FILE --kind KIND"
VULNS_UPDATE = "camaudit data import-kev FILE (and import-cve FILE)"


@dataclass(frozen=True, slots=True)
class Notice:
    """One line every format shows near its top, in the form the format allows."""

    kind: str
    """"legal", "data", "stale", "lists" (no official list) or "not-applied"."""
    text: str
    as_of: date | None = None


def _data_version(report: AuditReport) -> DataVersion | None:
    by_name = {v.name: v for v in report.audit.data_versions}
    for name in ("data bundle", "regulatory data", "regulatory"):
        if name in by_name:
            return by_name[name]
    return None


def notices(report: AuditReport) -> tuple[Notice, ...]:
    """The not-legal-advice note, the data in use with its as-of date, and every warning."""
    out = [Notice("legal", DISCLAIMER)]
    data = _data_version(report)
    if data is None:
        out.append(Notice("data", "Data: the data versions were not recorded with this audit."))
    else:
        as_of = data.as_of.isoformat() if data.as_of else "an unknown date"
        # The bundle's version already says what it is ("bundle 2026.12.0 (...)", "shipped...").
        what = data.version if data.name == "data bundle" else f"{data.name} {data.version}"
        out.append(Notice("data", f"Data: {what}, as of {as_of}.", data.as_of))
    bundle_stale = data is not None and data.name == "data bundle" and data.stale
    for v in report.audit.data_versions:
        if not v.stale or (bundle_stale and v.name in ("regulatory data", "regulatory")):
            continue
        command = (
            LISTS_UPDATE
            if v.name.startswith("list ")
            else VULNS_UPDATE
            if v.name.startswith("vulnerability data")
            else DATA_UPDATE
        )
        when = v.as_of.isoformat() if v.as_of else "an unknown date"
        out.append(
            Notice(
                "stale",
                f"STALE DATA: {v.name} is as of {when}, older than its review limit. Update it "
                f"with `{command}`, then run `camaudit report` again before relying on this "
                "report.",
                v.as_of,
            )
        )
    for note in report.notes:
        if note.startswith("No official list imported"):
            out.append(Notice("lists", note))
        elif note.startswith("As recorded on"):
            out.append(Notice("not-applied", note))
    return tuple(out)
