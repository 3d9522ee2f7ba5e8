"""``bench/run import``: a 50,000-host nmap XML imported and identified offline.

The file is generated at bench time into a temporary folder (never committed), in nmap's own
``-oX`` layout (nmap 7.93's ``nmap.dtd``: ``<nmaprun>``, per host ``<status>``, ``<address>``,
``<hostnames>``, ``<ports>`` with ``<extraports>``, ``<port>``/``<state>``/``<service>``/``<cpe>``
and ``<script>`` output, ``<times>``; a closing ``<runstats>``). The camera hosts carry what
nmap prints for cameras: the product names of the repository's own fingerprint examples
(fingerprints/nmap_service.yaml quotes nmap-service-probes), the HTTP Server header and MAC
vendor names of the same maker (fingerprints/http_server.yaml, mac_vendor.yaml) and MAC
prefixes the IEEE registry assigns to that maker (fingerprints/oui/oui.tsv). Other hosts run
everyday services, and some are up with every port closed or filtered.

``camaudit scan --from-nmap FILE`` (no targets: identified offline, nothing contacted) runs as
a child process, measured by ``bench.measure.run_measured`` (wall time, CPU, peak RSS).
"""

from __future__ import annotations

import random
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

import yaml

from bench.measure import Measurement, median, run_measured

ROOT = Path(__file__).resolve().parent.parent
FINGERPRINTS = ROOT / "fingerprints"

#: The figures issue 16 asks for.
TARGET_HOSTS_PER_S = 1000.0
TARGET_RSS_MB = 500.0

#: Ports nmap reports for the camera services (HTTP, RTSP, the vendor SDK ports).
CAMERA_PORTS = ((80, "http"), (554, "rtsp"), (8000, "http-alt"), (443, "https"), (37777, "http"))

#: Everyday services on the other hosts, as nmap -sV names them (product, version, extrainfo).
OTHER_SERVICES: tuple[tuple[int, str, str, str, str], ...] = (
    (22, "ssh", "OpenSSH", "8.9p1 Ubuntu 3ubuntu0.6", "Ubuntu Linux; protocol 2.0"),
    (22, "ssh", "OpenSSH", "7.4", "protocol 2.0"),
    (80, "http", "Apache httpd", "2.4.52", "(Ubuntu)"),
    (80, "http", "nginx", "1.18.0", "Ubuntu"),
    (80, "http", "Microsoft IIS httpd", "10.0", ""),
    (135, "msrpc", "Microsoft Windows RPC", "", ""),
    (139, "netbios-ssn", "Microsoft Windows netbios-ssn", "", ""),
    (445, "microsoft-ds", "", "", ""),
    (631, "ipp", "CUPS", "2.4", ""),
    (3389, "ms-wbt-server", "Microsoft Terminal Services", "", ""),
    (9100, "jetdirect", "", "", ""),
)


@dataclass(frozen=True, slots=True)
class Maker:
    """One maker's strings, all from the fingerprint files' examples."""

    name: str
    services: tuple[str, ...]
    """nmap -sV product names (nmap_service.yaml examples)."""
    http_servers: tuple[str, ...] = ()
    mac_vendors: tuple[str, ...] = ()
    mac_prefixes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PlantedHost:
    address: str
    maker: str | None
    """The maker its nmap output names (None: not a camera, or nothing open)."""
    open_ports: int
    header_only: bool = False
    """-sV named no product: only the http-server-header script output names the maker."""


@dataclass
class Generated:
    path: Path
    hosts: list[PlantedHost] = field(default_factory=list)
    size_bytes: int = 0


def _examples(kind: str, min_weight: float = 0.0) -> Iterator[tuple[str, str]]:
    """(maker, example text) of every fingerprint in ``kind``.yaml that asserts a constant maker
    and names one alone (a ``shared`` fingerprint only supports other evidence), with at least
    ``min_weight`` (the file's ``preference`` when the entry gives none)."""
    data: dict[str, Any] = yaml.safe_load((FINGERPRINTS / f"{kind}.yaml").read_text("utf-8"))
    for fp in data["fingerprints"]:
        vendor = fp.get("assert", {}).get("hw.vendor")
        if not vendor or "$" in vendor or fp.get("shared") or fp.get("field"):
            continue
        if float(fp.get("weight", data.get("preference", 1.0))) < min_weight:
            continue
        for example in fp.get("examples", ()):
            if "text" in example:
                yield vendor, str(example["text"])


