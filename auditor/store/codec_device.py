"""The tables of one saved device: each table's INSERT and its row to and from the model.

hosts, observations and probe_attempts (what was seen), identifications, components and
evidence_links (who made it, and why we think so), exposures and vulnerabilities (what it means).
Each ``*_row`` checks the type of every field it writes (see ``codec``); each ``*_from_row``
builds the frozen model value back from a row and the children already read.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from auditor.models import (
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
    Severity,
    VulnFinding,
)
from auditor.store import codec

Params = tuple[object, ...]

# -- hosts -------------------------------------------------------------------------------------

INSERT_HOST = (
    "INSERT INTO hosts (audit_id, address, mac, mac_vendor, services, seen_by, endpoint_ids, "
    "remediation, site, complete, saved_at_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def host_row(audit_id: str, device: DeviceResult, seq: int) -> Params:
    host = device.host
    return (
        audit_id,
        str(host.address),
        codec.opt_text(host.mac),
        codec.opt_text(host.mac_vendor),
        codec.services_to_json(host.services),
        codec.channels_to_json(host.seen_by),
        codec.dump(sorted(codec.text(e) for e in host.endpoint_ids)),
        codec.remediation_to_json(device.remediation),
        codec.opt_text(device.site),
        int(device.complete),
        seq,
    )


def host_from_row(h: Any, observations: tuple[Observation, ...]) -> Host:
    return Host(
        address=ipaddress.ip_address(h["address"]),
        mac=h["mac"],
        mac_vendor=h["mac_vendor"],
        services=codec.services_from_json(h["services"]),
        seen_by=codec.channels_from_json(h["seen_by"]),
        endpoint_ids=frozenset(codec.load(h["endpoint_ids"])),
        observations=observations,
    )


# -- observations ------------------------------------------------------------------------------

INSERT_OBSERVATION = (
    "INSERT INTO observations (host_id, attempt_id, origin, position, kind, value, source, "
    "observed_at, port, sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def observation_row(
    host_id: int, attempt_id: int | None, origin: str, pos: int, obs: Observation
) -> Params:
    return (
        host_id,
        attempt_id,
        origin,
        pos,
        ObservationKind(obs.kind).value,
        codec.text(obs.value),
        codec.text(obs.source),
        codec.moment(obs.observed_at),
        obs.port,
        obs.sha256,
    )


def observation_from_row(r: Any) -> Observation:
    return Observation(
        kind=ObservationKind(r["kind"]),
        value=r["value"],
        source=r["source"],
        observed_at=codec.parse_moment(r["observed_at"]),
        port=r["port"],
    )


# -- probe_attempts ----------------------------------------------------------------------------

INSERT_ATTEMPT = (
    "INSERT INTO probe_attempts (host_id, position, probe, outcome, reason, detail, "
    "duration_s) VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def attempt_row(host_id: int, pos: int, attempt: ProbeAttempt) -> Params:
    return (
        host_id,
        pos,
        codec.text(attempt.probe),
        Outcome(attempt.outcome).value,
        None if attempt.reason is None else Reason(attempt.reason).value,
        codec.text(attempt.detail),
        float(attempt.duration_s),
    )


def attempt_from_row(r: Any, observations: tuple[Observation, ...]) -> ProbeAttempt:
    return ProbeAttempt(
        probe=r["probe"],
        outcome=Outcome(r["outcome"]),
        observations=observations,
        reason=None if r["reason"] is None else Reason(r["reason"]),
        detail=r["detail"],
        duration_s=r["duration_s"],
    )


# -- identifications, components, evidence_links -----------------------------------------------

INSERT_IDENTIFICATION = (
    "INSERT INTO identifications (host_id, manufacturer, brand, model, firmware, serial, "
    "device_type, confidence, oem_relabel, rationale) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def identification_row(host_id: int, ident: Identification) -> Params:
    return (
        host_id,
        codec.opt_text(ident.manufacturer),
        codec.opt_text(ident.brand),
        codec.opt_text(ident.model),
        codec.opt_text(ident.firmware),
        codec.opt_text(ident.serial),
        DeviceType(ident.device_type).value,
        float(ident.confidence),
        int(ident.oem_relabel),
        codec.dump([codec.text(r) for r in ident.rationale]),
    )


def identification_from_row(
    r: Any, evidence: tuple[EvidenceLink, ...], components: tuple[Component, ...]
) -> Identification:
    return Identification(
        manufacturer=r["manufacturer"],
        brand=r["brand"],
        model=r["model"],
        firmware=r["firmware"],
        serial=r["serial"],
        device_type=DeviceType(r["device_type"]),
        confidence=r["confidence"],
        evidence=evidence,
        components=components,
        oem_relabel=bool(r["oem_relabel"]),
        rationale=tuple(codec.load(r["rationale"])),
    )


INSERT_COMPONENT = (
    "INSERT INTO components (host_id, position, kind, vendor, model) VALUES (?, ?, ?, ?, ?)"
)


def component_row(host_id: int, pos: int, comp: Component) -> Params:
    return (
        host_id,
        pos,
        codec.text(comp.kind),
        codec.text(comp.vendor),
        codec.opt_text(comp.model),
    )


def component_from_row(r: Any, evidence: tuple[EvidenceLink, ...]) -> Component:
    return Component(kind=r["kind"], vendor=r["vendor"], model=r["model"], evidence=evidence)


INSERT_LINK = (
    "INSERT INTO evidence_links (host_id, component_id, position, observation_id, "
    "fingerprint_id, description, asserts, weight, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def link_row(
    host_id: int, component_id: int | None, pos: int, obs_id: int, link: EvidenceLink
) -> Params:
    return (
        host_id,
        component_id,
        pos,
        obs_id,
        codec.text(link.fingerprint_id),
        codec.text(link.description),
        codec.dump([[codec.text(k), codec.text(v)] for k, v in link.asserts]),
        float(link.weight),
        codec.text(link.source),
    )


def link_from_row(r: Any, observation: Observation) -> EvidenceLink:
    return EvidenceLink(
        observation=observation,
        fingerprint_id=FingerprintId(r["fingerprint_id"]),
        description=r["description"],
        asserts=tuple((k, v) for k, v in codec.load(r["asserts"])),
        weight=r["weight"],
        source=r["source"],
    )


# -- exposures, vulnerabilities ----------------------------------------------------------------

INSERT_EXPOSURE = (
    "INSERT INTO exposures (host_id, position, instrument, instrument_name, jurisdiction, "
    "status, severity, effect, binds, source, since, entity, uncertain, match_score, "
    "list_row) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def exposure_row(host_id: int, pos: int, exp: Exposure) -> Params:
    return (
        host_id,
        pos,
        codec.text(exp.instrument),
        codec.text(exp.instrument_name),
        codec.text(exp.jurisdiction),
        ExposureStatus(exp.status).value,
        exp.severity.label,
        codec.text(exp.effect),
        codec.text(exp.binds),
        codec.text(exp.source),
        codec.opt_day(exp.since),
        codec.opt_text(exp.entity),
        int(exp.uncertain),
        None if exp.match_score is None else float(exp.match_score),
        codec.opt_text(exp.list_row),
    )


def exposure_from_row(r: Any) -> Exposure:
    return Exposure(
        instrument=InstrumentId(r["instrument"]),
        instrument_name=r["instrument_name"],
        jurisdiction=r["jurisdiction"],
        status=ExposureStatus(r["status"]),
        severity=Severity.from_label(r["severity"]),
        effect=r["effect"],
        binds=r["binds"],
        source=r["source"],
        since=codec.opt_parse_day(r["since"]),
        entity=r["entity"],
        uncertain=bool(r["uncertain"]),
        match_score=r["match_score"],
        list_row=r["list_row"],
    )


INSERT_VULNERABILITY = (
    "INSERT INTO vulnerabilities (host_id, position, cve, finding) VALUES (?, ?, ?, ?)"
)


def vulnerability_row(host_id: int, pos: int, finding: VulnFinding) -> Params:
    return (host_id, pos, codec.text(finding.cve), codec.finding_to_json(finding))


def vulnerability_from_row(r: Any) -> VulnFinding:
    return codec.finding_from_json(r["finding"])
