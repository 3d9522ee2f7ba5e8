"""Self-signed TLS certificates with each profile's subject and issuer, made at site start."""

from __future__ import annotations

import datetime
import ssl
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from auditor.lab.device import Device

_OIDS = {
    "CN": NameOID.COMMON_NAME,
    "O": NameOID.ORGANIZATION_NAME,
    "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
    "C": NameOID.COUNTRY_NAME,
    "ST": NameOID.STATE_OR_PROVINCE_NAME,
    "L": NameOID.LOCALITY_NAME,
}


def _name(device: Device, spec: Mapping[str, Any]) -> x509.Name:
    attrs = [
        x509.NameAttribute(_OIDS[k], device.render(str(v))) for k, v in spec.items() if k in _OIDS
    ]
    return x509.Name(attrs or [x509.NameAttribute(NameOID.COMMON_NAME, device.address)])


def make_context(device: Device, cfg: Mapping[str, Any], workdir: Path) -> ssl.SSLContext:
    """A server SSLContext whose certificate carries the profile's subject/issuer names.

    EC P-256 keys: generating 250 of them takes milliseconds, RSA would take seconds.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    subject = _name(device, cfg.get("subject", {}))
    issuer = _name(device, cfg.get("issuer", cfg.get("subject", {})))
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    with tempfile.NamedTemporaryFile("wb", dir=workdir, suffix=".pem", delete=False) as fh:
        fh.write(cert.public_bytes(serialization.Encoding.PEM))
        fh.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        pem = Path(fh.name)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pem)
    pem.unlink()
    return ctx
