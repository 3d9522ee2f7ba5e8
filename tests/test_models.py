"""Invariants of the domain model that every stage and report relies on."""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from auditor.models import (
    Channel,
    Component,
    DeviceResult,
    DeviceType,
    EvidenceLink,
    Exposure,
    ExposureStatus,
    FingerprintId,
    Host,
    Identification,
    InstrumentId,
    Observation,
    ObservationKind,
    Outcome,
    ProbeAttempt,
    Reason,
    Service,
    Severity,
    normalise_mac,
)

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _obs(kind: str = "http.server", value: str = "App-webs/") -> Observation:
    return Observation(ObservationKind(kind), value, "http:80", NOW, port=80)


def _link() -> EvidenceLink:
    return EvidenceLink(
        _obs(),
        FingerprintId("hikvision-app-webs"),
        "Hikvision web server",
        (("hw.vendor", "Hikvision"),),
        0.8,
    )


def test_identification_without_evidence_cannot_claim_a_maker() -> None:
    with pytest.raises(ValueError, match="needs evidence"):
        Identification(manufacturer="Hikvision", confidence=0.9)


def test_identification_without_evidence_cannot_claim_a_device_type() -> None:
    with pytest.raises(ValueError, match="needs evidence"):
        Identification(device_type=DeviceType.NVR)


def test_abstaining_identification_needs_no_evidence() -> None:
    ident = Identification.unknown(["no fingerprint matched"])
    assert not ident.is_identified
    assert ident.confidence == 0.0


def test_values_are_immutable() -> None:
    ident = Identification(manufacturer="Hikvision", confidence=0.9, evidence=(_link(),))
    with pytest.raises(dataclasses.FrozenInstanceError):
        ident.manufacturer = "Axis"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        _obs().value = "x"  # type: ignore[misc]


def test_confidence_is_bounded() -> None:
    with pytest.raises(ValueError):
        Identification(manufacturer="Dahua", confidence=1.5, evidence=(_link(),))


def test_oem_relabel_needs_a_different_brand() -> None:
    with pytest.raises(ValueError):
        Identification(
            manufacturer="Hikvision",
            brand="Hikvision",
            oem_relabel=True,
            confidence=0.9,
            evidence=(_link(),),
        )
    ok = Identification(
        manufacturer="Hikvision", brand="LTS", oem_relabel=True, confidence=0.9, evidence=(_link(),)
    )
    assert ok.oem_relabel


def test_component_needs_evidence() -> None:
    with pytest.raises(ValueError):
        Component(kind="soc", vendor="HiSilicon")


def test_probe_attempt_outcomes_carry_consistent_reasons() -> None:
    with pytest.raises(ValueError, match="must say why"):
        ProbeAttempt("rtsp", Outcome.FAILED)
    with pytest.raises(ValueError, match="no failure reason"):
        ProbeAttempt("rtsp", Outcome.COMPLETED, reason=Reason.TIMEOUT)
    with pytest.raises(ValueError, match="not-run reason"):
        ProbeAttempt("rtsp", Outcome.FAILED, reason=Reason.NO_CREDENTIALS)
    with pytest.raises(ValueError, match="is a failure"):
        ProbeAttempt("isapi", Outcome.NOT_RUN, reason=Reason.TIMEOUT)
    assert ProbeAttempt("isapi", Outcome.NOT_RUN, reason=Reason.NO_CREDENTIALS).reason


