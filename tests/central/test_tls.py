"""TLS with sslmode=verify-full to a real server: a CA and a server certificate made here (the
``cryptography`` package), the cluster started with ssl=on on a loopback port and accepting
TCP only over TLS. The store and push pass libpq's TLS settings through unchanged."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from auditor.cli.app import main
from auditor.store import Store
from auditor.store.central import install
from tests.central.pg import canonical_pg, canonical_sqlite, save_report
from tests.pgcluster import PgCluster, running_cluster, unavailable_reason
from tests.render.camaudit_sample_audit import sample_report

pytestmark = pytest.mark.postgres


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _ca(cn: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(_name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _server(
    ca_key: ec.EllipticCurvePrivateKey, ca: x509.Certificate
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A certificate for the name ``localhost`` only: 127.0.0.1 must not verify."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


class TlsServer:
    def __init__(self, cluster: PgCluster, ca_file: Path, other_ca_file: Path) -> None:
        self.cluster = cluster
        self.ca_file = ca_file
        self.other_ca_file = other_ca_file

    def url(self, db: str, *, host: str = "localhost", ca: Path | None = None) -> str:
        root = ca or self.ca_file
        return self.cluster.tcp_url(db, host=host) + f"?sslmode=verify-full&sslrootcert={root}"


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsServer]:
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    folder = tmp_path_factory.mktemp("tls")
    ca_key, ca = _ca("camaudit test CA")
    key, cert = _server(ca_key, ca)
    (folder / "ca.crt").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    _, other = _ca("someone else's CA")
    (folder / "other-ca.crt").write_bytes(other.public_bytes(serialization.Encoding.PEM))
    with running_cluster(
        tcp=True,
        settings={"ssl": "on", "ssl_cert_file": "server.crt", "ssl_key_file": "server.key"},
        files={
            "server.crt": cert.public_bytes(serialization.Encoding.PEM),
            "server.key": _pem_key(key),
        },
        # Over TCP, TLS or nothing.
        hba=["hostssl all all 127.0.0.1/32 trust", "host all all 127.0.0.1/32 reject"],
    ) as cluster:
        yield TlsServer(cluster, folder / "ca.crt", folder / "other-ca.crt")


def test_push_and_report_over_verify_full(tls: TlsServer, tmp_path: Path) -> None:
    tls.cluster.create_database("central_tls")
    url = tls.url("central_tls")
    Store(url).close()
    with psycopg.connect(url, autocommit=True) as conn:
        install(conn)
        assert conn.execute(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
        ).fetchone() == (True,)
    local = tmp_path / "hq.db"
    report = sample_report()
    save_report(local, report)
    assert main(["push", "--to", url, "--db", str(local)]) == 0
    assert canonical_pg(url, report.audit.id) == canonical_sqlite(local, report.audit.id)
    with Store(url, read_only=True) as store:
        assert store.load_report(report.audit.id) == report


def test_verify_full_refuses_a_wrong_ca_or_a_name_not_in_the_certificate(
    tls: TlsServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tls.cluster.create_database("central_tls2")
    good = tls.url("central_tls2")
    Store(good).close()
    with psycopg.connect(good, autocommit=True) as conn:
        install(conn)
    local = tmp_path / "hq.db"
    save_report(local, sample_report())
    capsys.readouterr()
    for bad in (
        tls.url("central_tls2", ca=tls.other_ca_file),
        tls.url("central_tls2", host="127.0.0.1"),  # the certificate names localhost only
    ):
        assert main(["push", "--to", bad, "--db", str(local)]) == 2
        err = capsys.readouterr().err
        assert "could not connect" in err and "certificate" in err
    with psycopg.connect(good) as conn:
        assert conn.execute("SELECT count(*) FROM hosts").fetchone() == (0,)
