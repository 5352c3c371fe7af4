"""Pure PKI core of the security service: root, intermediate, per-tenant CAs, device certificates.

No I/O and no clock reads: every function takes `now`. Keys are ECDSA P-256 throughout.

Facts (MT3620-FACTS.md, "Security service (AS3) facts"): the device's client certificate is valid 24 h and
chains device -> tenant CA -> root; a tenant CA lives 2 years, is renewed about 90 days before it expires and the
new CA becomes active about 45 days after it was created, so both are trusted during the overlap. The chain is
downloadable as PKCS#7 (.p7b). The intermediate between tenant CAs and the root, the extension OIDs and the
subject layout are emulator-defined (docs/cloud.md).
"""
from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Iterable, Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

UTC = _dt.timezone.utc
DAY = _dt.timedelta(days=1)

ROOT_LIFETIME = 20 * 365 * DAY
INTERMEDIATE_LIFETIME = 10 * 365 * DAY
TENANT_CA_LIFETIME = 730 * DAY          # 2 years
TENANT_CA_RENEW_BEFORE = 90 * DAY       # renewal starts ~90 days before expiry
TENANT_CA_ACTIVATE_AFTER = 45 * DAY     # a new CA signs ~45 days after creation
DEVICE_CERT_LIFETIME = _dt.timedelta(hours=24)
BACKDATE = _dt.timedelta(minutes=5)     # tolerate small clock skew between device and service

# Private OIDs under the UUID arc 2.25 (ITU-T X.667): emulator-defined, no registration needed.
OID_ATTESTATION_RESULT = x509.ObjectIdentifier("2.25.263142346851950826426410137598736460581")
OID_CERT_ROLE = x509.ObjectIdentifier("2.25.263142346851950826426410137598736460582")
DEVICE_URI_PREFIX = "urn:mt3620:device:"
TENANT_URI_PREFIX = "urn:mt3620:tenant:"

ROLE_DAA = "daa"          # device authentication and attestation client certificate
ROLE_UPDATE = "update"    # update certificate (image downloads)


class PkiError(ValueError):
    """A certificate or key that the PKI core refuses; `.reason` is machine-readable."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class CertKey:
    """A certificate with its private key (CAs only; device keys never leave the device)."""
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    def cert_pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    def key_pem(self) -> str:
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()).decode()

    @classmethod
    def from_pem(cls, cert_pem: str, key_pem: str) -> "CertKey":
        key = serialization.load_pem_private_key(key_pem.encode(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise PkiError("bad-key", "CA key is not an EC key")
        return cls(x509.load_pem_x509_certificate(cert_pem.encode()), key)


@dataclass(frozen=True)
class TenantCa:
    """One generation of a tenant's CA as the service stores it."""
    tenant_id: str
    cert: x509.Certificate
    active_from: _dt.datetime

    @property
    def not_before(self) -> _dt.datetime:
        return self.cert.not_valid_before_utc

    @property
    def not_after(self) -> _dt.datetime:
        return self.cert.not_valid_after_utc

    @functools.cached_property
    def thumbprint(self) -> str:   # remembered: every device request compares it
        return thumbprint(self.cert)


def thumbprint(cert: x509.Certificate) -> str:
    """SHA-1 thumbprint in upper-case hex, as the azsphere CLI prints certificate thumbprints."""
    return cert.fingerprint(hashes.SHA1()).hex().upper()


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _name(cn: str, ou: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "MT3620 Emulator Security Service")]
    if ou:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou))
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def _ca_cert(subject: x509.Name, key: ec.EllipticCurvePrivateKey, issuer: CertKey | None, now: _dt.datetime,
             lifetime: _dt.timedelta, path_length: int | None) -> x509.Certificate:
    issuer_name = issuer.cert.subject if issuer else subject
    signing_key = issuer.key if issuer else key
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - BACKDATE).not_valid_after(now + lifetime)
               .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                            data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                            crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    if issuer:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def make_root(now: _dt.datetime) -> CertKey:
    key = new_key()
    return CertKey(_ca_cert(_name("MT3620 Emulator Root CA"), key, None, now, ROOT_LIFETIME, None), key)


def make_intermediate(root: CertKey, now: _dt.datetime) -> CertKey:
    key = new_key()
    cert = _ca_cert(_name("MT3620 Emulator Tenant CA Issuer"), key, root, now, INTERMEDIATE_LIFETIME, 1)
    return CertKey(cert, key)


