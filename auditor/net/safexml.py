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

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO, ClassVar
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

__all__ = [
    "MAX_XML_BYTES",
    "ChildStream",
    "Element",
    "UnsafeXml",
    "XmlError",
    "iterchildren",
    "parse",
    "parse_with_prefixes",
]

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
    def __init__(self, doctype: str | None, target: Any = None) -> None:
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
            and sysid is None
            and pubid is None
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
    with _errors():
        parser.feed(raw)
        root: Element = parser.close()
    return root


class _ChildCollector:
    """A tree-builder target that hands out each finished child of the document element and
    keeps none of them, so a document of any length is parsed in the memory of one child."""

    def __init__(self, mark: str | None) -> None:
        self._builder = TreeBuilder()
        self.line: Callable[[], int] = lambda: 0
        self._mark = mark
        self._depth = 0
        self._child_line = 0
        self.root: Element | None = None
        self.ready: list[tuple[Element, int]] = []

    def start(self, tag: str, attrs: dict[str, str]) -> Element:
        element = self._builder.start(tag, attrs)
        self._depth += 1
        if self._depth == 1:
            self.root = element
        elif self._depth == 2:
            self._child_line = self.line()
        elif self._depth == 3 and tag == self._mark and self._child_line > 0:
            # The child's line is where its first ``mark`` element is (a host's address line
            # says which host better than its opening tag); negative: already taken.
            self._child_line = -self.line()
        return element

    def end(self, tag: str) -> Element:
        element = self._builder.end(tag)
        self._depth -= 1
        if self._depth == 1 and self.root is not None:
            self.root.remove(element)
            self.ready.append((element, abs(self._child_line)))
        return element

    def data(self, text: str) -> None:
        self._builder.data(text)

    def close(self) -> Element:
        return self._builder.close()


class ChildStream:
    """The children of a document's element, each as soon as it is parsed (``iterchildren``).

    ``root`` is the document element once its start tag is read, with its attributes and no
    children (each is handed out, then dropped).
    """

    def __init__(
        self, source: BinaryIO, *, limit: int, doctype: str | None, mark: str | None, chunk: int
    ) -> None:
        self._source = source
        self._limit = limit
        self._chunk = chunk
        self._target = _ChildCollector(mark)
        self._parser = _Parser(doctype, target=self._target)
        expat = self._parser.parser
        self._target.line = lambda: int(expat.CurrentLineNumber)

    @property
    def root(self) -> Element | None:
        return self._target.root

    def __iter__(self) -> Iterator[tuple[Element, int]]:
        """Each child of the document element, with its line (see ``iterchildren``)."""
        fed = 0
        ready = self._target.ready
        while True:
            data = self._source.read(self._chunk)
            fed += len(data)
            if fed > self._limit:
                raise UnsafeXml(f"XML of more than {self._limit} bytes exceeds the limit")
            failed: XmlError | None = None
            try:
                with _errors():
                    if data:
                        self._parser.feed(data)
                    else:
                        self._parser.close()
            except XmlError as exc:
                failed = exc
            while ready:
                # Handed out in document order (those before a fault too); popped so a stopped
                # consumer keeps nothing.
                yield ready.pop(0)
            if failed is not None:
                raise failed
            if not data:
                return


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except defusedxml.DefusedXmlException as exc:
        raise UnsafeXml(f"XML with a DTD or entities refused ({type(exc).__name__})") from None
    except ParseError as exc:
        raise XmlError(f"not well-formed XML: {exc}", exc.position[0]) from None
    except (ValueError, LookupError, RecursionError) as exc:
        raise XmlError(f"not acceptable XML ({type(exc).__name__})") from None


def iterchildren(
    source: BinaryIO,
    *,
    limit: int = MAX_XML_BYTES,
    doctype: str | None = None,
    mark: str | None = None,
    chunk: int = 1 << 16,
) -> ChildStream:
    """Parse untrusted XML from ``source`` incrementally, under the rules of ``parse``.

    Iterating the result yields ``(child, line)`` for each child of the document element as
    soon as its end tag is read; the children are not kept, so memory stays that of one child
    however long the document. ``line`` is where the child starts, or where its first ``mark``
    element (a direct child of it) starts when it has one. XmlError / UnsafeXml is raised where
    the document goes wrong, after the children before that point were handed out.
    """
    return ChildStream(source, limit=limit, doctype=doctype, mark=mark, chunk=chunk)
