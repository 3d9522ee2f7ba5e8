"""CPE 2.3 names as NVD writes them, and whether a device's model is the product one names.

NVD names camera firmware per model (``cpe:2.3:o:hikvision:ds-2cd2026g2-iu\\/sl_firmware``) or
per product family with ``x`` for the digits or letters that vary (Dahua's
``ipc-hx3xxx_firmware``, Hikvision's ``ds-2cd2xx2f-i``): after a digit each ``x`` is one
character, after letters it is a form factor of one to three letters; a parenthesised part is
optional (``ds-2cd2412f-i\\(w\\)`` is the DS-2CD2412F-I and the DS-2CD2412F-IW). A family match is
reported as such in the evidence chain, so a reader can check it against the maker's advisory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_SPLIT = re.compile(r"(?<!\\):")
_FAMILY_X = re.compile(r"x+")


@dataclass(frozen=True, slots=True)
class Cpe:
    part: str
    vendor: str
    product: str
    version: str
    text: str

    @classmethod
    def parse(cls, text: str) -> Cpe | None:
        fields = _SPLIT.split(text)
        if len(fields) < 6 or fields[0] != "cpe" or fields[1] != "2.3":
            return None
        return cls(
            fields[2], _unescape(fields[3]), _unescape(fields[4]), _unescape(fields[5]), text
        )

    @property
    def model(self) -> str:
        """The product without NVD's ``_firmware`` suffix: the model or family it names."""
        return self.product.removesuffix("_firmware")


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value).lower()


def normalise_model(model: str) -> str:
    """Lower case, no spaces; Dahua's ``DH-`` / ``DHI-`` sales prefix dropped (not in CPEs)."""
    text = re.sub(r"\s+", "", model.strip().lower())
    return re.sub(r"^dhi?-", "", text)


@lru_cache(maxsize=4096)
def _family_regex(product: str) -> re.Pattern[str] | None:
    """A pattern for a family name, or None when the name is one exact model."""
    has_x = bool(re.search(r"(?<=[0-9])x|x(?=[0-9])", product))
    has_optional = "(" in product
    if not (has_x or has_optional):
        return None
    out = []
    i = 0
    while i < len(product):
        ch = product[i]
        if ch == "(":
            end = product.find(")", i)
            if end < 0:
                return None
            out.append(f"(?:{re.escape(product[i + 1 : end])})?")
            i = end + 1
            continue
        run = _FAMILY_X.match(product, i)
        # An x counts as a wildcard only beside a digit (ipc-hx3xxx, nvr-4xxx); an x among
        # letters is a letter of the name (e.g. "xvr").
        if run is not None and _wild(product, run.start(), run.end()):
            n = run.end() - run.start()
            if run.start() > 0 and product[run.start() - 1].isalpha():
                # After letters, Dahua's x is a form factor of one to three letters (IPC-HX3XXX
                # covers IPC-HFW3..., IPC-HDBW3...); never digits, or IPC-HFW1330 would match.
                out.append(f"[a-z]{{{n},{n + 2}}}")
            else:
                out.append(f"[a-z0-9]{{{n}}}")  # after a digit: one character per x
            i = run.end()
            continue
        out.append(re.escape(ch))
        i += 1
    # A family name is a prefix of the model: IPC-HFW3431S-S-S2 belongs to IPC-HX3XXX.
    return re.compile("".join(out) + r"(?:[^0-9].*)?$")


def _wild(product: str, start: int, end: int) -> bool:
    before = product[start - 1] if start > 0 else ""
    after = product[end] if end < len(product) else ""
    return before.isdigit() or after.isdigit()


def model_key(model: str) -> str:
    """The form both sides are compared in: normalised, hyphens dropped."""
    return normalise_model(model).replace("-", "")


def family_pattern(cpe_model: str) -> re.Pattern[str] | None:
    """The pattern of a family name (None: the name is one exact model)."""
    return _family_regex(cpe_model.replace("-", ""))


def model_matches(cpe_model: str, device_model: str) -> str | None:
    """How the device's model matches a CPE product: "exact", "family", or None."""
    # Hyphens are dropped on both sides: NVD writes "nvr-4xxx" for Dahua's NVR4108HS-8P-4KS2.
    model = normalise_model(device_model).replace("-", "")
    product = cpe_model.replace("-", "")
    if not model:
        return None
    if model == product:
        return "exact"
    pattern = _family_regex(product)
    if pattern is not None and pattern.match(model):
        return "family"
    return None
