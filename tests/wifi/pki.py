"""Certificates for the Wi-Fi and network tests, made with `cryptography` from fixed seeds (the same bytes every
run): a CA, certificates it signs (server or client purpose), and the PEM texts."""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
NOW = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)


def key(seed: str) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(int.from_bytes(hashlib.sha256(seed.encode()).digest(), "big") % (ORDER - 1) + 1,
                                 ec.SECP256R1())


@dataclass
class Issued:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def cert_pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    def key_pem(self, password: bytes | None = None) -> str:
        algo = (serialization.BestAvailableEncryption(password) if password
                else serialization.NoEncryption())
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, algo).decode()


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def ca(cn: str, not_before: dt.datetime = NOW - dt.timedelta(days=365),
       not_after: dt.datetime = NOW + dt.timedelta(days=3650)) -> Issued:
    k = key("ca/" + cn)
    cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn)).public_key(k.public_key())
            .serial_number(int.from_bytes(hashlib.sha256(cn.encode()).digest()[:8], "big"))
            .not_valid_before(not_before).not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .sign(k, hashes.SHA256()))
    return Issued(cert, k)


def issue(issuer: Issued, cn: str, purpose: str = "server", dns: list[str] | None = None, ips: list[str] | None = None,
          not_before: dt.datetime = NOW - dt.timedelta(days=30),
          not_after: dt.datetime = NOW + dt.timedelta(days=3650), key_seed: str | None = None) -> Issued:
    import ipaddress
    k = key(key_seed or f"leaf/{issuer.cert.subject.rfc4514_string()}/{cn}")
    eku = ExtendedKeyUsageOID.SERVER_AUTH if purpose == "server" else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(issuer.cert.subject)
               .public_key(k.public_key())
               .serial_number(int.from_bytes(hashlib.sha256(f"{cn}/{purpose}".encode()).digest()[:8], "big"))
               .not_valid_before(not_before).not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.ExtendedKeyUsage([eku]), critical=False))
    names = [x509.DNSName(d) for d in (dns or [])] + [x509.IPAddress(ipaddress.ip_address(i)) for i in (ips or [])]
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return Issued(builder.sign(issuer.key, hashes.SHA256()), k)
