"""The PostgreSQL engine's own rules: no password in a URL, someone else's database left alone,
one migration however many collectors open a new store at once, libpq's password means."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from auditor.cli.app import main
from auditor.errors import StoreError
from auditor.models import AuditId, Outcome, ProbeAttempt
from auditor.store import Store
from auditor.store.location import redact
from auditor.store.schema import CURRENT_VERSION
from tests.pgcluster import PgCluster, running_cluster, unavailable_reason
from tests.render.camaudit_sample_audit import sample_report
from tests.store.store_engines import run_sql


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://collector:s3cret-pw@db.example/camaudit",
        "postgresql://collector@db.example/camaudit?sslmode=verify-full&password=s3cret-pw",
        "postgres://:s3cret-pw@/camaudit?host=/run/postgresql",
    ],
)
def test_a_url_with_a_password_is_refused_and_never_echoed(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(StoreError) as caught:
        Store(url)
    message = str(caught.value)
    assert "s3cret-pw" not in message
    assert "PGPASSWORD" in message and ".pgpass" in message and "service" in message
    # The command line refuses it before anything runs, without echoing it either.
    assert main(["audits", "--db", url]) == 2
    err = capsys.readouterr().err
    assert "s3cret-pw" not in err and "password" in err


def test_redaction_hides_every_secret_and_keeps_the_rest() -> None:
    url = "postgresql://ops:pw1@db.example:5433/org?sslmode=verify-full&sslpassword=pw2"
    shown = redact(url)
    assert "pw1" not in shown and "pw2" not in shown
    assert shown.startswith("postgresql://ops:***@db.example:5433/org?")
    assert "sslmode=verify-full" in shown


def test_an_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    url = f"postgresql://camaudit@/org?host={tmp_path}&port=5999"
    with pytest.raises(StoreError, match=r"could not connect") as caught:
        Store(url)
    assert "postgresql://camaudit@/org" in str(caught.value)


@pytest.mark.postgres
def test_someone_elses_database_is_refused_unchanged(pg_database: str) -> None:
    run_sql(pg_database, "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    for read_only in (False, True):
        with pytest.raises(StoreError, match="not a camaudit store.*invoices"):
            Store(pg_database, read_only=read_only)
    tables = run_sql(pg_database, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    assert tables == [("invoices",)]


@pytest.mark.postgres
def test_reading_an_empty_database_says_so_and_creates_nothing(
    pg_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(StoreError, match="no camaudit store yet"):
        Store(pg_database, read_only=True)
    assert main(["audits", "--db", pg_database]) == 2
    assert "no camaudit store yet" in capsys.readouterr().err
    assert run_sql(pg_database, "SELECT COUNT(*) FROM pg_tables WHERE schemaname = 'public'") == [
        (0,)
    ]


@pytest.mark.postgres
def test_many_collectors_opening_a_new_store_at_once_migrate_it_once(
    pg_cluster: PgCluster,
) -> None:
    opener = (
        "import sys, time; from auditor.store import Store\n"
        "t = float(sys.argv[2])\n"
        "while time.time() < t: time.sleep(0.001)\n"
        "Store(sys.argv[1]).close()\n"
    )
    for attempt in range(3):
        url = pg_cluster.create_database(f"race{os.getpid()}_{attempt}")
        start = f"{__import__('time').time() + 1.0}"
        procs = [
            subprocess.Popen([sys.executable, "-c", opener, url, start], stderr=subprocess.PIPE)
            for _ in range(6)
        ]
        errors = [p.communicate(timeout=60)[1].decode() for p in procs]
        assert all(p.returncode == 0 for p in procs), errors
        versions = run_sql(url, "SELECT version FROM schema_version ORDER BY version")
        assert [v for (v,) in versions] == list(range(1, CURRENT_VERSION + 1))
        assert run_sql(url, "SELECT version FROM list_schema_version") == [(1,)]


@pytest.fixture(scope="module")
def password_cluster() -> Iterator[PgCluster]:
    """A cluster that asks for a password over its socket (except from its own superuser)."""
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    with running_cluster(
        hba=["local all postgres trust", "local all all scram-sha-256"],
        settings={"password_encryption": "scram-sha-256"},
    ) as cluster:
        with psycopg.connect(cluster.dsn, autocommit=True) as conn:
            conn.execute("CREATE ROLE collector LOGIN PASSWORD 'c0llector-pw'")
            conn.execute("CREATE DATABASE org OWNER collector")
        yield cluster


@pytest.mark.postgres
def test_the_password_comes_from_libpq_pgpassword_or_pgpass(
    password_cluster: PgCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = password_cluster.url("org", user="collector")
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))
    with pytest.raises(StoreError, match="password") as caught:
        Store(url)
    assert "c0llector-pw" not in str(caught.value)

    monkeypatch.setenv("PGPASSWORD", "c0llector-pw")
    report = sample_report()
    with Store(url) as store:
        store.begin_audit(report.audit)
        store.save_device(report.audit.id, report.devices[0])

    monkeypatch.delenv("PGPASSWORD")
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"*:{password_cluster.port}:org:collector:c0llector-pw\n")
    passfile.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    with Store(url, read_only=True) as store:
        assert store.completed_addresses(report.audit.id) == {"10.20.0.11"}


@pytest.mark.postgres
def test_official_lists_live_in_the_central_store_too(
    pg_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from auditor.exposure import Assessor
    from auditor.models import Audience, DeviceType, ExposureStatus
    from tests.exposure.conftest import ASSETS, ident

    sdn = ASSETS / "ofac_new" / "SDN.CSV"
    assert main(["lists", "import", str(sdn), "--kind", "ofac-sdn", "--db", pg_database]) == 0
    assert "ofac-sdn" in capsys.readouterr().out
    assert main(["lists", "status", "--db", pg_database]) == 0
    assert "SDN.CSV" in capsys.readouterr().out
    camera = ident("Hikvision", device_type=DeviceType.NVR)
    found = Assessor.load(pg_database).assess(camera, Audience.EU_PRIVATE)
    listed = found.by_instrument()["us-ofac-sdn"]
    assert [e.status for e in listed] == [ExposureStatus.LISTED]
    assert listed[0].list_row is not None and "90003" in listed[0].list_row
    # A second import of the kind replaces the first, in the same database.
    older = ASSETS / "ofac" / "SDN.CSV"
    assert main(["lists", "import", str(older), "--kind", "ofac-sdn", "--db", pg_database]) == 0
    again = Assessor.load(pg_database).assess(camera, Audience.EU_PRIVATE)
    assert [e.status for e in again.by_instrument()["us-ofac-sdn"]] == [ExposureStatus.NOT_LISTED]
    assert run_sql(pg_database, "SELECT COUNT(*) FROM list_imports WHERE current = 1") == [(1,)]


@pytest.mark.postgres
def test_demo_audits_report_and_diff_against_a_central_store(
    pg_database: str, tmp_path: Path
) -> None:
    """The whole CLI round on PostgreSQL: two demos scanned into it, listed, reported, compared."""

    def camaudit(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "auditor", "-q", *args, "--db", pg_database],
            capture_output=True,
            text=True,
            timeout=240,
            cwd=tmp_path,
        )

    for n in (1, 2):
        done = camaudit("demo", "-f", "json", "-o", str(tmp_path / f"demo{n}.json"))
        assert done.returncode == 0, done.stderr
    ids = [r[0] for r in run_sql(pg_database, "SELECT id FROM audits ORDER BY started, id")]
    assert len(ids) == 2
    listed = camaudit("audits")
    assert listed.returncode == 0 and all(i in listed.stdout for i in ids)
    assert "postgresql://postgres@/" in listed.stdout  # where, with no secret to hide
    stored = json.loads((tmp_path / "demo1.json").read_text())
    again = camaudit("report", ids[0], "--as-recorded", "-f", "json", "-o", "-")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["devices"] == stored["devices"]
    diff = camaudit("diff", ids[0], ids[1], "-f", "json", "--exit-zero")
    assert diff.returncode == 0, diff.stderr
    summary = json.loads(diff.stdout)["summary"]
    # The same emulated site twice: every device matched again (the demo may move addresses).
    assert summary["new"] == summary["gone"] == 0
    assert summary["changed"] + summary["unchanged"] == len(stored["devices"])


@pytest.mark.postgres
def test_several_scans_write_one_central_store_at_once(pg_database: str) -> None:
    """Four processes save their own audits host by host at the same time: all kept, once."""
    writer = (
        "import dataclasses, ipaddress, sys\n"
        "from auditor.models import AuditId\n"
        "from auditor.store import Store\n"
        "from tests.render.camaudit_sample_audit import sample_report\n"
        "n = int(sys.argv[2])\n"
        "r = sample_report()\n"
        "info = dataclasses.replace(r.audit, id=AuditId(f'site{n}'), site=f'Site {n}')\n"
        "with Store(sys.argv[1]) as store:\n"
        "    store.begin_audit(info)\n"
        "    for i in range(60):\n"
        "        d = r.devices[i % len(r.devices)]\n"
        "        ip = ipaddress.ip_address(f'10.9.{n}.{i}')\n"
        "        host = dataclasses.replace(d.host, address=ip)\n"
        "        store.save_device(info.id, dataclasses.replace(d, host=host), r.out_of_scope)\n"
        "    store.finish_audit(info.id, info.finished)\n"
    )
    root = Path(__file__).resolve().parents[2]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", writer, pg_database, str(n)], cwd=root, stderr=subprocess.PIPE
        )
        for n in range(4)
    ]
    errors = [p.communicate(timeout=120)[1].decode() for p in procs]
    assert all(p.returncode == 0 for p in procs), errors
    with Store(pg_database, read_only=True) as store:
        summaries = store.list_audits()
        assert sorted(s.id for s in summaries) == [f"site{n}" for n in range(4)]
        assert all(s.devices == 60 and s.finished is not None for s in summaries)
        report = store.load_report("site2")
    assert [str(d.host.address) for d in report.devices] == [f"10.9.2.{i}" for i in range(60)]
    assert len(report.out_of_scope) == len(sample_report().out_of_scope)


@pytest.mark.postgres
def test_a_server_gone_mid_audit_is_a_clear_error_and_keeps_what_was_saved() -> None:
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    report = sample_report()
    with running_cluster() as cluster:
        url = cluster.create_database("gone")
        store = Store(url)
        store.begin_audit(report.audit)
        store.save_device(report.audit.id, report.devices[0])
        # The server goes away (a crash, a restart) while the audit still has hosts to save.
        cluster.stop_server(mode="immediate")
        with pytest.raises(StoreError, match=r"could not save host 10\.20\.0\.12") as caught:
            store.save_device(report.audit.id, report.devices[1])
        assert "went away" in str(caught.value) and "scan --resume" in str(caught.value)
        store.close()
        cluster.start_server()
        with Store(url, read_only=True) as again:
            assert again.completed_addresses(report.audit.id) == {"10.20.0.11"}


@pytest.mark.postgres
def test_a_role_that_may_not_create_the_schema_gets_a_database_answer(
    pg_cluster: PgCluster, pg_database: str
) -> None:
    # PostgreSQL 15 lets no one but the owner create tables in the public schema.
    name = pg_database.split("@/", 1)[1].split("?", 1)[0]
    run_sql(pg_cluster.dsn, "DROP ROLE IF EXISTS visitor")
    run_sql(pg_cluster.dsn, "CREATE ROLE visitor LOGIN")
    run_sql(pg_database, "REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    try:
        with pytest.raises(StoreError, match="permission denied") as caught:
            Store(pg_cluster.url(name, user="visitor"))
        assert "privilege" in str(caught.value) and "store init" in str(caught.value)
        assert "folder" not in str(caught.value)  # not SQLite's advice about files
    finally:
        run_sql(pg_cluster.dsn, f'REVOKE ALL ON DATABASE "{name}" FROM visitor')
        run_sql(pg_database, "DROP OWNED BY visitor")
        run_sql(pg_cluster.dsn, "DROP ROLE visitor")


@pytest.mark.postgres
def test_camaudit_db_may_name_the_central_store(
    pg_database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    report = sample_report()
    with Store(pg_database) as store:
        store.begin_audit(report.audit)
    monkeypatch.setenv("CAMAUDIT_DB", pg_database)
    assert main(["audits"]) == 0
    assert report.audit.id in capsys.readouterr().out
    monkeypatch.setenv("CAMAUDIT_DB", "postgresql://ops:env-s3cret@db.example/org")
    assert main(["audits"]) == 2
    err = capsys.readouterr().err
    assert "env-s3cret" not in err and "PGPASSWORD" in err


@pytest.mark.postgres
def test_audits_sort_the_same_on_both_engines_whatever_the_collation(
    pg_cluster: PgCluster, tmp_path: Path
) -> None:
    """A database made with ICU's en-US collation sorts 'a' before 'A'; SQLite sorts bytes.
    The store's order (the audit list, the latest audit) is the same on both."""
    name = f"icu{os.getpid()}"
    run_sql(
        pg_cluster.dsn,
        f"CREATE DATABASE {name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' "
        "LOCALE 'C'",
    )
    try:
        base = sample_report().audit
        answers = []
        for where in (tmp_path / "c.db", pg_cluster.url(name)):
            with Store(where) as store:
                for audit_id in ("b", "A", "a", "a1", "a-1"):
                    store.begin_audit(dataclasses.replace(base, id=AuditId(audit_id)))
                answers.append(([s.id for s in store.list_audits()], store.latest_audit(base.site)))
        assert answers[0] == (["A", "a", "a-1", "a1", "b"], "b")
        assert answers[1] == answers[0]
        with Store(pg_cluster.url(name)) as store:
            for audit_id in ("b", "a-1", "a1"):
                run_sql(pg_cluster.url(name), "DELETE FROM audits WHERE id = ?", (audit_id,))
            assert store.latest_audit() == "a"  # bytes: 'a' (0x61) after 'A' (0x41)
    finally:
        pg_cluster.drop_database(name)


