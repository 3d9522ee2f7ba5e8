"""``bench/run recog``: identification over every example of Rapid7 Recog (a peer's test data).

Recog (https://github.com/rapid7/recog, BSD-2) ships real observed strings with each
fingerprint. The set is read at run time from ``CAMAUDIT_RECOG_XML`` (default
``/work/shared/peers/recog/xml``) and never copied into this repository; without it the
benchmark is skipped with a message.

Definitions (fixed here, used by every helper):

* An example belongs to the **camera/video set** when its fingerprint's ``hw.device`` or
  ``os.device`` (a constant, ``pos="0"``) or its description matches ``CAMERA_DEVICE``: IP
  cameras, webcams, DVRs, NVRs ("Network Video Recorder"), video encoders and decoders,
  surveillance devices, Panasonic's "digital disk recorder" and Ubiquiti's "UniFi Video" NVR
  service; or when its maker is in ``SURVEILLANCE_ONLY`` (makers that sell nothing
  but video-surveillance devices, e.g. Xiongmai's uc-httpd carries no device type). Recog's
  "Video Conferencing" endpoints (Cisco, Polycom, Lifesize...) and "Audio Encoder" are not
  surveillance devices: they are counted apart and are neither recall nor precision.
* Every other example of a mapped file is a **non-camera example**.
* The expected maker is the fingerprint's ``hw.vendor``, else ``os.vendor``, else
  ``service.vendor``. An example is **named right** when camaudit's manufacturer equals it after
  both go through the vendor registry (``auditor.identify.vendors``), or when camaudit names the
  maker behind the example's brand (brands.yaml), e.g. Recog "Lorex" and camaudit "Dahua". An
  example Recog gives no maker ("Basic realm=\"DVR\"") is named right by "video device, maker
  unknown" and wrong by any maker. ("AVTECH" is not a surveillance-only maker: Recog's AVTECH
  Software examples are Room Alert environment monitors, another company than AVTECH's DVRs.)
* A **false camera claim** is a video device type on a non-camera example; a **wrong maker** is a
  manufacturer that differs from a non-camera example's expected maker.
"""

from __future__ import annotations

import base64
import os
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from auditor.identify import Identifier
from auditor.models import Identification, Observation, ObservationKind
from auditor.net import safexml

DEFAULT_XML = "/work/shared/peers/recog/xml"
#: Recog's largest file (snmp_sysdescr.xml) is about 0.5 MB; the cap leaves room to grow.
MAX_RECOG_XML_BYTES = 16 * 1024 * 1024

CAMERA_DEVICE = re.compile(
    r"camera|web ?cam|\bnvr\b|\bdvr\b|surveillance|video (?:encoder|decoder|recorder|server)"
    r"|network video|\bipcam|disk recorder|unifi video",
    re.IGNORECASE,
)
#: Makers whose every product is a video-surveillance device: an example Recog credits to one of
#: them is a camera/recorder example even when Recog gives no device type (Xiongmai's uc-httpd).
SURVEILLANCE_ONLY = frozenset(
    s.casefold()
    for s in (
        "Xiongmai Technology", "Xiongmai", "Hikvision", "Dahua", "Axis", "Mobotix", "Avigilon",
        "Milesight", "Uniview", "Tiandy", "GeoVision", "Merit LILIN", "LILIN",
        "IQinVision", "Vivotek", "ACTi", "Arecont Vision", "Foscam", "Hipcam", "Netwave",
    )
)  # fmt: skip
CONFERENCING = re.compile(r"video ?conferenc", re.IGNORECASE)

#: Recog file -> the observation kind that carries the same string in camaudit.
KINDS: dict[str, ObservationKind] = {
    "http_servers.xml": ObservationKind.HTTP_SERVER,
    "html_title.xml": ObservationKind.HTTP_TITLE,
    "http_wwwauth.xml": ObservationKind.HTTP_WWW_AUTHENTICATE,
    "favicons.xml": ObservationKind.HTTP_FAVICON_MD5,
    "rtsp_servers.xml": ObservationKind.RTSP_SERVER,
    "ftp_banners.xml": ObservationKind.FTP_BANNER,
    "ssh_banners.xml": ObservationKind.SSH_BANNER,
    "telnet_banners.xml": ObservationKind.TELNET_BANNER,
    "snmp_sysdescr.xml": ObservationKind.SNMP_SYSDESCR,
    "sip_user_agents.xml": ObservationKind.SIP_USER_AGENT,
    "sip_banners.xml": ObservationKind.SIP_USER_AGENT,
    "x509_subjects.xml": ObservationKind.TLS_SUBJECT,
    "x509_issuers.xml": ObservationKind.TLS_ISSUER,
    "dhcp_vendor_class.xml": ObservationKind.DHCP_VENDOR_CLASS,
    "mdns_device-info_txt.xml": ObservationKind.MDNS_SERVICE,
}
#: Recog files with no camaudit kind today (they are listed, not scored).
UNMAPPED = ("http_cookies.xml", "snmp_sysobjid.xml")