def _mac_prefixes(patterns: dict[str, list[re.Pattern[str]]]) -> dict[str, list[str]]:
    """MA-L prefixes whose IEEE registrant a maker's mac_vendor fingerprint matches."""
    found: dict[str, list[str]] = {m: [] for m in patterns}
    for line in (FINGERPRINTS / "oui" / "oui.tsv").read_text("utf-8").splitlines():
        if line.startswith("#"):
            continue
        prefix, registrant, *_ = line.split("\t")
        if len(prefix) != 6:
            continue
        for maker, pats in patterns.items():
            if any(p.search(registrant) for p in pats):
                found[maker].append(prefix)
    return found


def load_makers() -> tuple[Maker, ...]:
    """Every maker that nmap_service.yaml names, with its other strings where the data has them."""
    services: dict[str, list[str]] = {}
    for maker, text in _examples("nmap_service"):
        services.setdefault(maker, []).append(text)
    servers: dict[str, list[str]] = {}
    # A Server header alone names its maker only when its fingerprint is not a weak one (e.g.
    # uc-httpd, "weak alone": several platforms' firmware sends it).
    for maker, text in _examples("http_server", min_weight=0.5):
        servers.setdefault(maker, []).append(text)
    vendors: dict[str, list[str]] = {}
    patterns: dict[str, list[re.Pattern[str]]] = {}
    data: dict[str, Any] = yaml.safe_load((FINGERPRINTS / "mac_vendor.yaml").read_text("utf-8"))
    for fp in data["fingerprints"]:
        maker = fp.get("assert", {}).get("hw.vendor")
        if maker in services:
            vendors.setdefault(maker, []).extend(str(e["text"]) for e in fp["examples"])
            flags = re.IGNORECASE if "ignorecase" in fp.get("flags", ()) else 0
            patterns.setdefault(maker, []).append(re.compile(fp["pattern"], flags))
    prefixes = _mac_prefixes(patterns)
    return tuple(
        Maker(
            name,
            tuple(texts),
            tuple(servers.get(name, ())),
            tuple(vendors.get(name, ())),
            tuple(prefixes.get(name, ())),
        )
        for name, texts in sorted(services.items())
    )


def _address(index: int) -> str:
    # 10.0.0.0/8 laid out as a consultant's sweep of many /16s would list it.
    return f"10.{(index >> 16) & 255}.{(index >> 8) & 255}.{index & 255}"


def _extraports(out: IO[str], count: int, state: str) -> None:
    reason = "resets" if state == "closed" else "no-responses"
    out.write(
        f'<extraports state="{state}" count="{count}">\n'
        f'<extrareasons reason="{reason}" count="{count}" proto="tcp" ports="1-{count}"/>\n'
        "</extraports>\n"
    )


def _port(
    out: IO[str], port: int, name: str, product: str, version: str, extra: str, scripts: str
) -> None:
    attrs = f'name="{name}"'
    if product:
        attrs += f" product={quoteattr(product)}"
    if version:
        attrs += f" version={quoteattr(version)}"
    if extra:
        attrs += f" extrainfo={quoteattr(extra)}"
    method, conf = ('method="probed" conf="10"', "") if product else ('method="table" conf="3"', "")
    out.write(
        f'<port protocol="tcp" portid="{port}"><state state="open" reason="syn-ack" '
        f'reason_ttl="64"/><service {attrs} {method}{conf}/>{scripts}</port>\n'
    )


def _script(sid: str, output: str, elem_key: str | None = None) -> str:
    key = f' key="{elem_key}"' if elem_key else ""
    text = escape(output)
    return (
        f"<script id={quoteattr(sid)} output={quoteattr(output)}><elem{key}>{text}</elem>\n"
        "</script>"
    )


def _mac(rng: random.Random, prefix: str) -> str:
    tail = rng.getrandbits(24)
    digits = f"{prefix}{tail:06X}"
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


