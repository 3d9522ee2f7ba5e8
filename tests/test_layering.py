"""The package's layering, read from the source with ast (issue 19).

Discovery and probes are siblings over one network layer (``auditor.net``): neither imports the
other, and the network layer imports neither. XML from devices and files is parsed in exactly one
module, ``auditor/net/safexml.py``, so every parse has the same rules (no DTD, no entities, a
size cap): any other module importing an XML parser is a second rule set waiting to happen.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "auditor"
SAFE_XML = PACKAGE / "net" / "safexml.py"

#: Modules that parse XML (or hand out a parser; xmlrpc and plistlib parse with expat inside).
#: ``xml.sax.saxutils`` only escapes text for writing XML, so it is not among them.
XML_PARSERS = (
    "xml.etree",
    "xml.dom",
    "xml.parsers",
    "xml.sax",
    "pyexpat",
    "defusedxml",
    "lxml",
    "xmlrpc",
    "plistlib",
)
XML_WRITERS = ("xml.sax.saxutils",)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path) -> Iterator[str]:
    """Every module the file at ``path`` imports (see :func:`imports_in`)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    return imports_in(path.read_text(encoding="utf-8"), package)


def imports_in(source: str, package: str) -> Iterator[str]:
    """Every module ``source`` imports, absolute (relative imports resolved from ``package``),
    also inside functions, including ``from X import name`` as ``X.name``: ``from auditor
    import probes`` imports the package ``auditor.probes``."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            for alias in node.names:
                yield f"{base}.{alias.name}"


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _sources(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def _crossings(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in _sources(PACKAGE / folder):
        for name in imported_modules(path):
            if any(_within(name, f) for f in forbidden):
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [
        ("discovery", ("auditor.probes",)),
        ("probes", ("auditor.discovery",)),
        ("net", ("auditor.discovery", "auditor.probes", "auditor.engine")),
    ],
)
def test_discovery_probes_and_net_do_not_import_across(
    folder: str, forbidden: tuple[str, ...]
) -> None:
    assert _crossings(folder, forbidden) == []


def test_xml_is_parsed_only_in_safexml() -> None:
    offenders = []
    for top in ("auditor", "bench", "tools"):
        for path in _sources(ROOT / top):
            if path == SAFE_XML:
                continue
            for name in imported_modules(path):
                if any(_within(name, w) for w in XML_WRITERS):
                    continue
                if any(_within(name, p) for p in XML_PARSERS):
                    offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == [], "parse XML through auditor.net.safexml instead"


def test_the_checks_see_imports_in_every_spelling() -> None:
    # The checks above pass on an empty answer, so make sure the reader finds what it must.
    source = (
        "import xml.etree.ElementTree as ET\n"
        "from defusedxml import ElementTree\n"
        "from xml.sax.saxutils import escape\n"
        "def f():\n"
        "    from auditor import probes\n"
        "    from ..probes.wire import connect\n"
    )
    names = set(imports_in(source, "auditor.discovery"))
    assert "xml.etree.ElementTree" in names
    assert "defusedxml.ElementTree" in names
    assert "auditor.probes" in names
    assert "auditor.probes.wire.connect" in names
    assert "xml.sax.saxutils.escape" in names
    assert any(_within(n, w) for n in names for w in XML_WRITERS)
