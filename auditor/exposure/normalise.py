"""Name normalisation for matching makers against official lists.

Lists spell the same company many ways: "HANGZHOU HIKVISION DIGITAL TECHNOLOGY CO., LTD.",
"Hangzhou Hikvision Digital Technology Company", "Hikvision". We compare a normal form:
compatibility-decomposed (NFKD) and stripped of accents, case-folded, punctuation turned into
spaces, and legal-form words (Co., Ltd., Company, Corporation, Inc., ...) removed. Descriptive
words such as "Technology" are removed too, but only as a second, looser key, because on their
own they would make unrelated firms look alike.
"""

from __future__ import annotations

import re
import unicodedata

# Legal-form words: they say what kind of company it is, never which one.
LEGAL_FORMS = frozenset(
    {
        "co",
        "company",
        "corp",
        "corporation",
        "inc",
        "incorporated",
        "ltd",
        "limited",
        "llc",
        "plc",
        "gmbh",
        "ag",
        "ab",
        "sa",
        "srl",
        "bv",
        "nv",
        "pte",
        "pvt",
        "private",
        "jsc",
        "ojsc",
        "pjsc",
        "oao",
        "ooo",
        "zao",
        "kk",
        "the",
        "and",
        "of",
    }
)
# Descriptive words common in Chinese company names; dropped only in the loose key.
DESCRIPTIVE = frozenset(
    {
        "technology",
        "technologies",
        "tech",
        "digital",
        "group",
        "holding",
        "holdings",
        "international",
        "science",
        "information",
        "network",
        "networks",
        "electronic",
        "electronics",
        "communication",
        "communications",
        "software",
        "industrial",
        "industries",
        "share",
        "shares",
        "stock",
    }
)
# "S.A.", "L.L.C.": the dot after a one-letter word joins the letters ("SA", "LLC").
_INITIAL_DOT = re.compile(r"(?<=\b\w)\.")
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)
# "(Hikvision)" in a 1260H entry repeats a short name; keep its words, drop the brackets.
_AFFILIATED = re.compile(r"\b(?:and any successor, sub-unit, or subsidiary thereof)\b", re.I)


def fold(text: str) -> str:
    """NFKD-decompose, drop combining marks, case-fold: 'Société' -> 'societe'."""
    if text.isascii():
        return text.casefold()  # nothing to decompose: the common case, and 10x faster
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.casefold()


def tokens(text: str) -> list[str]:
    text = _AFFILIATED.sub(" ", text)
    text = _INITIAL_DOT.sub("", text)
    return [t for t in _NON_WORD.sub(" ", fold(text)).replace("_", " ").split() if t]


def normal_form(text: str) -> str:
    """The strict key: legal-form words removed, word order kept."""
    words = [t for t in tokens(text) if t not in LEGAL_FORMS]
    return " ".join(words)


def loose_form(text: str) -> str:
    """The loose key: also without descriptive words; used for fuzzy comparison only."""
    words = [t for t in tokens(text) if t not in LEGAL_FORMS and t not in DESCRIPTIVE]
    return " ".join(words) or normal_form(text)


def forms(text: str) -> tuple[str, str]:
    """(normal_form, loose_form) from one tokenisation: the importer's hot path."""
    words = [t for t in tokens(text) if t not in LEGAL_FORMS]
    loose = [t for t in words if t not in DESCRIPTIVE]
    normal = " ".join(words)
    return normal, " ".join(loose) or normal
