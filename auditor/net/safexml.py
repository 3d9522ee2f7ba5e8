"""The one XML parser for everything a device (or an imported file) sends.

Discovery replies, SOAP, device descriptions and identification extractors all parse through
here, with one rule set (issue 13 found three: a DTD without entities was refused by SOAP and
accepted by discovery and identification): no DTD at all, with or without entities; no entity
declarations; no external references; a size cap checked before parsing. The expat parser with
defusedxml's handlers does the refusing; nothing is ever fetched or expanded.

The single exception is a caller-named bare document type: nmap writes ``<!DOCTYPE nmaprun>``
into every XML file, so its importer passes ``doctype="nmaprun"``. An internal subset (where
entities would live) is refused even then.
"""

from __future__ import annotations

from typing import ClassVar
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

__all__ = ["MAX_XML_BYTES", "Element", "UnsafeXml", "XmlError", "parse", "parse_with_prefixes"]

import defusedxml
from defusedxml.ElementTree import DefusedXMLParser

#: Default cap: far above any camera's reply (a deviceInfo or description is a few KiB).
MAX_XML_BYTES = 256 * 1024


class XmlError(ValueError):
    """Not acceptable XML. ``hostile``: an attack (DTD, entity, external reference, oversize)
    rather than a mistake; ``line`` where the parser stopped, when known."""

    hostile: ClassVar[bool] = False

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


class UnsafeXml(XmlError):
    """XML refused as an attack: a DTD, an entity declaration, an external reference, or a
    document over the size cap."""

    hostile: ClassVar[bool] = True


class _PrefixRecorder(TreeBuilder):
    """A tree builder that also keeps each namespace prefix the document declares: a QName in
    text content (WS-Discovery ``<d:Types>dn:NetworkVideoTransmitter</d:Types>``) is only
    resolvable through the prefixes in scope, which an element tree does not keep."""

    def __init__(self) -> None:
        super().__init__()
        self.prefixes: dict[str, str] = {}

    def start_ns(self, prefix: str, uri: str) -> None:
        self.prefixes[prefix] = uri


class _Parser(DefusedXMLParser):
    def __init__(self, doctype: str | None, target: TreeBuilder | None = None) -> None:
        super().__init__(
            target=target if target is not None else TreeBuilder(),
            forbid_dtd=True,
            forbid_entities=True,
            forbid_external=True,
        )
        self._allowed_doctype = doctype

    def defused_start_doctype_decl(
        self, name: str, sysid: str | None, pubid: str | None, has_internal_subset: bool
    ) -> None:
        if (
            self._allowed_doctype is not None
            and name == self._allowed_doctype
            and not has_internal_subset
        ):
            return  # declared, never read: expat has no external entity loader here
        super().defused_start_doctype_decl(name, sysid, pubid, has_internal_subset)


def parse(data: bytes | str, *, limit: int = MAX_XML_BYTES, doctype: str | None = None) -> Element:
    """Parse untrusted XML into an element tree, or raise XmlError / UnsafeXml.

    ``limit`` bounds the input in bytes (characters for text); ``doctype`` admits only a bare
    ``<!DOCTYPE name>`` with that name. Messages never quote the document: a refused DTD's text
    is the attacker's.
    """
    return _parse(data, limit, doctype, TreeBuilder())


def parse_with_prefixes(
    data: bytes | str, *, limit: int = MAX_XML_BYTES
) -> tuple[Element, dict[str, str]]:
    """Like :func:`parse`, with the namespace prefixes the document declares (prefix -> URI;
    the default namespace under ``""``). Where a prefix is declared twice the last one wins,
    which is enough for the flat SOAP messages this reads."""
    recorder = _PrefixRecorder()
    root = _parse(data, limit, None, recorder)
    return root, recorder.prefixes


def _parse(data: bytes | str, limit: int, doctype: str | None, target: TreeBuilder) -> Element:
    if len(data) > limit:
        raise UnsafeXml(f"XML of {len(data)} bytes exceeds the {limit}-byte limit")
    raw = data.strip().encode("utf-8", "surrogateescape") if isinstance(data, str) else data
    parser = _Parser(doctype, target)
    try:
        parser.feed(raw)
        root: Element = parser.close()
    except defusedxml.DefusedXmlException as exc:
        raise UnsafeXml(f"XML with a DTD or entities refused ({type(exc).__name__})") from None
    except ParseError as exc:
        raise XmlError(f"not well-formed XML: {exc}", exc.position[0]) from None
    except (ValueError, LookupError, RecursionError) as exc:
        raise XmlError(f"not acceptable XML ({type(exc).__name__})") from None
    return root
