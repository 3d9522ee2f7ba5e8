"""Firmware version strings, compared across the makers' numbering, or honestly not at all.

Camera makers number firmware in their own ways: Hikvision ``V5.5.0 build 170725``, Dahua
``2.800.0000000.16.R, Build Date: 2021-06-30`` (and NVD writes Dahua's fixed versions as
``2.800.0000000.29.r.210630``), Axis ``10.12.199``. A version is read into numeric and
alphabetic parts plus an optional build (a date or build number). Two versions are compared part
by part; when the parts differ in kind (a letter against a number), or when only a build that one
side lacks would decide, the answer is UNKNOWN, never a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

_BUILD_WORD = re.compile(r"(?<![a-z])build(?:\s*date)?\s*[:=]?\s*", re.IGNORECASE)
_TOKENS = re.compile(r"[0-9]+|[a-z]+")


class Order(Enum):
    LESS = -1
    EQUAL = 0
    GREATER = 1
    UNKNOWN = 2


def _build_number(text: str) -> int | None:
    """A build as a number: ``170725``, ``2021-06-30`` (-> 210630), ``20210630`` (-> 210630)."""
    digits = re.sub(r"[^0-9]", "", text)
    if not digits:
        return None
    if len(digits) == 8 and digits.startswith(("19", "20")):
        digits = digits[2:]  # a full date and a six-digit yymmdd build name the same day
    return int(digits[:6]) if len(digits) >= 6 else int(digits)


@dataclass(frozen=True, slots=True)
class FirmwareVersion:
    """A parsed firmware version: its parts and, when stated, its build."""

    text: str
    parts: tuple[int | str, ...]
    build: int | None = None

    @classmethod
    def parse(cls, text: str) -> FirmwareVersion | None:
        """None when the text holds no version at all (empty, "-", "n/a", "unknown")."""
        raw = text.strip()
        lowered = raw.lower()
        if lowered in ("", "-", "*", "n/a", "na", "unknown", "none"):
            return None
        head, build = lowered, None
        word = _BUILD_WORD.search(lowered)
        if word is not None:
            head = lowered[: word.start()]
            build = _build_number(lowered[word.end() :])
        head = head.strip(" ,;")
        if head.startswith("v") and head[1:2].isdigit():
            head = head[1:]
        tokens: list[int | str] = [int(t) if t.isdigit() else t for t in _TOKENS.findall(head)]
        # NVD writes Dahua builds into the version: 2.800.0000000.29.r.210630 -> build 210630.
        if (
            build is None
            and len(tokens) >= 3
            and tokens[-2] == "r"
            and isinstance(tokens[-1], int)
            and len(_TOKENS.findall(head)[-1]) == 6
        ):
            build = tokens[-1]
            tokens = tokens[:-1]
        if not tokens or not isinstance(tokens[0], int):
            return None
        return cls(raw, tuple(tokens), build)

    def compare(self, other: FirmwareVersion) -> Order:
        """Order of self against other, or UNKNOWN when the numbering does not allow it."""
        a, b = self.parts, other.parts
        for x, y in zip(a, b, strict=False):
            if isinstance(x, int) and isinstance(y, int):
                if x != y:
                    return Order.LESS if x < y else Order.GREATER
            elif isinstance(x, str) and isinstance(y, str):
                if x != y:
                    return Order.UNKNOWN  # "r" against "t": two release lines, no order
            else:
                return Order.UNKNOWN
        longer = a[len(b) :] if len(a) > len(b) else b[len(a) :]
        # A trailing release marker or zeros add nothing (5.4 == 5.4.0, 2.800.0.16 == ...16.R).
        if any(not (p == 0 or p == "r") for p in longer):
            return Order.UNKNOWN
        if self.build is not None and other.build is not None:
            if self.build == other.build:
                return Order.EQUAL
            return Order.LESS if self.build < other.build else Order.GREATER
        if self.build is None and other.build is None:
            return Order.EQUAL
        return Order.UNKNOWN  # same version, and only the build (which one side lacks) decides
