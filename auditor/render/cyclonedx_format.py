"""The CycloneDX report: a CycloneDX 1.6 hardware BOM of the audited site (`-f cyclonedx`).

One component of type ``device`` per audited host, built and serialised with
cyclonedx-python-lib (the CycloneDX project's own library), so an asset or supply-chain tool
(Dependency-Track, an SBOM store) can take the site in as it takes software BOMs. The
CycloneDX 1.6 fields carry what they mean (``manufacturer``, ``version`` = firmware, nested
components for the chips inside); everything else is a property in the ``camaudit:`` namespace,
listed in docs/cyclonedx.md. Exposures are properties too (for filters) and BOM annotations on
their device (for people), each with its public source. Annotations are added to the library's
JSON output: the library does not model them yet, and its JSON validator checks the result in
the tests.

Pure like every renderer: the BOM's timestamp is the audit's, its serial number a name-based UUID
of the audit and its evidence digest, so one audit always gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from auditor.models import AuditReport, Component, DeviceResult, Exposure, Severity
from auditor.render.interface import FormatName, ReportFormat
from auditor.render.notices import notices

#: The property namespace (docs/cyclonedx.md); bumped only on an incompatible change.
NS = "camaudit"
#: Name-based UUIDs of BOMs derive from this (RFC 9562 UUIDv5 in the URL namespace).
_BOM_NS = uuid.uuid5(uuid.NAMESPACE_URL, "urn:camaudit:cyclonedx")
#: Devices serialised per library call (see render: the library is quadratic in one BOM).
_CHUNK = 100


def device_evidence_sha256(device: DeviceResult) -> str:
    """One digest over the device's observations, the way the report's footer digest is made."""
    h = hashlib.sha256()
    for digest in sorted(o.sha256 for o in device.observations):
        h.update(digest.encode())
    return h.hexdigest()


def bom_refs(devices: Iterable[DeviceResult]) -> list[str]:
    """``device:[site/]address`` for each device; unique, as CycloneDX requires, even if an
    address repeats (then ``#2``, ``#3``...)."""
    refs: list[str] = []
    seen: Counter[str] = Counter()
    for d in devices:
        where = f"{d.site}/" if d.site else ""
        ref = f"device:{where}{d.host.address}"
        seen[ref] += 1
        refs.append(ref if seen[ref] == 1 else f"{ref}#{seen[ref]}")
    return refs


def exposure_keys(device: DeviceResult) -> list[tuple[str, Exposure]]:
    """A property key per exposure: the instrument id, with ``@entity`` when one instrument
    reaches the device twice (its maker and a component's vendor)."""
    counts = Counter(e.instrument for e in device.exposures)
    keys = []
    for e in device.exposures:
        key = e.instrument if counts[e.instrument] == 1 else f"{e.instrument}@{e.entity or ''}"
        keys.append((key, e))
    return keys


def _props(pairs: Iterable[tuple[str, object]]) -> Iterator[tuple[str, str]]:
    for name, value in pairs:
        if value is None or value == "":
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        yield f"{NS}:{name}", str(value)


def _device_properties(d: DeviceResult) -> list[tuple[str, str]]:
    ident = d.identification
    pairs: list[tuple[str, object]] = [
        ("device:address", str(d.host.address)),
        ("device:site", d.site),
        ("device:mac", d.host.mac),
        ("device:mac_vendor", d.host.mac_vendor),
        ("device:manufacturer", ident.manufacturer),
        ("device:brand", ident.brand),
        ("device:model", ident.model),
        ("device:firmware", ident.firmware),
        ("device:serial", ident.serial),
        ("device:type", ident.device_type.value),
        ("identification:confidence", f"{ident.confidence:.2f}"),
        ("identification:oem_relabel", ident.oem_relabel),
        ("audit:complete", d.complete),
        ("exposure:max_severity", d.max_severity.label),
        ("evidence:sha256", device_evidence_sha256(d)),
    ]
    pairs += [("identification:rationale", r) for r in ident.rationale]
    pairs += [
        ("evidence:fingerprint", f) for f in dict.fromkeys(e.fingerprint_id for e in ident.evidence)
    ]
    if d.remediation is not None:
        pairs += [
            ("remediation:action", d.remediation.action.value),
            ("remediation:priority", d.remediation.priority),
        ]
    for key, e in exposure_keys(d):
        prefix = f"exposure:{key}"
        pairs += [
            ("exposure", e.instrument),
            (f"{prefix}:name", e.instrument_name),
            (f"{prefix}:jurisdiction", e.jurisdiction),
            (f"{prefix}:status", e.status.value),
            (f"{prefix}:severity", e.severity.label),
            (f"{prefix}:entity", e.entity),
            (f"{prefix}:since", e.since.isoformat() if e.since else None),
            (f"{prefix}:uncertain", e.uncertain if e.uncertain else None),
            (f"{prefix}:source", e.source),
        ]
    return list(_props(pairs))


def _name(d: DeviceResult) -> str:
    ident = d.identification
    if ident.model:
        return ident.model
    what = ident.device_type.value.replace("_", " ")
    if ident.manufacturer:
        return f"{ident.manufacturer} {what}"
    return f"unidentified device ({what})"


def _description(d: DeviceResult) -> str:
    ident = d.identification
    what = ident.device_type.value.replace("_", " ")
    made = f"made by {ident.manufacturer}" if ident.manufacturer else "maker unknown"
    sold = ""
    if ident.brand and ident.brand != ident.manufacturer:
        sold = f", sold as {ident.brand}" + (" (OEM relabel)" if ident.oem_relabel else "")
    return f"{what} at {d.host.address}, {made}{sold}"


class CycloneDxFormat(ReportFormat):
    name = FormatName.CYCLONEDX
    suffix = "cdx.json"

    def render(self, report: AuditReport) -> bytes:
        # Imported here: only this format needs the library, and it is not light to import.
        from cyclonedx.model import Property
        from cyclonedx.model.bom import Bom, BomMetaData
        from cyclonedx.model.component import Component as CdxComponent
        from cyclonedx.model.component import ComponentType
        from cyclonedx.model.contact import OrganizationalEntity
        from cyclonedx.model.tool import ToolRepository
        from cyclonedx.output.json import JsonV1Dot6

        info = report.audit
        digest = report.evidence_sha256
        when = info.finished or info.started
        tool = CdxComponent(
            type=ComponentType.APPLICATION, name="camaudit", version=info.tool_version
        )

        def part(c: Component, parent: str, n: int) -> CdxComponent:
            return CdxComponent(
                type=ComponentType.DEVICE,
                name=c.model or f"{c.vendor} {c.kind}",
                bom_ref=f"{parent}#component-{n}",
                manufacturer=OrganizationalEntity(name=c.vendor),
                properties=[
                    Property(name=k, value=v)
                    for k, v in _props(
                        [
                            ("component:kind", c.kind),
                            ("component:vendor", c.vendor),
                            ("component:model", c.model),
                            *(("evidence:fingerprint", e.fingerprint_id) for e in c.evidence),
                        ]
                    )
                ],
            )

        refs = bom_refs(report.devices)
        components = []
        for d, ref in zip(report.devices, refs, strict=True):
            ident = d.identification
            components.append(
                CdxComponent(
                    type=ComponentType.DEVICE,
                    name=_name(d),
                    bom_ref=ref,
                    version=ident.firmware,
                    description=_description(d),
                    manufacturer=(
                        OrganizationalEntity(name=ident.manufacturer)
                        if ident.manufacturer
                        else None
                    ),
                    properties=[Property(name=k, value=v) for k, v in _device_properties(d)],
                    components=[part(c, ref, n) for n, c in enumerate(ident.components, 1)],
                )
            )
        meta = [
            ("audit:id", info.id),
            ("audit:site", info.site),
            ("audit:started", info.started.isoformat()),
            ("audit:finished", info.finished.isoformat() if info.finished else "interrupted"),
            ("audit:profile", info.profile.value),
            ("audit:devices", len(report.devices)),
            ("audit:incomplete", len(report.incomplete)),
            ("evidence:sha256", digest),
            *(("audit:target", t) for t in info.targets),
            *(("audit:exclude", t) for t in info.excludes),
            *(
                (
                    f"data:{v.name}",
                    v.version + (f" (as of {v.as_of.isoformat()})" if v.as_of else ""),
                )
                for v in info.data_versions
            ),
            *(("note", n) for n in report.notes),
            # The same notices every format opens with (not legal advice, data date, stale).
            *((f"notice:{n.kind}", n.text) for n in notices(report)),
        ]
        bom = Bom(
            serial_number=uuid.uuid5(_BOM_NS, f"{info.id}/{digest}"),
            metadata=BomMetaData(
                timestamp=when,
                tools=ToolRepository(components=[tool]),
                properties=[Property(name=k, value=v) for k, v in _props(meta)],
            ),
            components=components[:_CHUNK],
        )
        doc: dict[str, Any] = json.loads(JsonV1Dot6(bom).output_as_string())
        # The library's serialiser is quadratic in the components of one BOM (it looks up each
        # component's dependency entry linearly): 2,000 devices took 6.5 s in one BOM. Devices
        # are independent, so they are serialised in chunks and the lists joined, then put back
        # in the audit's order (the library sorts within a BOM).
        for start in range(_CHUNK, len(components), _CHUNK):
            chunk = json.loads(
                JsonV1Dot6(Bom(components=components[start : start + _CHUNK])).output_as_string()
            )
            for key in ("components", "dependencies"):
                doc.setdefault(key, []).extend(chunk.get(key, []))
        order = {ref: n for n, ref in enumerate(refs)}
        for key, ref_of in (("components", "bom-ref"), ("dependencies", "ref")):
            if key in doc:
                doc[key].sort(key=lambda item, f=ref_of: order.get(item[f], -1))
        annotator = {
            "component": {"type": "application", "name": "camaudit", "version": info.tool_version}
        }
        annotations = [
            {
                "subjects": [ref],
                "annotator": annotator,
                "timestamp": when.isoformat(),
                "text": _annotation(e, info.profile.value),
            }
            for d, ref in zip(report.devices, refs, strict=True)
            for e in d.exposures
            if e.severity > Severity.NONE
        ]
        if annotations:
            # The schema wants unique annotations: one instrument stated twice is said once.
            unique = {json.dumps(a, sort_keys=True): a for a in annotations}
            doc["annotations"] = list(unique.values())
        text = json.dumps(doc, indent=2, ensure_ascii=False)
        # A lone surrogate (a leniently decoded byte) becomes a JSON \\u escape of itself.
        return text.encode("utf-8", "backslashreplace") + b"\n"


def _annotation(e: Exposure, audience: str) -> str:
    entity = f" through {e.entity}" if e.entity else ""
    since = f", since {e.since.isoformat()}" if e.since else ""
    return (
        f"{e.instrument_name} ({e.jurisdiction}){entity}: {e.status.label}{since}; severity "
        f"{e.severity.label} for the {audience} audience. {e.effect} Source: {e.source}"
    )