def test_observation_requires_aware_time_and_a_known_kind() -> None:
    with pytest.raises(ValueError):
        Observation(ObservationKind.MAC, "x", "nmap", datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        Observation("no.such.kind", "x", "nmap", NOW)  # type: ignore[arg-type]


def test_observation_digest_is_stable_and_content_sensitive() -> None:
    assert _obs().sha256 == _obs().sha256
    assert _obs(value="App-webs/x").sha256 != _obs().sha256


@pytest.mark.parametrize("text", ["C4-2F-90-AA-BB-CC", "c42f.90aa.bbcc", "c4:2f:90:aa:bb:cc"])
def test_mac_forms_normalise(text: str) -> None:
    assert normalise_mac(text) == "c4:2f:90:aa:bb:cc"


@pytest.mark.parametrize("text", ["", "c4:2f:90", "zz:2f:90:aa:bb:cc", "<script>alert(1)</script>"])
def test_bad_macs_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        normalise_mac(text)


def test_host_merge_keeps_every_channel_and_the_richer_service() -> None:
    addr = ipaddress.ip_address("192.0.2.10")
    a = Host(addr, seen_by=frozenset({"nmap"}), services=(Service(80),))  # type: ignore[arg-type]
    b = Host(
        addr,
        mac="C4:2F:90:00:00:01",
        seen_by=frozenset({"sadp"}),  # type: ignore[arg-type]
        services=(Service(80, product="Hikvision IP camera httpd"), Service(8000)),
        observations=(_obs(),),
    )
    merged = a.merge(b).merge(b)
    assert merged.seen_by == {"nmap", "sadp"}
    assert merged.mac == "c4:2f:90:00:00:01"
    assert merged.open_tcp_ports == {80, 8000}
    assert [s.product for s in merged.services if s.port == 80] == ["Hikvision IP camera httpd"]
    assert len(merged.observations) == 1
    with pytest.raises(ValueError):
        a.merge(Host(ipaddress.ip_address("192.0.2.11")))


def test_device_result_is_incomplete_when_a_probe_failed() -> None:
    host = Host(ipaddress.ip_address("192.0.2.10"))
    ok = DeviceResult(host, attempts=(ProbeAttempt("http", Outcome.COMPLETED),))
    bad = DeviceResult(
        host, attempts=(ProbeAttempt("rtsp", Outcome.FAILED, reason=Reason.TIMEOUT),)
    )
    assert ok.complete and not bad.complete


def test_severity_orders_and_a_possible_match_carries_a_score() -> None:
    assert Severity.LOW < Severity.HIGH <= Severity.CRITICAL
    assert Severity.from_label("high") is Severity.HIGH
    with pytest.raises(ValueError):
        Exposure(
            InstrumentId("us-sdn"),
            "OFAC SDN",
            "US",
            ExposureStatus.POSSIBLE_MATCH,
            Severity.MEDIUM,
            "review",
            "US persons",
            "https://ofac.treasury.gov/",
        )


def test_the_mac_seen_on_the_wire_beats_a_claimed_one_and_the_claim_is_kept() -> None:
    addr = ipaddress.ip_address("192.0.2.10")
    # SADP answers first with the MAC its payload claims; nmap then sees another on the wire.
    sadp = Host(
        addr,
        mac="00:40:8c:00:00:01",
        seen_by=frozenset({"sadp"}),  # type: ignore[arg-type]
        observations=(_obs(),),
    )
    wire = Host(
        addr,
        mac="44:19:b6:00:00:01",
        mac_vendor="Hangzhou Hikvision Digital Technology",
        mac_on_wire=True,
        seen_by=frozenset({"nmap"}),  # type: ignore[arg-type]
    )
    for merged in (sadp.merge(wire), wire.merge(sadp)):
        assert merged.mac == "44:19:b6:00:00:01" and merged.mac_on_wire
        assert merged.mac_vendor == "Hangzhou Hikvision Digital Technology"
        claimed = [o for o in merged.observations if o.kind is ObservationKind.MAC_CLAIMED]
        assert [(o.value, o.source) for o in claimed] == [("00:40:8c:00:00:01", "sadp")]
    # Two payloads that agree leave no conflict behind.
    same = sadp.merge(replace(sadp, seen_by=frozenset({"dhip"})))  # type: ignore[arg-type]
    assert not [o for o in same.observations if o.kind is ObservationKind.MAC_CLAIMED]


# --- unconfirmed hosts (issue 13: phantom devices from forged discovery replies) -------------
def _seen(*channels: Channel, **kw: object) -> Host:
    return Host("10.88.0.9", seen_by=frozenset(channels), **kw)  # type: ignore[arg-type]


def _onvif(outcome: Outcome, reason: Reason | None = None) -> ProbeAttempt:
    return ProbeAttempt("onvif", outcome, reason=reason, detail="" if reason is None else "x")


def test_a_host_only_in_discovery_replies_that_never_answered_is_unconfirmed() -> None:
    mac = Observation(ObservationKind.MAC, "02:00:00:00:00:01", "discovery", NOW)
    silent = (
        ProbeAttempt("mac", Outcome.COMPLETED, observations=(mac,)),  # claimed, not exchanged
        _onvif(Outcome.FAILED, Reason.TIMEOUT),
    )
    assert DeviceResult(_seen(Channel.WS_DISCOVERY), silent).unconfirmed
    assert DeviceResult(_seen(Channel.SADP, Channel.SSDP), silent).unconfirmed


@pytest.mark.parametrize("reason", [Reason.REFUSED, Reason.RESET, Reason.MALFORMED])
def test_any_answer_at_the_address_confirms_it(reason: Reason) -> None:
    attempts = (_onvif(Outcome.FAILED, reason),)
    assert not DeviceResult(_seen(Channel.WS_DISCOVERY), attempts).unconfirmed


def test_nmap_an_open_port_or_a_fetched_description_confirms_it() -> None:
    attempts = (_onvif(Outcome.FAILED, Reason.TIMEOUT),)
    assert not DeviceResult(_seen(Channel.WS_DISCOVERY, Channel.NMAP), attempts).unconfirmed
    assert not DeviceResult(
        _seen(Channel.WS_DISCOVERY, services=(Service(80),)), attempts
    ).unconfirmed
    desc = Observation(ObservationKind.UPNP_DESCRIPTION, "<root/>", "ssdp", NOW)
    assert not DeviceResult(_seen(Channel.SSDP, observations=(desc,)), attempts).unconfirmed
    # Imported from the user's own file: not a discovery reply at all.
    assert not DeviceResult(_seen(Channel.IMPORT_CSV), ()).unconfirmed


def test_an_unconfirmed_host_does_not_make_the_audit_incomplete() -> None:
    """Forged discovery replies must not turn every audit into exit 3 (incomplete)."""
    phantom = DeviceResult(_seen(Channel.WS_DISCOVERY), (_onvif(Outcome.FAILED, Reason.TIMEOUT),))
    assert phantom.unconfirmed and phantom.complete
    real = DeviceResult(
        _seen(Channel.WS_DISCOVERY, Channel.NMAP), (_onvif(Outcome.FAILED, Reason.TIMEOUT),)
    )
    assert not real.complete
