"""The TLS probe: the certificate a device presents on its HTTPS ports, however old or self-signed.

Vendors' factory certificates name them (e.g. a Hikvision ``CN=...,OU=DVRNVR``): the subject,
issuer and SANs are evidence; the validity shows a factory certificate nobody replaced.
"""

from __future__ import annotations

from datetime import UTC
from typing import ClassVar

from cryptography import x509
from cryptography.x509.oid import ExtensionOID

from auditor.context import NetContext
from auditor.errors import ProbeError
from auditor.models import Host, Observation, ObservationKind, Reason
from auditor.net.exchange import exchange_deadline, probe_deadline
from auditor.net.wire import Deadline, connect
from auditor.ports import Role
from auditor.probes.common import gather, observation, require_ports
from auditor.probes.interface import Probe, ProbeName


def certificate_facts(der: bytes) -> dict[str, list[str]]:
    """Subject, issuer, SANs and validity of a DER certificate (RFC 4514 names).

    Raises MALFORMED for bytes that are not a certificate.
    """
    try:
        cert = x509.load_der_x509_certificate(der)
        subject = cert.subject.rfc4514_string()
        issuer = cert.issuer.rfc4514_string()
        not_before = cert.not_valid_before_utc.astimezone(UTC)
        not_after = cert.not_valid_after_utc.astimezone(UTC)
    except (ValueError, TypeError, x509.InvalidVersion) as exc:
        # InvalidVersion is not a ValueError: a version field of 1 (X.509 v2) escaped as a bug.
        raise ProbeError(
            Reason.MALFORMED, f"unreadable certificate ({type(exc).__name__})"
        ) from None
    sans: list[str] = []
    try:
        ext = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
        names = ext.value
        if isinstance(names, x509.SubjectAlternativeName):
            sans += [f"DNS:{n}" for n in names.get_values_for_type(x509.DNSName)]
            sans += [f"IP:{n}" for n in names.get_values_for_type(x509.IPAddress)]
            sans += [f"email:{n}" for n in names.get_values_for_type(x509.RFC822Name)]
    except x509.ExtensionNotFound:
        pass
    except ValueError:
        pass  # a broken SAN extension on an otherwise readable certificate: keep the rest
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    return {
        "subject": [subject],
        "issuer": [issuer],
        "san": sans,
        "validity": [f"notBefore={not_before.strftime(fmt)} notAfter={not_after.strftime(fmt)}"],
    }


_KINDS = {
    "subject": ObservationKind.TLS_SUBJECT,
    "issuer": ObservationKind.TLS_ISSUER,
    "san": ObservationKind.TLS_SAN,
}


class TlsProbe(Probe):
    name: ClassVar[ProbeName] = ProbeName.TLS

    def run(self, host: Host, ctx: NetContext) -> list[Observation]:
        ports = require_ports(host, ctx, Role.HTTPS)
        overall = probe_deadline(ctx)
        return gather(ports, lambda port: self._port(host, ctx, port, overall))

    @staticmethod
    def _port(host: Host, ctx: NetContext, port: int, overall: Deadline) -> list[Observation]:
        deadline = exchange_deadline(ctx, overall)
        sock = connect(ctx, host.address, port, deadline, tls=True)
        try:
            der = sock.getpeercert(binary_form=True)  # type: ignore[attr-defined]
        finally:
            sock.close()
        if not der:
            raise ProbeError(Reason.TLS_ERROR, f"{host.address}:{port}: no certificate presented")
        if len(der) > ctx.max_read_bytes:
            raise ProbeError(Reason.TOO_LARGE, f"{host.address}:{port}: certificate over the cap")
        facts = certificate_facts(der)
        src = f"tls:{port}"
        out = [
            observation(kind, value, src, port)
            for key, kind in _KINDS.items()
            for value in facts[key]
        ]
        out += [observation(ObservationKind.TLS_VALIDITY, v, src, port) for v in facts["validity"]]
        return out
