"""End to end: the whole pipeline against the loopback lab, scored against its ground truth."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from auditor.credentials import Credential, CredentialStore, Secret
from auditor.engine import AuditConfig, Auditor
from auditor.lab import DEMO_DEVICES, GroundTruth, LoopbackSite
from auditor.models import AuditReport, DeviceType, Reason
from auditor.render import FormatName, RenderOptions, renderer
from auditor.render.wording import reason_text

pytestmark = pytest.mark.nmap

#: The demo audit's report and what each emulated address really is.
DemoAudit = tuple[AuditReport, tuple[GroundTruth, ...]]


@pytest.fixture(scope="module")
def demo_audit(tmp_path_factory: pytest.TempPathFactory) -> DemoAudit:
    db = tmp_path_factory.mktemp("e2e") / "audit.db"
    with LoopbackSite(DEMO_DEVICES) as site:
        user, password = site.credentials
        config = AuditConfig(
            targets=site.targets,
            db_path=db,
            site="e2e",
            ports=site.port_plan,
            timeout=2.0,
            credentials=CredentialStore(default=Credential(user, Secret(password))),
            multicast=False,
        )
        report = Auditor(config).run()
        return report, site.truth


def test_every_emulated_device_gets_its_true_manufacturer(demo_audit: DemoAudit) -> None:
    report, truth = demo_audit
    by_addr = {str(d.host.address): d for d in report.devices}
    wrong: list[tuple[str, ...]] = []
    for t in truth:
        device = by_addr.get(str(t.address))
        if device is None:
            wrong.append((t.address, t.profile, "not found"))
            continue
        ident = device.identification
        if ident.manufacturer != t.manufacturer:
            wrong.append((t.profile, f"maker {ident.manufacturer} != {t.manufacturer}"))
        if ident.oem_relabel != t.oem_relabel:
            wrong.append((t.profile, f"relabel {ident.oem_relabel} != {t.oem_relabel}"))
        if DeviceType(t.device_type).is_video != ident.device_type.is_video:
            wrong.append((t.profile, f"type {ident.device_type} vs {t.device_type}"))
    assert not wrong, wrong


def test_generic_hisilicon_camera_names_its_soc_not_a_maker(demo_audit: DemoAudit) -> None:
    report, truth = demo_audit
    (hipcam,) = [t for t in truth if t.profile == "hipcam-generic"]
    (device,) = [d for d in report.devices if str(d.host.address) == hipcam.address]
    assert device.identification.manufacturer is None
    assert [c.vendor for c in device.identification.components] == ["HiSilicon"]
    assert any(e.status.value == "component" for e in device.exposures)


def test_every_identification_explains_itself(demo_audit: DemoAudit) -> None:
    report, _ = demo_audit
    for device in report.devices:
        ident = device.identification
        if ident.manufacturer:
            # (The model already refuses a maker without evidence.) The evidence is what this
            # device was seen to say, not a fact from elsewhere; and it was assessed.
            recorded = set(device.observations)
            foreign = [
                link.observation for link in ident.evidence if link.observation not in recorded
            ]
            assert not foreign, (str(device.host.address), foreign)
            assert device.exposures, f"{device.host.address} identified but not assessed"


def test_report_says_why_a_host_is_incomplete(demo_audit: DemoAudit) -> None:
    """Every device not fully probed is listed with the probe, the reason in words and the
    device's own detail, in the console report and in the JSON one."""
    report, _ = demo_audit
    assert report.incomplete, "the demo has no incomplete device: this test checks nothing"
    console = renderer(FormatName.CONSOLE, RenderOptions(width=400)).render(report).decode()
    table = console.split("Not fully probed", 1)[1].splitlines()
    devices = {
        d["address"]: d for d in json.loads(renderer(FormatName.JSON).render(report))["devices"]
    }
    for device in report.incomplete:
        address = str(device.host.address)
        assert devices[address]["complete"] is False
        failed = [p for p in devices[address]["probes"] if p["outcome"] == "failed"]
        assert failed, address
        for probe in failed:
            assert probe["reason"] and probe["detail"], (address, probe)
            words = reason_text(Reason(probe["reason"]))
            row = [line for line in table if address in line and f" {probe['probe']} " in line]
            assert row and words in row[0] and probe["detail"] in row[0], (address, probe, row)


def test_non_cameras_are_not_video_devices(demo_audit: DemoAudit) -> None:
    report, truth = demo_audit
    non_cameras = {
        str(t.address)
        for t in truth
        if t.device_type not in {d.value for d in DeviceType if d.is_video}
    }
    for device in report.devices:
        if str(device.host.address) in non_cameras:
            assert (
                device.identification.manufacturer is None
                or not device.identification.device_type.is_video
            )


def _ordinary_user() -> str | None:
    for name in ("nobody",):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    return None


@pytest.mark.slow
def test_demo_runs_as_an_ordinary_user_and_writes_a_report() -> None:
    # pytest's tmp_path sits under a root-only folder; the unprivileged run needs its own.
    tmp_path = Path(tempfile.mkdtemp(prefix="camaudit-demo-test-"))
    out = tmp_path / "demo.json"
    argv = [sys.executable, "-m", "auditor", "demo", "-f", "json", "-o", str(out)]
    # The demo keeps its audit in the default store: the data folder under this $HOME.
    env = {k: v for k, v in os.environ.items() if k not in ("CAMAUDIT_DB", "XDG_DATA_HOME")}
    env.update(HOME=str(tmp_path), NO_COLOR="1")
    if os.geteuid() == 0:
        user = _ordinary_user()
        if user is None or shutil.which("setpriv") is None:
            pytest.skip("no unprivileged user to run the demo as")
        os.chmod(tmp_path, 0o777)
        argv = [
            "setpriv",
            f"--reuid={user}",
            f"--regid={pwd.getpwnam(user).pw_gid}",
            "--clear-groups",
            *argv,
        ]
    try:
        done = subprocess.run(
            argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        data = json.loads(out.read_text())
        assert (tmp_path / ".local" / "share" / "camaudit" / "camaudit.db").is_file()
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)
    assert data["schema_version"]
    makers = {d["manufacturer"] for d in data["devices"]}
    assert {"Hikvision", "Dahua", "Axis"} <= makers


def test_report_carries_the_disclaimer_and_the_data_versions(demo_audit: DemoAudit) -> None:
    report, _ = demo_audit
    assert any("not legal advice" in note.lower() for note in report.notes)
    names = {v.name for v in report.audit.data_versions}
    assert {"fingerprints", "regulatory data"} <= names
    assert report.audit.finished is not None
    assert report.audit.probes


def test_loopback_scope_never_multicasts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a loopback-only scope with multicast left on by the caller
    seen: list[bool] = []

    import auditor.engine.feed as engine

    def spy(ctx, channels=None, on_host=None, **_):  # the engine's only way into discovery
        seen.append(ctx.multicast)
        raise KeyboardInterrupt

    monkeypatch.setattr(engine, "discover_all", spy)
    config = AuditConfig(targets=("127.0.0.1",), db_path=tmp_path / "a.db", multicast=True)
    # When the audit starts discovery, Then the context it passes forbids multicast
    with pytest.raises(KeyboardInterrupt):
        Auditor(config).run()
    assert seen == [False]
