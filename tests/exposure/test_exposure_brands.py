"""The brand hint of an unidentified device comes from the same, strictly read brands.yaml that
identification uses: a row with a missing field is an error naming it, never "of None"."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.errors import DataFileError
from auditor.exposure import Assessor
from auditor.exposure.assess import UNKNOWN_INSTRUMENT
from auditor.exposure.brands import load_brand_table
from auditor.identify import Identifier
from auditor.models import Audience, DeviceType
from auditor.resources import fingerprints_dir
from tests.exposure.conftest import ident

SHIPPED = (fingerprints_dir() / "brands.yaml").read_text(encoding="utf-8")


def _unknown_effect(assessor: Assessor, brand: str) -> str:
    device = ident(None, brand=brand, device_type=DeviceType.IP_CAMERA)
    result = assessor.assess(device, Audience.GENERIC)
    (unknown,) = [e for e in result.exposures if e.instrument == UNKNOWN_INSTRUMENT]
    return unknown.effect


def test_an_unidentified_device_of_a_known_brand_names_the_makers_row(assessor: Assessor) -> None:
    row = Identifier.default().data.brands.lookup("LT Security")  # an alias of LTS
    assert row is not None and row.manufacturer == "Hikvision"
    effect = _unknown_effect(assessor, "LT Security")
    assert (
        f"The brand 'LT Security' is reported as {row.relationship} of Hikvision "
        f"(confidence {row.confidence}; {row.source})."
    ) in effect


def test_an_unknown_brand_gets_no_hint(assessor: Assessor) -> None:
    assert "is reported as" not in _unknown_effect(assessor, "Nobody Cameras Ltd")


def test_a_brand_row_without_a_maker_is_refused_not_read_as_none(tmp_path: Path) -> None:
    head, tail = SHIPPED.split("  - brand: EZVIZ\n", 1)
    row, rest = tail.split("\n  - brand: ", 1)
    row = "\n".join(line for line in row.splitlines() if not line.startswith("    manufacturer:"))
    (tmp_path / "brands.yaml").write_text(
        f"{head}  - brand: EZVIZ\n{row}\n  - brand: {rest}", encoding="utf-8"
    )
    with pytest.raises(DataFileError, match=r"brand 'EZVIZ': 'manufacturer' must be text"):
        load_brand_table(tmp_path)
