"""Matching identifications to the real KEV and CVE excerpts: the lab's firmware strings, relabels
matched through their true maker, and "possibly affected" whenever the firmware cannot decide."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from auditor.lab.profiles import load_profiles
from auditor.models import Audience, Severity, VulnStatus
from auditor.vulns import VulnMatcher, load
from tests.vulns.conftest import ident

PROFILES = load_profiles()


def _findings(root: Path, identification, audience=Audience.GENERIC):  # type: ignore[no-untyped-def]
    return {f.cve: f for f in VulnMatcher(load(root)).match(identification, audience)}


def test_dahua_lab_firmware_is_affected_on_a_listed_family_and_not_once_fixed(
    data_root: Path,
) -> None:
    lab_fw = PROFILES["dahua-ipc"].firmware  # "2.800.0000000.16.R"
    old = _findings(data_root, ident("Dahua", "Dahua", "IPC-HFW3441E-AS", lab_fw))
    assert set(old) == {"CVE-2021-33044", "CVE-2021-33045"}
    f = old["CVE-2021-33044"]
    assert f.status is VulnStatus.AFFECTED and f.severity is Severity.HIGH
    assert f.kev and str(f.kev_added) == "2024-08-21" and str(f.kev_due) == "2024-09-11"
    assert f.fixed_version == "2.800.0000000.29.r.210630"
    assert (f.cvss_score, f.cvss_version, f.cvss_source) == (9.8, "3.1", "NVD")
    assert any("ipc-hx3xxx" in e and "product family" in e for e in f.evidence)
    assert f.source == "https://nvd.nist.gov/vuln/detail/CVE-2021-33044"
    # Remediation: the fixed firmware from the maker's own channel, with the maker's advisory.
    assert "2.800.0000000.29.r.210630 or later" in f.remediation
    assert "https://www.dahuasecurity.com/support/cybersecurity/details/957" in f.remediation
    assert "Dahua's own download channel" in f.remediation
    fixed = ident("Dahua", "Dahua", "IPC-HFW3441E-AS", "2.800.0000000.29.R, Build Date: 2021-07-01")
    assert _findings(data_root, fixed) == {}


def test_the_lab_dahua_2_series_is_not_in_the_records_family_list(data_root: Path) -> None:
    # CVE-2021-33044/33045 name IPC-HX3XXX, HX5XXX and HUM7XXX; the lab's IPC-HFW2431S is none.
    p = PROFILES["dahua-ipc"]
    assert _findings(data_root, ident("Dahua", "Dahua", p.model, p.firmware)) == {}


def test_a_recorder_matches_its_family_range(data_root: Path) -> None:
    # The lab's Lorex NVR runs Dahua 4.001.0000005.0 and leaks its Dahua model (profile source).
    fw = PROFILES["lorex-nvr"].firmware
    found = _findings(data_root, ident("Dahua", "Dahua", "DHI-NVR4108HS-8P-4KS2", fw))
    assert found["CVE-2021-33045"].status is VulnStatus.AFFECTED
    assert found["CVE-2021-33045"].fixed_version == "4.001.0000005.1.r.210713"


def test_a_relabel_is_matched_through_its_true_maker(data_root: Path) -> None:
    for profile_id in ("annke-ipc", "lts-ipc"):
        p = PROFILES[profile_id]
        assert p.manufacturer == "Hikvision" and p.oem_relabel
        found = _findings(data_root, ident("Hikvision", p.brand, p.model, p.firmware, relabel=True))
        f = found["CVE-2021-36260"]
        assert f.status is VulnStatus.POSSIBLY_AFFECTED  # the relabel's model is not a CPE
        assert f.matched_through == "Hikvision"
        assert f.evidence[0].startswith("matched through true maker Hikvision")
        assert f.kev and f.severity is Severity.MEDIUM
        assert p.brand is not None and f"{p.brand}'s support channel" in f.remediation
    # The same camera under its own maker's name and a model the record does not list: nothing.
    assert _findings(data_root, ident("Hikvision", "HIKVISION", "I81EM", "V5.7.0")) == {}


def test_a_brand_with_its_own_kev_entry_is_matched_on_the_brand_too(data_root: Path) -> None:
    p = PROFILES["amcrest-ipc"]
    found = _findings(data_root, ident("Dahua", p.brand, p.model, p.firmware, relabel=True))
    assert found["CVE-2020-5735"].status is VulnStatus.POSSIBLY_AFFECTED
    assert found["CVE-2020-5735"].matched_through == ""
    assert found["CVE-2021-33044"].matched_through == "Dahua"


def test_no_firmware_is_possibly_affected_never_affected(data_root: Path) -> None:
    found = _findings(data_root, ident("Dahua", "Dahua", "IPC-HFW3441E-AS", None))
    assert {f.status for f in found.values()} == {VulnStatus.POSSIBLY_AFFECTED}
    assert found["CVE-2021-33044"].reason == "firmware unknown"
    assert "firmware version not observed" in found["CVE-2021-33044"].evidence


def test_a_listed_hikvision_model_without_a_published_range_is_possibly_affected(
    data_root: Path,
) -> None:
    found = _findings(data_root, ident("Hikvision", "HIKVISION", "DS-2CD2046G2-IU/SL", "V5.5.0"))
    f = found["CVE-2021-36260"]
    assert f.status is VulnStatus.POSSIBLY_AFFECTED
    assert "publishes no affected version range" in f.reason


def test_undecidable_numbering_is_possibly_affected(data_root: Path) -> None:
    found = _findings(data_root, ident("Dahua", "Dahua", "IPC-HFW3441E-AS", "2.800.0000000.29.R"))
    assert found["CVE-2021-33044"].status is VulnStatus.POSSIBLY_AFFECTED
    assert "cannot be compared" in found["CVE-2021-33044"].reason


def test_federal_agencies_weigh_an_exploited_flaw_critical(data_root: Path) -> None:
    lab_fw = PROFILES["dahua-ipc"].firmware
    device = ident("Dahua", "Dahua", "IPC-HFW3441E-AS", lab_fw)
    found = _findings(data_root, device, Audience.US_FEDERAL_AGENCY)
    assert found["CVE-2021-33044"].severity is Severity.CRITICAL


def test_an_unknown_maker_is_never_matched(data_root: Path) -> None:
    assert _findings(data_root, ident(None, None, None, None)) == {}


def test_old_vulnerability_data_is_flagged_stale_with_the_command_that_updates_it(
    data_root: Path,
) -> None:
    from auditor.render.notices import notices
    from auditor.vulns import VulnAssessor
    from tests.render.camaudit_sample_audit import sample_report

    report = sample_report()
    # The KEV excerpt is as of 2025-08-25: 7 days later it is current, 100 days later stale.
    fresh = VulnAssessor.load(data_root, today=date(2025, 9, 1)).attach(report)
    assert not [n for n in notices(fresh) if "vulnerability data" in n.text]
    old = VulnAssessor.load(data_root, today=date(2025, 12, 3)).attach(report)
    (stale,) = [n for n in notices(old) if "CISA KEV" in n.text]
    assert stale.kind == "stale" and "camaudit data import-kev FILE" in stale.text
    # Without any imported data the report says the flaws were not checked.
    empty = VulnAssessor.load(data_root / "nothing", today=date(2025, 9, 1)).attach(report)
    assert any(n.startswith("No vulnerability data imported") for n in empty.notes)


def test_an_exact_published_version_of_another_maker(data_root: Path) -> None:
    # Reolink CVE-2021-40407: NVD names the RLC-410W firmware 3.0.0.136_20121102 exactly; the
    # description writes it "v3.0.0.136_20121102", as the camera would.
    found = _findings(data_root, ident("Reolink", "Reolink", "RLC-410W", "v3.0.0.136_20121102"))
    f = found["CVE-2021-40407"]
    assert f.status is VulnStatus.AFFECTED and f.kev and str(f.kev_due) == "2025-01-08"
    # CVSS as published: NVD's 3.1 score, not the CNA's 3.0 one (9.1), and never a mix.
    assert (f.cvss_score, f.cvss_version, f.cvss_source) == (7.2, "3.1", "NVD")
    assert f.affected_range == "= 3.0.0.136_20121102" and f.fixed_version == ""
    other = _findings(data_root, ident("Reolink", "Reolink", "RLC-410W", "v3.0.0.494_21073000"))
    assert "CVE-2021-40407" not in other
    # KEV's other Reolink entry has no CVE record imported: matched on the vendor alone.
    assert other["CVE-2019-11001"].status is VulnStatus.POSSIBLY_AFFECTED
    assert "no CVE record" in other["CVE-2019-11001"].reason
