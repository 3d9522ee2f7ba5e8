"""Where a credentialed scan sends the credentials, as the namespace lab's devices logged it
(issue 13; README, Security, "Where credentials go").

Run as root, under the netns lock:
``flock /tmp/camaudit-netns.lock python -m bench.credentials``. It builds the lab (the demo
devices plus issue 13's review devices), runs `camaudit scan` in the auditor namespace once with the
right password and once with a wrong one, and prints, from the devices' own request logs
(``Device.received``): Authorization headers to another vendor's API, credentialed requests to
the generic servers, DVRIP logins to non-DVRIP hosts, failed logins per device, and the artefacts
(JSON, HTML, CSV, SQLite) that hold a form of the password.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from auditor.credentials import sofia_hash
from auditor.lab import DEMO_DEVICES, load_profiles
from auditor.lab.hostile import review_profiles
from auditor.lab.netns import NamespaceSite

VENDOR_APIS = {"/ISAPI/": "Hikvision", "/cgi-bin/magicBox.cgi": "Dahua", "/axis-cgi/": "Axis"}
GENERIC = ("nas-basic-401", "lighttpd-digest", "printer-hp", "linux-nginx")
DEVICES = [*DEMO_DEVICES, "nas-basic-401", "lighttpd-digest", "hostile-echo-auth"]
WRONG = "Wr0ng-but-secret-9f3a"


def scan(site: NamespaceSite, out: Path, password: str, allow_echo: bool) -> int:
    user = site.credentials[0]
    creds = out / "creds.yaml"
    text = f'default: {{username: {user}, password: "{password}"}}\n'
    if allow_echo:
        echo = site.address_of("hostile-echo-auth")
        text += (
            f'hosts:\n  - {{target: {echo}, username: {user}, password: "{password}", '
            "allow_basic_over_http: true}\n"
        )
    creds.write_text(text)
    creds.chmod(0o600)
    for d in site.devices:
        d.received.clear()
    args = [sys.executable, "-m", "auditor", "scan", str(site.subnet)]
    args += ["--ports", site.port_plan.spec(), "--timeout", "1.5", "--credentials", str(creds)]
    args += ["--db", str(out / "audit.db"), "-o", str(out / "report")]
    args += ["-f", "json", "-f", "html", "-f", "csv"]
    env = {**os.environ, "NO_COLOR": "1", "HOME": str(out)}
    done = site.run_in_auditor(args, env=env, timeout=600)
    creds.unlink()
    return done.returncode


def measure(site: NamespaceSite, password: str, allow_echo: bool) -> dict[str, Any]:
    out = Path(tempfile.mkdtemp(prefix="camaudit-bench-creds-"))
    code = scan(site, out, password, allow_echo)
    user = site.credentials[0]
    foreign = generic = basic_generic = dvrip_other = 0
    for d in site.devices:
        for r in d.received:
            if not r.authorization:
                continue
            path = r.request.split(" ", 1)[-1]
            foreign += sum(
                1
                for prefix, vendor in VENDOR_APIS.items()
                if path.startswith(prefix) and vendor != d.profile.manufacturer
            )
            if d.profile.id in GENERIC:
                generic += 1
                basic_generic += r.authorization.lower().startswith("basic")
            if r.protocol == "dvrip" and d.profile.id != "xiongmai-dvr":
                dvrip_other += 1
    forms = [
        password,
        f"{user}:{password}",
        base64.b64encode(f"{user}:{password}".encode()).decode(),
        sofia_hash(password),
    ]
    files = [p for p in out.rglob("*") if p.is_file()]
    leaks = sorted({p.name for p in files for f in forms if f.encode() in p.read_bytes()})
    return {
        "exit": code,
        "auth_to_foreign_vendor_api": foreign,
        "auth_to_generic_servers": generic,
        "basic_to_generic_servers": basic_generic,
        "dvrip_logins_to_non_dvrip": dvrip_other,
        "failed_logins": {d.profile.id: d.failed_logins for d in site.devices if d.failed_logins},
        "credentialed_requests": {
            d.profile.id: n
            for d in site.devices
            if (n := sum(1 for r in d.received if r.authorization))
        },
        "artefacts_with_a_credential": leaks,
    }


def main() -> int:
    profiles = {**load_profiles(), **review_profiles()}
    with NamespaceSite(DEVICES, profiles=profiles, subnet="192.0.2.0/24") as site:
        right = measure(site, site.credentials[1], True)
        wrong = measure(site, WRONG, False)
    print(json.dumps({"right_password": right, "wrong_password": wrong}, indent=1))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
