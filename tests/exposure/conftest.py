"""Fixtures for the exposure tests: hand-built identifications and a dated assessor."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from auditor.exposure import Assessor
from auditor.models import (
    Component,
    DeviceType,
    EvidenceLink,
    FingerprintId,
    Identification,
    Observation,
    ObservationKind,
)

ASSETS = Path(__file__).parent / "assets"
#: The day the reviewed data was last reviewed; golden results are pinned to it.
TODAY = date(2026, 12, 4)


def evidence(vendor: str = "test") -> tuple[EvidenceLink, ...]:
    obs = Observation(
        ObservationKind.HTTP_SERVER, "hand-built", "test", datetime(2026, 11, 1, tzinfo=UTC)
    )
    return (
        EvidenceLink(
            obs, FingerprintId("test.dummy"), "dummy evidence", (("hw.vendor", vendor),), 0.9
        ),
    )


def ident(
    manufacturer: str | None,
    brand: str | None = None,
    device_type: DeviceType = DeviceType.IP_CAMERA,
    components: tuple[tuple[str, str, str | None], ...] = (),
    **kw: Any,
) -> Identification:
    ev = evidence(manufacturer or "unknown")
    return Identification(
        manufacturer=manufacturer,
        brand=brand,
        device_type=device_type,
        confidence=kw.pop("confidence", 0.9 if manufacturer else 0.0),
        evidence=ev,
        components=tuple(Component(k, v, m, ev) for k, v, m in components),
        **kw,
    )


@pytest.fixture
def make_ident() -> Callable[..., Identification]:
    return ident


@pytest.fixture
def assessor() -> Assessor:
    return Assessor.load(None, today=TODAY)


@pytest.fixture
def assets() -> Path:
    return ASSETS
