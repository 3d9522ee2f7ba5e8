"""Log records reach a terminal: device text in them is made inert like the console report's.

Discovery and probes log what devices said (an SSDP LOCATION that could not be fetched, a reply
that was refused); at ``-v`` those messages went to stderr raw, terminal escapes included
(issue 13). The filter renders each record's message once, through the same sanitiser as the
console report, and folds any traceback in as text so it is sanitised too.
"""

from __future__ import annotations

import logging

from auditor.render.safe import clean


class SanitiseDeviceText(logging.Filter):
    """Replaces a record's message (and traceback) with its sanitised rendering."""

    def __init__(self) -> None:
        super().__init__()
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = f"{record.msg!r} {record.args!r}"
        if record.exc_info:
            message += "\n" + self._formatter.formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = None
        if record.stack_info:
            message += "\n" + record.stack_info
            record.stack_info = None
        record.msg = clean(message)
        record.args = None
        return True