_WHEN = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Example:
    file: str
    kind: ObservationKind
    text: str
    vendor: str | None
    device: str
    description: str

    @property
    def is_camera(self) -> bool:
        if self.is_conferencing:
            return False
        if CAMERA_DEVICE.search(self.device) or CAMERA_DEVICE.search(self.description):
            return True
        return (self.vendor or "").casefold() in SURVEILLANCE_ONLY

    @property
    def is_conferencing(self) -> bool:
        return bool(CONFERENCING.search(self.device) or CONFERENCING.search(self.description))


def _observation_text(kind: ObservationKind, text: str) -> str:
    if kind is ObservationKind.MDNS_SERVICE:
        # Recog holds the bare TXT string of _device-info._tcp; camaudit's mDNS channel records
        # each answer as "TXT <name> <strings>".
        return f"TXT device-info._device-info._tcp.local {text}"
    return text


def load_examples(xml_dir: Path) -> Iterator[Example]:
    for name, kind in KINDS.items():
        path = xml_dir / name
        if not path.exists():
            continue
        root = safexml.parse(path.read_bytes(), limit=MAX_RECOG_XML_BYTES)
        for fp in root.iter("fingerprint"):
            params = {
                p.get("name", ""): p.get("value", "")
                for p in fp.iter("param")
                if p.get("pos") == "0" and p.get("value")
            }
            vendor = next(
                (
                    params[k]
                    for k in ("hw.vendor", "os.vendor", "service.vendor")
                    if k in params and "{" not in params[k]
                ),
                None,
            )
            device = params.get("hw.device") or params.get("os.device") or ""
            desc = (fp.findtext("description") or "").strip()
            for ex in fp.iter("example"):
                text = ex.text or ""
                if ex.get("_encoding") == "base64":
                    text = base64.b64decode(text).decode("utf-8", "replace")
                yield Example(name, kind, _observation_text(kind, text), vendor, device, desc)


@dataclass(slots=True)
class Tally:
    total: int = 0
    right: int = 0


@dataclass(slots=True)
class RecogResult:
    cameras: Tally = field(default_factory=Tally)
    per_kind: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    per_vendor: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    type_only: int = 0
    """Camera examples where camaudit named no maker but did say "video device"."""
    misses: list[tuple[Example, Identification]] = field(default_factory=list)
    wrong_on_cameras: list[tuple[Example, str]] = field(default_factory=list)
    non_camera: int = 0
    false_camera: list[tuple[Example, Identification]] = field(default_factory=list)
    wrong_maker: list[tuple[Example, str]] = field(default_factory=list)
    named_unlabelled: Counter[str] = field(default_factory=Counter)
    conferencing: Tally = field(default_factory=Tally)


def run(
    xml_dir: Path,
    identifier: Identifier,
    same_maker: Callable[[str, str], bool],
    vendor_group: Callable[[str], str] = str,
) -> RecogResult:
    """Identify every example; ``vendor_group`` folds Recog's spellings ("AXIS", "Axis")."""
    result = RecogResult()
    for ex in load_examples(xml_dir):
        obs = Observation(ex.kind, ex.text, "recog", _WHEN)
        ident = identifier.identify([obs])
        maker = ident.manufacturer
        if ex.vendor:
            right = bool(maker and same_maker(ex.vendor, maker))
        else:  # Recog names no maker: "video device, maker unknown" is the right answer
            right = maker is None and ident.device_type.is_video
        if ex.is_camera:
            result.cameras.total += 1
            result.per_kind[ex.file].total += 1
            group = vendor_group(ex.vendor) if ex.vendor else "(none)"
            result.per_vendor[group].total += 1
            if right:
                result.cameras.right += 1
                result.per_kind[ex.file].right += 1
                result.per_vendor[group].right += 1
            else:
                result.misses.append((ex, ident))
                if maker is None and ident.device_type.is_video:
                    result.type_only += 1
                if maker and ex.vendor:
                    result.wrong_on_cameras.append((ex, maker))
        elif ex.is_conferencing:
            result.conferencing.total += 1
            result.conferencing.right += int(right)
        else:
            result.non_camera += 1
            if ident.device_type.is_video:
                result.false_camera.append((ex, ident))
            if maker and ex.vendor and not right:
                result.wrong_maker.append((ex, maker))
            elif maker and not ex.vendor:
                result.named_unlabelled[maker] += 1
    return result


