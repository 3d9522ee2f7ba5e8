"""Brand hints for an unidentified device, from the fingerprint data's brand table.

Used only to explain a device whose maker could not be identified ("the brand X is reported as
an OEM relabel of Y"), never to decide a maker: identification does that with device evidence.
``fingerprints/brands.yaml`` has one reader, ``identify.reference.parse_brands``, whose rules
(every field present, a known confidence, no name used twice) hold here too.
"""

from __future__ import annotations

import functools
from importlib.abc import Traversable
from pathlib import Path

from auditor.identify.reference import BrandTable, load_brands
from auditor.resources import fingerprints_dir


def load_brand_table(root: Traversable | Path | None = None) -> BrandTable:
    """The brand table of ``root`` (default: the data in use, read once per process).

    Raises DataFileError naming the brand and the field when brands.yaml is not valid.
    """
    return load_brands(root) if root is not None else _of_data_in_use()


@functools.cache
def _of_data_in_use() -> BrandTable:
    return load_brands(fingerprints_dir())
