"""The one calendar the CLI reads for data-age checks, so that a run can be pinned to a day.

Every stale-data warning depends on "today". The library takes ``today`` as an argument
(``Assessor.load(today=...)``); the command line asks this module, which honours
``CAMAUDIT_TODAY=YYYY-MM-DD`` so that a report re-rendered later can be reproduced exactly, and so
that tests never depend on the day they run.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime

from auditor.errors import UsageError

TODAY_ENV = "CAMAUDIT_TODAY"


def today() -> date:
    """The pinned day from ``CAMAUDIT_TODAY``, else today's UTC date."""
    pinned = os.environ.get(TODAY_ENV, "").strip()
    if not pinned:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(pinned)
    except ValueError:
        raise UsageError(f"{TODAY_ENV}={pinned!r} is not a date (YYYY-MM-DD)") from None
