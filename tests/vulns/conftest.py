"""Shared fixtures: the real KEV and CVE excerpts (assets/README.md says where each comes from)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from auditor import resources
from auditor.models import (
    DeviceType,
    EvidenceLink,
    FingerprintId,
    Identification,
    Observation,
    ObservationKind,
)
from auditor.vulns import import_cve, import_kev

ASSETS = Path(__file__).parent / "assets"
NVD = sorted((ASSETS / "nvd").glob("*.json"))
CVE5 = sorted((ASSETS / "cvelist5").glob("*.json"))


@pytest.fixture
def data_root(tmp_path: Path) -> Iterator[Path]:
    """A data folder holding the KEV excerpt and every CVE excerpt, in use by this process."""
    root = tmp_path / "data"
    import_kev(root, ASSETS / "kev-excerpt.json")
    import_cve(root, [*NVD, *CVE5])
    resources.use_data_root(root)
    yield root
    resources.use_data_root(None)


def ident(
    maker: str | None,
    brand: str | None,
    model: str | None,
    firmware: str | None,
    *,
    relabel: bool = False,
    device_type: DeviceType = DeviceType.IP_CAMERA,
) -> Identification:
    obs = Observation(
        ObservationKind.HTTP_SERVER, "test", "http:80", datetime(2026, 1, 1, tzinfo=UTC)
    )
    link = EvidenceLink(obs, FingerprintId("test"), "test evidence", (), 0.9)
    return Identification(
        manufacturer=maker,
        brand=brand,
        model=model,
        firmware=firmware,
        device_type=device_type,
        confidence=0.9 if maker else 0.0,
        evidence=(link,),
        oem_relabel=relabel,
    )
