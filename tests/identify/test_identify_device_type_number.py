"""A numeric magicBox deviceType (a device class, e.g. 31 on recorders) is not taken as a model."""

from __future__ import annotations

from datetime import UTC, datetime

from auditor.identify import Identifier
from auditor.models import Identification, Observation, ObservationKind


def _identify(value: str) -> Identification:
    obs = Observation(ObservationKind.DAHUA_SYSTEM_INFO, value, "dahua:80", datetime.now(UTC))
    return Identifier.default().identify([obs])


def test_numeric_device_type_is_not_a_model() -> None:
    ident = _identify("deviceType=31\nupdateSerial=DHI-NVR4108HS-8P-4KS2\n")
    assert ident.manufacturer == "Dahua"
    assert ident.model != "31"


def test_marketed_device_type_is_the_model() -> None:
    assert _identify("deviceType=IP4M-1041B\n").model == "IP4M-1041B"
