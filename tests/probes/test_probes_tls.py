"""The tls probe against real TLS listeners with self-signed and legacy-only configurations."""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import socket
import ssl
import warnings
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from auditor.errors import ProbeError
from auditor.models import ObservationKind as K
from auditor.models import Outcome, ProbeAttempt, Reason
from auditor.ports import Role
from auditor.probes import attempt
from auditor.probes.tls import TlsProbe, certificate_facts
from tests.probes.probe_peers import (
    Handler,
    closed_port,
    http_response,
    make_ctx,
    make_host,
    silent,
    values,
)

#: The PEM certificate and key files, and the certificate they hold.
CertFiles = tuple[Path, Path, x509.Certificate]


@pytest.fixture(scope="module")
def cert_files(tmp_path_factory: pytest.TempPathFactory) -> CertFiles:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Test Vendor"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "DVRNVR"),
            x509.NameAttribute(NameOID.COMMON_NAME, "camera.test"),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(dt.datetime(2015, 1, 1, tzinfo=dt.UTC))
        .not_valid_after(dt.datetime(2035, 1, 1, tzinfo=dt.UTC))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("camera.test"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    d = tmp_path_factory.mktemp("tls")
    (d / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (d / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return d / "cert.pem", d / "key.pem", cert


def tls_server(cert_files: CertFiles, legacy: bool = False) -> Handler:
    cert, key, _ = cert_files
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    if legacy:
        ctx.set_ciphers("ALL:@SECLEVEL=0")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1

    def handle(conn: socket.socket) -> None:
        conn.settimeout(2)
        with contextlib.suppress(OSError), ctx.wrap_socket(conn, server_side=True) as tls:
            tls.recv(1)

    return handle


def run_tls(port: int) -> ProbeAttempt:
    ctx = make_ctx({port: Role.HTTPS})
    return attempt(TlsProbe(), make_host((port,)), ctx)


def test_self_signed_certificate_is_recorded(peer, cert_files):
    result = run_tls(peer(tls_server(cert_files)).port)
    assert result.outcome is Outcome.COMPLETED, result.detail
    assert values(result, K.TLS_SUBJECT) == ["CN=camera.test,OU=DVRNVR,O=Test Vendor,C=CN"]
    assert values(result, K.TLS_ISSUER) == values(result, K.TLS_SUBJECT)
    assert values(result, K.TLS_SAN) == ["DNS:camera.test", "IP:127.0.0.1"]
    assert values(result, K.TLS_VALIDITY) == [
        "notBefore=2015-01-01T00:00:00Z notAfter=2035-01-01T00:00:00Z"
    ]
    assert {o.source for o in result.observations} == {f"tls:{result.observations[0].port}"}


def test_legacy_tls10_device_still_handshakes(peer, cert_files):
    result = run_tls(peer(tls_server(cert_files, legacy=True)).port)
    if result.reason is Reason.TLS_ERROR and "unsupported" in result.detail.lower():
        pytest.skip(f"this OpenSSL build cannot speak TLS 1.0 at all: {result.detail}")
    assert result.outcome is Outcome.COMPLETED, result.detail


def plain_http(conn):
    """A plain HTTP server: answers the ClientHello bytes with a 400, as embedded servers do."""
    conn.settimeout(2)
    conn.recv(4096)
    conn.sendall(http_response(400, b"Bad Request", reason="Bad Request"))


def test_plain_http_on_an_https_port_is_a_tls_error(peer):
    result = run_tls(peer(plain_http).port)
    assert (result.outcome, result.reason) == (Outcome.FAILED, Reason.TLS_ERROR)


def test_timeout_and_refused(peer):
    result = run_tls(peer(silent).port)
    assert (result.outcome, result.reason) == (Outcome.FAILED, Reason.TIMEOUT)
    result = run_tls(closed_port())
    assert (result.outcome, result.reason) == (Outcome.FAILED, Reason.REFUSED)


def test_certificate_parser_rejects_garbage():
    with pytest.raises(ProbeError) as err:
        certificate_facts(b"\x30\x03\x02\x01\x00")
    assert err.value.reason is Reason.MALFORMED
