"""`camaudit identify`: offline identification of observations read as JSON Lines."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, BinaryIO

from auditor.exitcodes import ExitCode
from auditor.identify import Identifier
from auditor.models import Identification, Observation, ObservationKind

#: A line longer than this is refused (one observation is a banner or a small document).
MAX_LINE_CHARS = 1024 * 1024
#: A record may carry at most this many observations.
MAX_OBSERVATIONS = 1000


class LineError(ValueError):
    """This input line cannot be identified; reported in place, the rest go on."""


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "identify",
        help="identify devices from observations (JSON Lines on stdin)",
        description='Read JSON Lines on stdin: one observation {"kind": K, "value": S} or a '
        'record {"observations": [...]} per line; write one identification per line to stdout. '
        "A line that cannot be read gets an error record in its place; the rest go on, and "
        f"the exit code is then {int(ExitCode.INCOMPLETE)}.",
    )
    p.set_defaults(func=run)


def _observation(raw: Any, now: datetime) -> Observation:
    if not isinstance(raw, dict):
        raise LineError("an observation must be an object with 'kind' and 'value'")
    kind, value = raw.get("kind"), raw.get("value")
    if not isinstance(kind, str):
        raise LineError("'kind' must be a string")
    try:
        obs_kind = ObservationKind(kind)
    except ValueError:
        raise LineError(f"unknown kind {kind!r}") from None
    if not isinstance(value, str):
        raise LineError("'value' must be a string")
    return Observation(kind=obs_kind, value=value, source="stdin", observed_at=now)


def parse_line(line: str, now: datetime) -> list[Observation]:
    if len(line) > MAX_LINE_CHARS:
        raise LineError(f"line longer than {MAX_LINE_CHARS} characters")
    try:
        doc = json.loads(line)
    except (ValueError, RecursionError) as exc:
        raise LineError(f"not JSON: {exc}") from None
    if isinstance(doc, dict) and "observations" in doc:
        items = doc["observations"]
        if not isinstance(items, list):
            raise LineError("'observations' must be a list")
        if len(items) > MAX_OBSERVATIONS:
            raise LineError(f"more than {MAX_OBSERVATIONS} observations in one record")
        return [_observation(item, now) for item in items]
    return [_observation(doc, now)]


def to_json(ident: Identification) -> dict[str, Any]:
    return {
        "manufacturer": ident.manufacturer,
        "brand": ident.brand,
        "model": ident.model,
        "device_type": None if ident.device_type.value == "unknown" else ident.device_type.value,
        "confidence": ident.confidence,
        "firmware": ident.firmware,
        "serial": ident.serial,
        "oem_relabel": ident.oem_relabel,
        "components": [
            {"kind": c.kind, "vendor": c.vendor, "model": c.model} for c in ident.components
        ],
        "rationale": list(ident.rationale),
        "evidence": [
            {
                "kind": link.observation.kind.value,
                "value": link.observation.value[:200],
                "fingerprint": link.fingerprint_id,
                "description": link.description,
                "asserts": dict(link.asserts),
                "weight": link.weight,
                "source": link.source,
            }
            for link in ident.evidence
        ],
    }


def bounded_lines(stream: BinaryIO, limit: int = MAX_LINE_CHARS) -> Iterator[bytes]:
    """Lines of ``stream``, never holding more than ``limit`` bytes of one line in memory.

    A longer line is drained and replaced by an over-long stand-in, so it becomes that line's
    "too long" error while the following lines still go on.
    """
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        if len(line) > limit and not line.endswith(b"\n"):
            while True:  # drain the rest of the over-long line
                rest = stream.readline(limit + 1)
                if not rest or rest.endswith(b"\n"):
                    break
            yield b"x" * (limit + 1)
            continue
        yield line


def identify_lines(lines: Iterable[bytes], identifier: Identifier) -> Iterator[dict[str, Any]]:
    for n, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        now = datetime.now(UTC)
        try:
            # Decode per line: one line of bad bytes is that line's error, not the whole run's.
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise LineError(f"not UTF-8: {exc}") from None
            observations = parse_line(line, now)
        except LineError as exc:
            yield {"error": str(exc), "line": n}
            continue
        yield to_json(identifier.identify(observations))


def run(args: argparse.Namespace) -> ExitCode:
    identifier = Identifier.default()
    out = sys.stdout
    failed = 0
    for result in identify_lines(bounded_lines(sys.stdin.buffer), identifier):
        failed += "error" in result
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
        out.flush()
    if failed:
        # Every other line was identified; a pipeline must still learn that some were not.
        print(
            f"camaudit identify: {failed} line(s) could not be read (see their error records)",
            file=sys.stderr,
        )
        return ExitCode.INCOMPLETE
    return ExitCode.CLEAN
