"""Exit codes, in one place (documented in the README and `camaudit --help`)."""

from __future__ import annotations

from enum import IntEnum


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