def generate(
    path: Path,
    hosts: int,
    seed: int = 16,
    camera_share: float = 0.4,
    closed_share: float = 0.25,
    makers: Sequence[Maker] | None = None,
) -> Generated:
    """Write an nmap -sV -sC XML of ``hosts`` up hosts and return what each host carries."""
    rng = random.Random(seed)
    makers = tuple(makers or load_makers())
    result = Generated(path)
    start = 1796400000
    with path.open("w", encoding="utf-8") as out:
        out.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE nmaprun>\n'
            '<?xml-stylesheet href="file:///usr/bin/../share/nmap/nmap.xsl" type="text/xsl"?>\n'
            "<!-- Nmap 7.93 scan initiated as: nmap -sV -sC -oX scan.xml 10.0.0.0/8 -->\n"
            '<nmaprun scanner="nmap" args="nmap -sV -sC -oX scan.xml 10.0.0.0/8" '
            f'start="{start}" startstr="Fri Dec  4 22:00:00 2026" version="7.93" '
            'xmloutputversion="1.05">\n'
            '<scaninfo type="syn" protocol="tcp" numservices="1000" services="1-1000"/>\n'
            '<verbose level="0"/>\n<debugging level="0"/>\n'
        )
        for index in range(hosts):
            address = _address(index + 1)
            roll = rng.random()
            when = start + index // 50
            out.write(
                f'<host starttime="{when}" endtime="{when + 12}"><status state="up" '
                'reason="arp-response" reason_ttl="0"/>\n'
                f'<address addr="{address}" addrtype="ipv4"/>\n'
            )
            maker: Maker | None = None
            header_only = False
            if roll < camera_share:
                maker = rng.choice(makers)
                if maker.mac_prefixes and rng.random() < 0.5:
                    vendor = rng.choice(maker.mac_vendors)
                    out.write(
                        f'<address addr="{_mac(rng, rng.choice(maker.mac_prefixes))}" '
                        f'addrtype="mac" vendor={quoteattr(vendor)}/>\n'
                    )
            out.write("<hostnames>\n")
            if rng.random() < 0.3:
                out.write(f'<hostname name="h{index}.corp.example" type="PTR"/>\n')
            out.write("</hostnames>\n<ports>")
            opened = 0
            if maker is not None:
                _extraports(out, 997, "closed")
                # Some cameras -sV cannot name: http-server-header then reports the Server
                # header and nmap takes it as the product ("softmatched").
                header_only = bool(maker.http_servers) and rng.random() < 0.25
                for port, name in rng.sample(CAMERA_PORTS, rng.randint(1, 3)):
                    product = rng.choice(maker.services)
                    scripts = ""
                    if (name.startswith("http") or header_only) and maker.http_servers:
                        server = rng.choice(maker.http_servers)
                        if header_only:
                            name, product = "http", server
                        scripts = _script("http-server-header", server) + _script(
                            "http-title", "Login", "title"
                        )
                    _port(out, port, name, product, "", "", scripts)
                    opened += 1
            elif roll < 1.0 - closed_share:
                _extraports(out, 996, "filtered")
                picks = {s[0]: s for s in rng.sample(OTHER_SERVICES, rng.randint(1, 4))}
                for port, name, product, version, extra in sorted(picks.values()):
                    _port(out, port, name, product, version, extra, "")
                    opened += 1
            else:
                _extraports(out, 1000, rng.choice(("closed", "filtered")))
            out.write('</ports>\n<times srtt="1203" rttvar="204" to="100000"/>\n</host>\n')
            result.hosts.append(
                PlantedHost(address, maker.name if maker else None, opened, header_only)
            )
        out.write(
            f'<runstats><finished time="{start + 3600}" timestr="Fri Dec  4 23:00:00 2026" '
            f'elapsed="3600.00" exit="success"/><hosts up="{hosts}" down="0" total="{hosts}"/>\n'
            "</runstats>\n</nmaprun>\n"
        )
    result.size_bytes = path.stat().st_size
    return result


@dataclass(frozen=True)
class ImportResult:
    hosts: int
    size_mb: float
    runs: list[Measurement]
    devices: int
    """Devices the audit's JSON report lists (it must be every host)."""
    makers_named: int
    cameras: int
    import_s: float = 0.0
    """The last run's import itself (the audit's start to its finish, as stored): the rest of
    the wall time is start-up and loading and rendering the report."""

    @property
    def wall_s(self) -> float:
        return median([r.wall_s for r in self.runs])

    @property
    def hosts_per_s(self) -> float:
        return self.hosts / self.wall_s

    @property
    def peak_rss_mb(self) -> float:
        return max(r.peak_rss_mb for r in self.runs)


def _camaudit() -> list[str]:
    return [sys.executable, "-m", "auditor"]


