"""From brand and maker votes to maker candidates: brands.yaml says who is behind a brand, the
vendor registry names the rest, and a maker a device declares itself is never dropped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from auditor.identify.reference import CONFIDENCES, Brand, BrandTable
from auditor.identify.vendors import VendorRegistry, display_name
from auditor.identify.votes import ABSTAIN_BELOW, Vote, best


class MakerResolver:
    """Resolves brand names and declared makers to the true maker, with their votes."""

    def __init__(self, brands: BrandTable, registry: VendorRegistry):
        self.brands = brands
        self.registry = registry

    def brand_row(self, name: str) -> Brand | None:
        row = self.brands.lookup(name)
        if row is not None:
            return row
        hit = self.registry.resolve(name)
        return self.brands.lookup(hit.canonical) if hit is not None else None

    def declared(self, attrs: dict[str, list[Vote]], notes: list[str]) -> list[tuple[Brand, Vote]]:
        """Turn self-declared makers (ONVIF, UPnP, mDNS, DHCP...) into brand and maker votes.

        Any maker counts: a brand row decides the true maker behind a brand; the registry
        names the rest; a maker nobody knows is reported as declared; a placeholder
        ("IPCAM", "ONVIF", a model number) is no maker at all. Returns the declarations that
        went through a brand row, for the fallback when that row is too weak to name a maker.
        """
        via_rows: list[tuple[Brand, Vote]] = []
        for v in attrs.pop("hw.declared", []):
            declared = " ".join(v.value.split())
            if self.registry.is_placeholder(declared):
                notes.append(f"declared maker {declared!r} ({v.kind.value}) is a placeholder")
                continue
            if self.registry.is_firmware(declared):
                notes.append(f"declared maker {declared!r} ({v.kind.value}) is firmware, no maker")
                attrs["hw.brand"].append(Vote(declared, v.weight, v.kind, v.link, via="declared"))
                continue
            row = self.brand_row(declared)
            if row is not None:
                attrs["hw.brand"].append(Vote(row.name, v.weight, v.kind, v.link))
                via_rows.append((row, v))
                continue
            hit = self.registry.resolve(declared)
            if hit is not None:
                name = hit.canonical
            else:
                name = display_name(declared)
                notes.append(
                    f"declared maker {declared!r} ({v.kind.value}) is in no registry; "
                    "reported as declared"
                )
            attrs["hw.vendor"].append(Vote(name, v.weight, v.kind, v.link, via="declared"))
            attrs["hw.brand"].append(Vote(name, v.weight, v.kind, v.link, via="declared"))
        return via_rows

    def declared_fallback(
        self,
        declared: list[tuple[Brand, Vote]],
        top: str,
        model: str | None,
        video: bool,
    ) -> tuple[Brand, Vote, str] | None:
        """A declared maker to report when its brand row alone was too weak to name the maker.

        Issue 12's rule: a declared maker is reported as declared, never dropped. A `low` or
        `uncertain` row (ANNKE -> Hikvision, Honeywell's own row) discounts a clear declaration
        below the threshold; then the declaration itself is reported, but only when the row's
        maker is the best candidate, so no other evidence contradicts it.
        """
        for row, v in sorted(declared, key=lambda rv: -rv[1].weight):
            maker, conf, _src = self.row_maker(row, model, video)
            weak = conf == "low" or row.uncertain
            if weak and v.weight >= ABSTAIN_BELOW and maker == top:
                return row, v, maker
        return None

    @staticmethod
    def row_maker(row: Brand, model: str | None, video: bool) -> tuple[str, str, str]:
        """The maker behind a brand for this device: a video-only link holds for video only."""
        if row.video_only and not video:
            # Panasonic's TVs, cameras (Lumix) and printers are Panasonic's; only its
            # security cameras are i-PRO's. The brand is the maker, as sure as the evidence.
            return row.name, "high", row.source
        return row.maker_for_model(model)

    def brand(self, votes: list[Vote]) -> Vote | None:
        top = best(votes)
        if top is None:
            return None
        row = self.brand_row(top.value)
        if row is not None:
            name = row.name
        else:
            hit = self.registry.resolve(top.value)
            name = hit.canonical if hit else top.value
        return Vote(name, top.weight, top.kind, top.link)

    def maker_votes(
        self,
        attrs: Mapping[str, list[Vote]],
        model: str | None,
        notes: list[str],
        video: bool = False,
    ) -> dict[str, list[Vote]]:
        votes: dict[str, list[Vote]] = defaultdict(list)
        for v in attrs.get("hw.vendor", []):
            hit = self.registry.resolve(v.value)
            name = hit.canonical if hit else v.value
            votes[name].append(v)
        # A brand votes for its maker only where the same link did not name the maker itself.
        for v in attrs.get("hw.brand", []):
            if any(name == "hw.vendor" for name, _ in v.link.asserts):
                continue
            if v.via == "declared":
                continue  # the declaration already voted for its maker
            row = self.brand_row(v.value)
            hit = self.registry.resolve(v.value) if row is None else None
            if row is not None:
                maker, conf, _src = self.row_maker(row, model, video)
                weight = v.weight * CONFIDENCES.get(conf, 0.5)
                votes[maker].append(Vote(maker, weight, v.kind, v.link, via=f"brand {row.name}"))
            elif hit is not None:
                votes[hit.canonical].append(Vote(hit.canonical, v.weight, v.kind, v.link))
            else:
                notes.append(f"brand {v.value!r} is not in brands.yaml; its maker is not inferred")
        return votes
