"""Identification of every emulated lab device, from observations gathered over real sockets.

The full pipeline runs against the loopback lab (real HTTP/RTSP/ONVIF/SADP/DHIP peers on
127.x addresses) and each device's identification is scored against the lab's ground truth.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.credentials import Credential, CredentialStore, Secret
from auditor.engine import AuditConfig, Auditor
from auditor.lab import LoopbackSite, load_profiles
from auditor.models import AuditReport, DeviceType

pytestmark = pytest.mark.nmap


@pytest.fixture(scope="module")
def lab_audit(tmp_path_factory: pytest.TempPathFactory) -> tuple[AuditReport, tuple]:  # type: ignore[type-arg]
    with LoopbackSite(sorted(load_profiles())) as site:
        user, password = site.credentials
        config = AuditConfig(
            targets=site.targets,
            db_path=Path(tmp_path_factory.mktemp("identify-lab")) / "audit.db",
            site="identify-lab",
            ports=site.port_plan,
            timeout=2.0,
            credentials=CredentialStore(
                default=Credential(user, Secret(password)),
                # The site's SNMP community, given like a user's: SNMP-only devices answer it.
                snmp_default=Secret(site.snmp_community),
            ),
            multicast=False,
            snmp_port=site.snmp_port,
        )
        return Auditor(config).run(), site.truth


def test_every_lab_device_gets_its_true_maker_brand_and_relabel(lab_audit) -> None:  # type: ignore[no-untyped-def]
    report, truth = lab_audit
    by_addr = {str(d.host.address): d for d in report.devices}
    wrong = []
    for t in truth:
        device = by_addr.get(str(t.address))
        if device is None:
            if t.manufacturer is not None:
                wrong.append((t.profile, "not found"))
            continue
        ident = device.identification
        video = ident.device_type.is_video
        if DeviceType(t.device_type).is_video:
            if ident.manufacturer != t.manufacturer:
                wrong.append((t.profile, f"maker {ident.manufacturer} != {t.manufacturer}"))
            if ident.oem_relabel != t.oem_relabel:
                wrong.append((t.profile, f"relabel {ident.oem_relabel} != {t.oem_relabel}"))
            if t.manufacturer is None and not video:
                wrong.append((t.profile, "an unknown-maker camera must still be called a camera"))
        elif video:
            wrong.append((t.profile, f"a {t.device_type} called {ident.device_type.value}"))
        if ident.manufacturer and not ident.evidence:
            wrong.append((t.profile, "named a maker without evidence"))
    assert not wrong, wrong


def test_relabels_name_the_presented_brand(lab_audit) -> None:  # type: ignore[no-untyped-def]
    report, truth = lab_audit
    by_addr = {str(d.host.address): d for d in report.devices}
    for t in truth:
        if t.oem_relabel:
            ident = by_addr[str(t.address)].identification
            assert ident.brand and ident.brand.casefold() == t.brand.casefold(), (
                t.profile,
                ident.brand,
            )
            assert any("relabel" in r or "usually made by" in r for r in ident.rationale)
