"""Self-test of the fingerprint database, run by `camaudit fingerprints verify` and the suite.

Recog-style: every example matches its own fingerprint first (no earlier entry in the same group
shadows it) and yields the asserted values; capture groups equal the ``$n`` uses (checked at
load); no duplicate ids, descriptions, patterns or examples; every vendor and brand is in the
canonical lists (case-folded); every entry and example cites a source.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from auditor.errors import DataFileError
from auditor.identify import FingerprintData
from auditor.identify.db import Example, Fingerprint, FingerprintFile
from auditor.identify.extract import ExtractError, extract
from auditor.identify.matcher import first_match


@dataclass(frozen=True, slots=True)
class ExampleCase:
    """One example, resolved to the text its fingerprint reads (for parametrized tests)."""

    file: str
    fingerprint: Fingerprint
    example: Example
    group: tuple[Fingerprint, ...]


@dataclass(slots=True)
class VerifyReport:
    problems: list[str] = field(default_factory=list)
    fingerprints_per_file: dict[str, int] = field(default_factory=dict)
    examples_per_file: dict[str, int] = field(default_factory=dict)
    examples_per_vendor: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def example_count(self) -> int:
        return sum(self.examples_per_file.values())


def example_target(ff: FingerprintFile, fp: Fingerprint, ex: Example) -> str:
    """The string the fingerprint's pattern is applied to for this example."""
    if fp.field is None:
        return ex.text
    if ex.field_value is not None:
        return ex.field_value
    try:
        fields = extract(ff.kind, ex.text)
    except ExtractError as exc:
        raise ValueError(f"example document does not parse: {exc}") from None
    if fp.field not in fields:
        raise ValueError(f"example document has no field {fp.field!r}")
    return fields[fp.field]


def iter_cases(data: FingerprintData) -> list[ExampleCase]:
    cases: list[ExampleCase] = []
    for ff in data.db.files.values():
        for fp in ff.fingerprints:
            group = tuple(f for f in ff.fingerprints if f.field == fp.field)
            cases.extend(ExampleCase(ff.path, fp, ex, group) for ex in fp.examples)
    return cases


def check_case(data: FingerprintData, case: ExampleCase) -> list[str]:
    """Problems with one example (empty when it is fine)."""
    ff = data.db.files[next(k for k, f in data.db.files.items() if f.path == case.file)]
    fp, ex = case.fingerprint, case.example
    where = f"{case.file}: {fp.id}: example {ex.field_value or ex.text!r}"
    try:
        target = example_target(ff, fp, ex)
    except ValueError as exc:
        return [f"{where}: {exc}"]
    if fp.regex.search(target) is None:
        return [f"{where}: does not match its own pattern"]
    winner = first_match(case.group, target)
    if winner is None or winner.fingerprint.id != fp.id:
        shadow = winner.fingerprint.id if winner else "?"
        return [f"{where}: shadowed by earlier fingerprint {shadow!r}"]
    problems: list[str] = []
    for name, want in ex.expect.items():
        got = winner.attrs.get(name)
        if got != want:
            problems.append(f"{where}: {name} is {got!r}, expected {want!r}")
    for name, template in fp.asserts.items():
        if "$" not in template and winner.attrs.get(name) != template:
            problems.append(f"{where}: constant {name} not asserted")
    return problems


def _check_names(data: FingerprintData, report: VerifyReport) -> None:
    vendors = {v.casefold() for v in data.vendors}
    if len(vendors) != len(data.vendors):
        report.problems.append("identifiers/vendors.txt: duplicate vendor (case-folded)")
    if list(data.vendors) != sorted(data.vendors, key=str.casefold):
        report.problems.append("identifiers/vendors.txt: not sorted (case-insensitive)")
    for b in data.brands.brands:
        makers = [
            b.manufacturer,
            *(line.manufacturer for line in b.lines),
            *(o.owner for o in b.ownership),
        ]
        for maker in makers:
            if maker.casefold() not in vendors:
                report.problems.append(
                    f"brands.yaml: {b.name}: manufacturer {maker!r} not in vendors.txt"
                )
    if not data.oui.as_of:
        report.problems.append("oui/oui.tsv: no as_of date in the header")
    try:
        if not data.oui.entries:
            report.problems.append("oui/oui.tsv: no prefixes")
        data.oui.check()
    except DataFileError as exc:  # the rows are parsed on first use
        report.problems.append(str(exc))
    for ff in data.db.files.values():
        for fp in ff.fingerprints:
            vendor = fp.asserts.get("hw.vendor")
            if vendor and "$" not in vendor and vendor.casefold() not in vendors:
                report.problems.append(
                    f"{ff.path}: {fp.id}: hw.vendor {vendor!r} not in vendors.txt"
                )
            brand = fp.asserts.get("hw.brand")
            if (
                brand
                and "$" not in brand
                and data.brands.lookup(brand) is None
                and brand.casefold() not in vendors
            ):
                report.problems.append(
                    f"{ff.path}: {fp.id}: hw.brand {brand!r} not in brands.yaml or vendors.txt"
                )


def _check_duplicates(data: FingerprintData, report: VerifyReport) -> None:
    ids: Counter[str] = Counter(fp.id for fp in data.db.fingerprints)
    report.problems.extend(f"duplicate fingerprint id {i!r}" for i, n in ids.items() if n > 1)
    for ff in data.db.files.values():
        descs = Counter(fp.description for fp in ff.fingerprints)
        report.problems.extend(
            f"{ff.path}: duplicate description {d!r}" for d, n in descs.items() if n > 1
        )
        pats = Counter((fp.field, fp.pattern) for fp in ff.fingerprints)
        report.problems.extend(
            f"{ff.path}: duplicate pattern {p!r}" for (_, p), n in pats.items() if n > 1
        )
        exs = Counter(
            (fp.field, ex.field_value, ex.text) for fp in ff.fingerprints for ex in fp.examples
        )
        report.problems.extend(
            f"{ff.path}: duplicate example {(v or t)!r}" for (_, v, t), n in exs.items() if n > 1
        )
        for fp in ff.fingerprints:
            if not fp.examples:
                report.problems.append(f"{ff.path}: {fp.id}: has no example")


def verify(data: FingerprintData) -> VerifyReport:
    report = VerifyReport()
    _check_duplicates(data, report)
    _check_names(data, report)
    for ff in data.db.files.values():
        report.fingerprints_per_file[ff.path] = len(ff.fingerprints)
        report.examples_per_file[ff.path] = sum(len(fp.examples) for fp in ff.fingerprints)
    for case in iter_cases(data):
        report.problems.extend(check_case(data, case))
        vendor = case.fingerprint.asserts.get("hw.vendor")
        if vendor is None and "hw.brand" in case.fingerprint.asserts:
            brand = case.example.expect.get("hw.brand", case.fingerprint.asserts["hw.brand"])
            row = data.brands.lookup(brand)
            vendor = row.manufacturer if row else None
        report.examples_per_vendor[vendor or "(no maker asserted)"] += 1
    return report