def check_report(report: dict[str, Any], planted: Sequence[PlantedHost]) -> tuple[int, int]:
    """(devices in the report, planted cameras whose maker the report names)."""
    made = {d["address"]: d["manufacturer"] for d in report["devices"]}
    named = sum(1 for h in planted if h.maker and made.get(h.address) == h.maker)
    return len(made), named


def run(hosts: int = 50_000, runs: int = 1, progress: Any = None) -> ImportResult:
    import json

    say = progress or (lambda message: None)
    with tempfile.TemporaryDirectory(prefix="camaudit-bench-import-") as tmp:
        folder = Path(tmp)
        xml = folder / "scan.xml"
        say(f"import: writing an nmap XML of {hosts:,} hosts ...")
        made = generate(xml, hosts)
        measured = []
        report: dict[str, Any] = {}
        for i in range(runs):
            db = folder / f"audit{i}.db"
            say(f"import: camaudit scan --from-nmap ({made.size_bytes / 1e6:.0f} MB), run {i + 1}")
            # What a consultant types: the console summary (to /dev/null here), no report file.
            m = run_measured(
                [*_camaudit(), "scan", "--from-nmap", str(xml), "--db", str(db), "--exit-zero"],
                timeout=3600,
            )
            if m.returncode != 0:
                raise RuntimeError(f"camaudit failed ({m.returncode}): {m.stderr_tail}")
            measured.append(m)
            say(
                f"import: run {i + 1}: {m.wall_s:.1f} s ({hosts / m.wall_s:,.0f} hosts/s), "
                f"CPU {m.cpu_s:.1f} s, peak RSS {m.peak_rss_mb:.0f} MB"
            )
            if i == runs - 1:
                # Checked outside the measured run: the stored audit, as its JSON report.
                out = folder / "report.json"
                subprocess.run(
                    [*_camaudit(), "report", "--db", str(db), "-f", "json", "-o", str(out)],
                    check=True,
                    stdout=subprocess.DEVNULL,
                )
                report = json.loads(out.read_text("utf-8"))
            db.unlink()
        devices, named = check_report(report, made.hosts)
        started = datetime.fromisoformat(report["audit"]["started"])
        finished = datetime.fromisoformat(report["audit"]["finished"])
        cameras = sum(1 for h in made.hosts if h.maker)
        return ImportResult(
            hosts,
            made.size_bytes / 1e6,
            measured,
            devices,
            named,
            cameras,
            (finished - started).total_seconds(),
        )


def table_text(r: ImportResult) -> str:
    from bench import table

    cpu = median([m.cpu_s for m in r.runs])
    rows = [
        ["hosts/s (median wall time)", f"{r.hosts_per_s:,.0f} ({r.wall_s:.1f} s)",
         f">= {TARGET_HOSTS_PER_S:,.0f}", table.verdict(r.hosts_per_s >= TARGET_HOSTS_PER_S)],
        ["peak RSS (max of runs)", f"{r.peak_rss_mb:.0f} MB", f"< {TARGET_RSS_MB:.0f} MB",
         table.verdict(r.peak_rss_mb < TARGET_RSS_MB)],
        ["CPU user+sys (median)", f"{cpu:.1f} s", "", ""],
        # On shared cores the wall time includes waiting for a core; hosts per CPU second
        # is what the import itself costs.
        ["hosts per CPU second", f"{r.hosts / cpu:,.0f}", "", ""],
        ["  of which the import (audit start to finish)",
         f"{r.import_s:.1f} s ({r.hosts / max(r.import_s, 1e-9):,.0f} hosts/s)", "", ""],
        ["  the rest: start-up, loading and rendering the report",
         f"{r.runs[-1].wall_s - r.import_s:.1f} s", "", ""],
        ["hosts in the report", f"{r.devices:,} of {r.hosts:,}", "all",
         table.verdict(r.devices == r.hosts)],
        ["camera hosts whose maker is named", f"{r.makers_named:,} of {r.cameras:,}", "all",
         table.verdict(r.makers_named == r.cameras)],
    ]  # fmt: skip
    return table.render(
        f"import: camaudit scan --from-nmap of {r.hosts:,} hosts ({r.size_mb:.0f} MB of nmap "
        f"-sV -sC XML), no targets: identified offline; {len(r.runs)} run(s)",
        rows,
        ("measure", "camaudit", "target", "verdict"),
    )