@pytest.mark.postgres
def test_a_full_disk_on_the_server_is_a_clear_error_and_keeps_every_saved_host(
    pg_cluster: PgCluster, pg_database: str
) -> None:
    """The probe attempts' table on a 1 MB tmpfs: a host that does not fit is refused whole."""
    import base64
    import pwd
    import shutil
    import tempfile

    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a small tmpfs")
    # Outside pytest's root-only folder: the server's user must reach the mount point.
    base = Path(tempfile.mkdtemp(prefix="camaudit-pg-space-"))
    base.chmod(0o755)
    small = base / "small"
    small.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "camaudit-pg-test", str(small)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        shutil.rmtree(base)
        pytest.skip(f"cannot mount tmpfs here: {mounted.stderr.strip()}")
    space = f"small{os.getpid()}"
    try:
        if pg_cluster.owner is not None:
            entry = pwd.getpwnam(pg_cluster.owner)
            os.chown(small, entry.pw_uid, entry.pw_gid)
        run_sql(pg_cluster.dsn, f"CREATE TABLESPACE {space} LOCATION '{small}'")
        report = sample_report()
        with Store(pg_database) as store:
            store.begin_audit(report.audit)
            store.save_device(report.audit.id, report.devices[0])
            run_sql(pg_database, f"ALTER TABLE probe_attempts SET TABLESPACE {space}")
            # Random text does not compress: 600 kB in one host's probe detail.
            noise = base64.b64encode(os.urandom(450_000)).decode()
            big = dataclasses.replace(
                report.devices[1],
                attempts=(ProbeAttempt("http", Outcome.COMPLETED, detail=noise),) * 3,
            )
            with pytest.raises(StoreError, match="free some disk space"):
                store.save_device(report.audit.id, big)
            assert store.completed_addresses(report.audit.id) == {"10.20.0.11"}
            run_sql(pg_database, "ALTER TABLE probe_attempts SET TABLESPACE pg_default")
            store.save_device(report.audit.id, report.devices[1])
            assert len(store.load_report(report.audit.id).devices) == 2
    finally:
        run_sql(pg_cluster.dsn, f"DROP TABLESPACE IF EXISTS {space}")
        subprocess.run(["umount", "-l", str(small)], check=False)
        shutil.rmtree(base, ignore_errors=True)