#: Recog names the Samsung group for Samsung Techwin's surveillance products (the business that
#: became Hanwha Techwin in 2015, now Hanwha Vision); camaudit names today's maker.
RECOG_GROUP_NAMES = {"samsung": "hanwha"}


def canonical_vendor(identifier: Identifier) -> Callable[[str], str]:
    """A Recog or camaudit maker name, through the vendor registry ("AXIS" -> "Axis")."""
    registry = identifier.vendor_registry

    def canonical(name: str) -> str:
        hit = registry.resolve(name)
        return hit.canonical if hit else name

    return canonical


def default_same_maker(identifier: Identifier) -> Callable[[str, str], bool]:
    """Equality through the vendor registry, and through brands.yaml (a brand names its maker)."""
    canonical = canonical_vendor(identifier)

    def key(name: str) -> str:
        return canonical(name).casefold()

    def same(expected: str, named: str) -> bool:
        want, got = key(expected), key(named)
        if want == got or RECOG_GROUP_NAMES.get(want) == got:
            return True
        row = identifier.data.brands.lookup(expected)
        return row is not None and key(row.manufacturer) == got

    return same


def summary(result: RecogResult) -> dict[str, object]:
    """The figures of a run, for ``--json``."""
    return {
        "cameras": [result.cameras.right, result.cameras.total],
        "per_file": {k: [t.right, t.total] for k, t in result.per_kind.items()},
        "per_vendor": {k: [t.right, t.total] for k, t in result.per_vendor.items()},
        "non_camera": result.non_camera,
        "false_camera": len(result.false_camera),
        "wrong_maker": len(result.wrong_maker),
        "wrong_maker_on_cameras": len(result.wrong_on_cameras),
    }


def xml_dir_from_env() -> Path:
    return Path(os.environ.get("CAMAUDIT_RECOG_XML", DEFAULT_XML))


def report(result: RecogResult, verbose: bool = False) -> str:
    from bench import table

    def pct(t: Tally) -> str:
        return f"{t.right}/{t.total} ({100 * t.right / max(1, t.total):.0f}%)"

    vendors_named = sum(1 for v, t in result.per_vendor.items() if t.right and v != "(none)")
    vendors_total = sum(1 for v in result.per_vendor if v != "(none)")
    rows = [
        ["camera/video examples named right", pct(result.cameras), ">= 90%",
         table.verdict(result.cameras.right >= 0.9 * result.cameras.total)],
        ["  ... of which type-only (video, maker unknown)", str(result.type_only), "", ""],
        ["  ... wrong maker named", str(len(result.wrong_on_cameras)), "0",
         table.verdict(not result.wrong_on_cameras)],
        ["camera vendors named", f"{vendors_named}/{vendors_total}", ">= 40", ""],
        ["non-camera examples", str(result.non_camera), "", ""],
        ["  false camera claims", str(len(result.false_camera)), "0",
         table.verdict(not result.false_camera)],
        ["  wrong maker named", str(len(result.wrong_maker)), "0",
         table.verdict(not result.wrong_maker)],
        ["  maker named where Recog gives none", str(sum(result.named_unlabelled.values())),
         "", ""],
        ["video conferencing examples (not scored)", pct(result.conferencing), "", ""],
    ]  # fmt: skip
    out = [table.render("Recog examples", rows, ("measure", "camaudit", "target", "verdict"))]
    out.append("")
    kinds = [[k, pct(t)] for k, t in sorted(result.per_kind.items())]
    out.append(table.render("camera/video examples per Recog file", kinds, ("file", "named")))
    out.append("")
    vend = [[v, pct(t)] for v, t in sorted(result.per_vendor.items(), key=lambda kv: kv[0].lower())]
    out.append(table.render("camera/video examples per vendor", vend, ("vendor", "named")))
    problems = [f"FALSE CAMERA {e.file}: {e.text[:80]!r}" for e, _ in result.false_camera]
    problems += [f"WRONG MAKER {e.file}: {e.text[:80]!r} is {e.vendor}, said {m}"
                 for e, m in result.wrong_maker + result.wrong_on_cameras]  # fmt: skip
    if problems:
        out += ["", *problems]
    if verbose:
        out.append("")
        for e, ident in result.misses:
            out.append(
                f"miss {e.file} [{e.vendor}] {e.text[:90]!r} -> "
                f"{ident.manufacturer} {ident.device_type.value}"
            )
    return "\n".join(out)