def make_tenant_ca(intermediate: CertKey, tenant_id: str, now: _dt.datetime, generation: int,
                   sign_at_once: bool = False) -> tuple[CertKey, _dt.datetime]:
    """A new tenant CA and the moment it becomes the signing CA.

    The first generation signs at once (a new tenant must be able to attest its devices); later generations,
    made by renewal, sign TENANT_CA_ACTIVATE_AFTER after creation, unless `sign_at_once` (emulator-defined: the
    caller found no generation able to sign, e.g. a service that was off, or whose clock jumped, past the whole
    renewal window; waiting 45 days would leave the tenant's devices without certificates)."""
    key = new_key()
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "MT3620 Emulator Security Service"),
                         x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"generation {generation}"),
                         x509.NameAttribute(NameOID.COMMON_NAME, tenant_id)])
    cert = _ca_cert(subject, key, intermediate, now, TENANT_CA_LIFETIME, 0)
    if sign_at_once:     # from its first valid instant: a request that read the clock just before may use it
        active_from = now - BACKDATE
    else:
        active_from = now if generation == 1 else now + TENANT_CA_ACTIVATE_AFTER
    return CertKey(cert, key), active_from


def proof_of_possession(ca: CertKey, verification_code: str, now: _dt.datetime) -> x509.Certificate:
    """The verification certificate IoT Hub and DPS ask for to prove possession of a CA's key: subject CN = their
    verification code, signed by the CA (facts: `azsphere ca-certificate download-proof`; Azure's "verify certificate
    manually"). Emulator-defined: a fresh P-256 key nobody keeps, valid 30 days."""
    key = new_key()
    return (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, verification_code)]))
            .issuer_name(ca.cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - BACKDATE).not_valid_after(now + 30 * DAY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)
            .sign(ca.key, hashes.SHA256()))


# ---- tenant CA rotation (pure) ------------------------------------------------------------------------------

def trusted_cas(cas: Iterable[TenantCa], now: _dt.datetime) -> list[TenantCa]:
    """CAs whose certificates a device endpoint accepts at `now`: every unexpired generation (old and new
    both trusted during the overlap)."""
    return sorted((ca for ca in cas if ca.not_before <= now < ca.not_after), key=lambda ca: ca.not_before)


def signing_ca(cas: Iterable[TenantCa], now: _dt.datetime) -> TenantCa | None:
    """The CA that signs new device certificates: the newest valid generation that is already active."""
    active = [ca for ca in trusted_cas(cas, now) if ca.active_from <= now]
    return max(active, key=lambda ca: ca.active_from) if active else None


def needs_renewal(cas: Sequence[TenantCa], now: _dt.datetime) -> bool:
    """True when the newest generation is within TENANT_CA_RENEW_BEFORE of expiry (or none is valid)."""
    valid = trusted_cas(cas, now)
    if not valid:
        return True
    newest = max(valid, key=lambda ca: ca.not_after)
    return now >= newest.not_after - TENANT_CA_RENEW_BEFORE


# ---- device certificates ------------------------------------------------------------------------------------

def _der_utf8(text: str) -> bytes:
    """DER UTF8String, so the extension value is valid DER that any X.509 parser can skip or dump."""
    data = text.encode()
    n = len(data)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return b"\x0c" + length + data


def _parse_der_utf8(der: bytes) -> str:
    if len(der) < 2 or der[0] != 0x0C:
        raise PkiError("bad-extension", "extension is not a DER UTF8String")
    n, pos = der[1], 2
    if n & 0x80:
        count = n & 0x7F
        n, pos = int.from_bytes(der[2:2 + count], "big"), 2 + count
    if pos + n != len(der):
        raise PkiError("bad-extension", "extension length does not match its content")
    return der[pos:pos + n].decode()


