"""The streaming parser (``safexml.iterchildren``, used for nmap XML imports) keeps the one rule
set: no DTD but a caller-named bare one, no entity, no external reference, a size cap; and it
hands each child out as soon as it is complete, with where it is in the file."""

from __future__ import annotations

import io

import pytest

from auditor.net import safexml


def _children(
    text: str, doctype: str | None = None, limit: int = safexml.MAX_XML_BYTES, chunk: int = 1 << 16
) -> list[tuple[str, int]]:
    stream = safexml.iterchildren(
        io.BytesIO(text.encode()), doctype=doctype, limit=limit, chunk=chunk
    )
    return [(child.tag, line) for child, line in stream]


@pytest.mark.parametrize(
    "doc",
    [
        '<?xml version="1.0"?><!DOCTYPE n [<!ENTITY a "x">]><n><h>&a;</h></n>',
        '<?xml version="1.0"?><!DOCTYPE n SYSTEM "http://192.0.2.1/x.dtd"><n><h/></n>',
        '<?xml version="1.0"?><!DOCTYPE n [<!ELEMENT n ANY>]><n><h/></n>',
        '<?xml version="1.0"?><!DOCTYPE other><n><h/></n>',
    ],
)
def test_a_dtd_or_entity_is_refused_as_hostile(doc: str) -> None:
    with pytest.raises(safexml.UnsafeXml):
        _children(doc, doctype="n")


def test_the_size_cap_holds_while_streaming() -> None:
    doc = "<n>" + "<h/>" * 5000 + "</n>"
    with pytest.raises(safexml.UnsafeXml, match="limit"):
        _children(doc, limit=4096, chunk=1024)


def test_children_come_out_as_they_complete_with_their_lines() -> None:
    doc = '<?xml version="1.0"?>\n<!DOCTYPE n>\n<n a="1">\n<h>\n<x/>\n<m/></h>\n<k/>\n<h/>\n</n>\n'
    stream = safexml.iterchildren(io.BytesIO(doc.encode()), doctype="n", mark="m", chunk=8)
    seen = []
    for child, line in stream:
        assert stream.root is not None and stream.root.get("a") == "1"
        assert len(stream.root) == 0  # handed out, not kept
        seen.append((child.tag, line))
    # The first <h>'s line is its <m>'s (the mark); the others start where their tag is.
    assert seen == [("h", 6), ("k", 7), ("h", 8)]


def test_malformed_xml_names_the_line_after_the_good_children() -> None:
    stream = safexml.iterchildren(io.BytesIO(b"<n>\n<h/>\n<h>\n</n>\n"))
    got: list[str] = []
    with pytest.raises(safexml.XmlError) as err:
        got.extend(child.tag for child, _ in stream)
    assert got == ["h"] and err.value.line == 4 and not err.value.hostile
