"""Device models against the CPE products NVD names (exact models and x-wildcard families)."""

from __future__ import annotations

import pytest

from auditor.vulns.cpe import Cpe, model_matches


def test_cpe_names_are_read_with_nvd_escapes() -> None:
    cpe = Cpe.parse(r"cpe:2.3:o:hikvision:ds-2cd2026g2-iu\/sl_firmware:-:*:*:*:*:*:*:*")
    assert cpe is not None
    assert (cpe.vendor, cpe.model, cpe.version) == ("hikvision", "ds-2cd2026g2-iu/sl", "-")
    assert Cpe.parse("not a cpe") is None


@pytest.mark.parametrize(
    ("product", "model", "expected"),
    [
        # Families from CVE-2021-33044/33045 (NVD): the x after letters is a form factor.
        ("ipc-hx3xxx", "IPC-HFW3441E-AS", "family"),
        ("ipc-hx3xxx", "IPC-HDBW3441E-AS", "family"),
        ("ipc-hx3xxx", "IPC-HFW1330S", None),  # a 1-series camera: the x never eats digits
        ("ipc-hx3xxx", "IPC-HFW2431S-S-S2", None),  # the lab's 2-series Dahua
        ("ipc-hum7xxx", "IPC-HUM7441", "family"),
        ("nvr-4xxx", "DHI-NVR4108HS-8P-4KS2", "family"),  # Dahua's DHI- sales prefix dropped
        ("nvr-4xxx", "NVR5216-4KS2", None),
        ("xvr-4x04", "XVR4104HS", "family"),
        ("xvr-4x04", "XVR5104", None),
        ("vth-542xh", "VTH5421H", "family"),
        # Hikvision (CVE-2017-7921, CVE-2021-36260): exact names and optional parts.
        ("ds-2cd2412f-i(w)", "DS-2CD2412F-IW", "family"),
        ("ds-2cd2412f-i(w)", "DS-2CD2412F-I", "family"),
        ("ds-2cd2026g2-iu/sl", "DS-2CD2026G2-IU/SL", "exact"),
        ("ds-2cd2032-i", "DS-2CD2032-I", "exact"),
        ("ds-2cd2032-i", "DS-2CD2032-IW", None),
        ("ds-2cd2xx2f-i", "DS-2CD2032F-I", "family"),
        ("ds-2cd2xx2f-i", "DS-2CD2143G2-I", None),  # the lab's Hikvision camera
    ],
)
def test_models_match_exactly_or_by_family(product: str, model: str, expected: str | None) -> None:
    assert model_matches(product, model) == expected
