"""Importers for official machine-readable lists, one module per format, one registry."""

from __future__ import annotations

from dataclasses import dataclass

from auditor.exposure.lists import csl, ofac, opensanctions
from auditor.exposure.lists.base import ListEntry, ParsedList, Parser


@dataclass(frozen=True, slots=True)
class ListFormat:
    kind: str
    title: str
    parse: Parser
    source: str
    covers: frozenset[str] = frozenset()
    """Instruments a current import of this kind checks live (absence there means something)."""
    licence: str = ""
    """The data's licence terms, shown at every import when they restrict its use."""


CSL_COVERS = frozenset(
    {
        "us-bis-entity-list",
        "us-bis-meu-list",
        "us-bis-unverified-list",
        "us-ofac-sdn",
        "us-ofac-ns-cmic",
        "us-csl-other",
    }
)

#: The one registry: `camaudit lists import --kind` choices come from here.
LIST_FORMATS: dict[str, ListFormat] = {
    f.kind: f
    for f in (
        ListFormat(
            "ofac-sdn",
            "OFAC SDN list (SDN.CSV + ALT.CSV + ADD.CSV)",
            ofac.parse_sdn,
            ofac.SDN_SOURCE,
            frozenset({"us-ofac-sdn"}),
        ),
        ListFormat(
            "ofac-cons",
            "OFAC consolidated non-SDN list (CONS_PRIM.CSV ...)",
            ofac.parse_consolidated,
            ofac.CONS_SOURCE,
            frozenset({"us-ofac-ns-cmic", "us-ofac-non-sdn-other"}),
        ),
        ListFormat(
            "csl-csv",
            "trade.gov Consolidated Screening List (CSV)",
            csl.parse_csv,
            csl.CSL_SOURCE,
            CSL_COVERS,
        ),
        ListFormat(
            "csl-json",
            "trade.gov Consolidated Screening List (JSON)",
            csl.parse_json,
            csl.CSL_SOURCE,
            CSL_COVERS,
        ),
        ListFormat(
            "opensanctions-csv",
            "OpenSanctions targets.simple.csv",
            opensanctions.parse_simple_csv,
            "https://www.opensanctions.org/datasets/",
            licence=opensanctions.LICENCE,
        ),
        ListFormat(
            "ftm-json",
            "OpenSanctions FollowTheMoney entities (JSON lines)",
            opensanctions.parse_ftm_json,
            "https://www.opensanctions.org/datasets/",
            licence=opensanctions.LICENCE,
        ),
    )
}

__all__ = ["LIST_FORMATS", "ListEntry", "ListFormat", "ParsedList"]
