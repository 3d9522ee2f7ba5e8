"""An uncertain "not listed" that still carries a severity is shown for review, never as clean."""

from __future__ import annotations

import ipaddress

from auditor.models import (
    DeviceResult,
    Exposure,
    ExposureStatus,
    Host,
    InstrumentId,
    Severity,
)
from auditor.render.verdicts import is_clean, needs_review, not_listed, reaching


def _exposure(uncertain: bool, severity: Severity) -> Exposure:
    return Exposure(
        InstrumentId("us-tx-prohibited"),
        "Texas prohibited technologies",
        "US-TX",
        ExposureStatus.NOT_LISTED,
        severity,
        "not confirmed either way",
        "Texas agencies",
        "https://dir.texas.gov/",
        uncertain=uncertain,
    )


def test_uncertain_not_listed_with_severity_needs_review() -> None:
    unsure = _exposure(True, Severity.MEDIUM)
    device = DeviceResult(Host(ipaddress.ip_address("192.0.2.1")), exposures=(unsure,))
    assert not is_clean(unsure)
    assert reaching(device) == (unsure,) and not not_listed(device)
    assert needs_review(device)


def test_certain_or_harmless_not_listed_is_clean() -> None:
    for e in (
        _exposure(False, Severity.MEDIUM),
        _exposure(True, Severity.NONE),
        _exposure(True, Severity.INFO),
    ):
        assert is_clean(e)
