#!/usr/bin/env python3
"""Release a camaudit data bundle: build it from fingerprints/ and sign it (README, "Data updates").

    python tools/make_bundle.py keygen --out ~/secure/camaudit-data.key
    python tools/make_bundle.py build --key ~/secure/camaudit-data.key --version 2026.12.0 \
        --out dist/camaudit-data-2026.12.0.tar.gz [--components regulatory brands oui]

The private key is read from the path given and is never written into the repository. The
bundle records the repository commit it was built from, so anyone can trace every fact in it.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from auditor.databundle import COMPONENTS, BundleError, build_bundle, new_key  # noqa: E402


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "fingerprints"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown commit"
    return out.stdout.strip() + (" (with uncommitted changes in fingerprints/)" if dirty else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    kg = sub.add_parser("keygen", help="write a new Ed25519 signing key; print its public key")
    kg.add_argument("--out", type=Path, required=True)
    b = sub.add_parser("build", help="build and sign a bundle")
    b.add_argument("--key", type=Path, required=True, help="the private signing key (PEM)")
    b.add_argument("--version", required=True, help="YYYY.MM.N, e.g. 2026.12.0")
    b.add_argument("--out", type=Path, required=True)
    b.add_argument("--source", type=Path, default=REPO / "fingerprints")
    b.add_argument(
        "--components", nargs="+", default=["regulatory", "brands", "oui"], choices=COMPONENTS
    )
    b.add_argument("--note", action="append", default=[], help="a line for the release notes")
    b.add_argument(
        "--vulns-from",
        type=Path,
        metavar="DATA_DIR",
        help="with --components vulns: the data folder where `camaudit data import-kev` and "
        "`import-cve` stored the KEV catalogue and CVE records to ship",
    )
    args = parser.parse_args(argv)
    try:
        if args.cmd == "keygen":
            pem = new_key(args.out)
            print(f"private key written to {args.out} (keep it out of the repository)")
            print("public key (add it as auditor/databundle/keys/<name>.pem):")
            print(pem.decode(), end="")
            return 0
        commit = _commit()
        manifest = build_bundle(
            args.source,
            args.out,
            version=args.version,
            key_path=args.key,
            created=datetime.now(UTC).date(),
            components=args.components,
            sources=(f"camaudit repository @{commit}: fingerprints/",),
            notes=tuple(args.note),
            vulns_from=args.vulns_from,
        )
    except BundleError as exc:
        print(f"make_bundle: error: {exc}", file=sys.stderr)
        return 2
    print(
        f"wrote {args.out}: bundle {manifest.version}, data as of {manifest.as_of}, "
        f"{len(manifest.files)} files ({', '.join(manifest.components)}), key {manifest.key_id}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