def issue_device_certificate(ca: CertKey, tenant_id: str, device_id_hex: str, public_key: ec.EllipticCurvePublicKey,
                             now: _dt.datetime, role: str, attestation_result: dict | None = None,
                             lifetime: _dt.timedelta = DEVICE_CERT_LIFETIME) -> x509.Certificate:
    """A client certificate for one device, valid `lifetime` (24 h), carrying the attestation result."""
    device_id_hex = device_id_hex.upper()
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, role),
                         x509.NameAttribute(NameOID.COMMON_NAME, device_id_hex[:64])])
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca.cert.subject)
               .public_key(public_key).serial_number(x509.random_serial_number())
               .not_valid_before(now - BACKDATE).not_valid_after(now + lifetime)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                            data_encipherment=False, key_agreement=True, key_cert_sign=False,
                                            crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
               .add_extension(x509.SubjectAlternativeName([
                   x509.UniformResourceIdentifier(DEVICE_URI_PREFIX + device_id_hex),
                   x509.UniformResourceIdentifier(TENANT_URI_PREFIX + tenant_id)]), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)
               .add_extension(x509.UnrecognizedExtension(OID_CERT_ROLE, _der_utf8(role)), critical=False))
    if attestation_result is not None:
        payload = json.dumps(attestation_result, sort_keys=True, separators=(",", ":"))
        builder = builder.add_extension(x509.UnrecognizedExtension(OID_ATTESTATION_RESULT, _der_utf8(payload)),
                                        critical=False)
    return builder.sign(ca.key, hashes.SHA256())


@dataclass(frozen=True)
class DeviceIdentity:
    """What a verified client certificate says about its holder."""
    device_id: str
    tenant_id: str
    role: str
    issuer_thumbprint: str
    not_after: _dt.datetime
    attestation_result: dict | None


def read_device_certificate(cert: x509.Certificate) -> DeviceIdentity:
    """Extract device ID, tenant, role and attestation result from a device certificate (no chain check)."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        raise PkiError("not-a-device-certificate", "certificate has no subject alternative name") from None
    uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    devices = [u[len(DEVICE_URI_PREFIX):] for u in uris if u.startswith(DEVICE_URI_PREFIX)]
    tenants = [u[len(TENANT_URI_PREFIX):] for u in uris if u.startswith(TENANT_URI_PREFIX)]
    if len(devices) != 1 or len(tenants) != 1:
        raise PkiError("not-a-device-certificate", "certificate does not name exactly one device and one tenant")
    role, result = None, None
    for ext in cert.extensions:
        if ext.oid == OID_CERT_ROLE:
            role = _parse_der_utf8(ext.value.value)
        elif ext.oid == OID_ATTESTATION_RESULT:
            result = json.loads(_parse_der_utf8(ext.value.value))
    if role is None:
        raise PkiError("not-a-device-certificate", "certificate carries no role extension")
    return DeviceIdentity(devices[0].upper(), tenants[0], role, "", cert.not_valid_after_utc, result)


def verify_issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """True when `cert` names `issuer` and carries its valid signature."""
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, Exception):  # InvalidSignature derives from Exception
        return False
    return True


def check_validity(cert: x509.Certificate, now: _dt.datetime, what: str = "client certificate") -> None:
    """PkiError unless `now` lies in the validity period of `cert` (judged by the caller's clock, not OpenSSL's)."""
    if now < cert.not_valid_before_utc:
        raise PkiError("certificate-not-yet-valid", f"{what} is not valid before "
                                                    f"{cert.not_valid_before_utc:%Y-%m-%dT%H:%M:%SZ}")
    if now >= cert.not_valid_after_utc:
        raise PkiError("expired-certificate", f"{what} expired at {cert.not_valid_after_utc:%Y-%m-%dT%H:%M:%SZ}")


def check_device_chain(leaf: x509.Certificate, cas: Sequence[TenantCa], now: _dt.datetime) -> TenantCa:
    """The trusted tenant CA that issued `leaf`, or PkiError with the reason the chain is refused. Tenant CAs
    outside their validity period at `now` are not trusted."""
    check_validity(leaf, now)
    for ca in trusted_cas(cas, now):
        if verify_issued_by(leaf, ca.cert):
            return ca
    raise PkiError("wrong-tenant", "client certificate is not issued by a trusted CA of the device's tenant")


# ---- encodings ----------------------------------------------------------------------------------------------

def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def p7b(certs: Sequence[x509.Certificate]) -> bytes:
    """PKCS#7 certs-only bundle (DER), the .p7b the CLI's `ca-certificate download-chain` writes."""
    return pkcs7.serialize_certificates(list(certs), serialization.Encoding.DER)


def load_pem(text: str | bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(text.encode() if isinstance(text, str) else text)


def key_id(key: ec.EllipticCurvePublicKey) -> str:
    return hashlib.sha256(key.public_bytes(serialization.Encoding.X962,
                                           serialization.PublicFormat.UncompressedPoint)).hexdigest()


def new_id() -> str:
    return str(uuid.uuid4())
