"""EAP-TLS (RFC 5216) between the station and an access point's RADIUS server, with real certificate checks.

The exchange keeps what decides the outcome and the keys, with `cryptography` doing every check:
1. EAP-Response/Identity: the station's identity (a RADIUS server with no identity list accepts any).
2. The server's hello: a random, its certificate chain, an ephemeral P-256 key signed with the certificate's key
   (as a TLS ServerKeyExchange). The station verifies the chain against the root CA it was given (when it was
   given one: without it the device does not authenticate the server, as WifiConfig_SetRootCACertStoreIdentifier
   says), the validity dates against its own clock, the serverAuth purpose, and the key-exchange signature.
3. The station's certificate chain, its own ephemeral key and a CertificateVerify signature over the whole
   transcript with its private key. The server verifies the chain against the CA it trusts (dates by the same
   clock), the clientAuth purpose, and the signature (proof that the station holds the key).
4. Both derive the MSK from the ECDH secret and the two randoms (TLS 1.2 PRF-SHA256, label "client EAP
   encryption", RFC 5216 2.3); the PMK for the 4-way handshake is its first 32 bytes.

Failures carry the codes WifiConfig_NetworkDiagnostics reports: certError 101 InvalidRootCA (server
authentication), 102 InvalidClientAuth (client authentication), 103 UnknownClientId, with the depth and subject of
the certificate that failed. The server's certificate may be absent from the environment: it then presents a
self-signed one made from a seed (emulator-defined), which only a station without a root CA accepts.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

INVALID_ROOT_CA = 101
INVALID_CLIENT_AUTH = 102
UNKNOWN_CLIENT_ID = 103
MAX_DEPTH = 10
EXCHANGE_ROUND_TRIPS = 7        # identity, hello/cert, client cert/verify, finished, success (+ fragments)


class ChainError(Exception):
    def __init__(self, depth: int, subject: str, reason: str) -> None:
        super().__init__(f"certificate at depth {depth} ({subject}): {reason}")
        self.depth, self.subject, self.reason = depth, subject, reason


@dataclass
class EapResult:
    success: bool
    msk: bytes = b""
    cert_error: int = 0
    depth: int = -1
    subject: str = ""
    reason: str = ""

    @property
    def pmk(self) -> bytes:
        return self.msk[:32]


@dataclass
class PeerCredentials:
    """What the station brings (PEM text): its identity, certificate chain (leaf first), private key and the
    password of an encrypted key, and the root CA it authenticates the server with (None: no server check)."""
    identity: str
    certificate: str
    key: str
    key_password: str | None = None
    root_ca: str | None = None


def subject_text(cert: x509.Certificate) -> str:
    return cert.subject.rfc4514_string()


def load_chain(pem: str) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(pem.encode())


def verify_chain(chain: list[x509.Certificate], anchors: list[x509.Certificate], now: _dt.datetime,
                 purpose: x509.ObjectIdentifier) -> None:
    """Leaf-first `chain` up to one of `anchors`: dates, issuer names, signatures, CA flags, the leaf's extended
    key usage. Raises ChainError with the depth and subject of the certificate that fails."""
    if not chain:
        raise ChainError(0, "", "no certificate")
    leaf = chain[0]
    try:
        eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        if purpose not in eku and ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE not in eku:
            raise ChainError(0, subject_text(leaf), f"extended key usage does not allow {purpose._name}")
    except x509.ExtensionNotFound:
        pass
    cert = leaf
    depth = 0
    pool = chain[1:]
    while True:
        if now < cert.not_valid_before_utc:
            raise ChainError(depth, subject_text(cert), "not yet valid")
        if now > cert.not_valid_after_utc:
            raise ChainError(depth, subject_text(cert), "expired")
        for anchor in anchors:
            if anchor.subject == cert.issuer and _issued_by(cert, anchor):
                if anchor is not cert and not (anchor.not_valid_before_utc <= now <= anchor.not_valid_after_utc):
                    raise ChainError(depth + 1, subject_text(anchor), "trusted CA is expired or not yet valid")
                return
            if anchor == cert:          # the certificate is itself trusted
                return
        issuer = next((c for c in pool if c.subject == cert.issuer and _issued_by(cert, c)), None)
        if issuer is None:
            raise ChainError(depth, subject_text(cert), "unable to get issuer certificate (not signed by a "
                                                        "trusted CA)")
        if not _is_ca(issuer):
            raise ChainError(depth + 1, subject_text(issuer), "issuer is not a CA")
        depth += 1
        if depth > MAX_DEPTH:
            raise ChainError(depth, subject_text(issuer), "chain too long")
        pool = [c for c in pool if c is not issuer]
        cert = issuer


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
        return True
    except (ValueError, TypeError, InvalidSignature):
        return False


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def sign(key, data: bytes) -> bytes:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(hashes.SHA256()))
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    raise TypeError(f"unsupported key type {type(key).__name__}")


def verify_signature(public_key, signature: bytes, data: bytes) -> bool:
    try:
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        elif isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(signature, data)
        else:
            return False
        return True
    except (InvalidSignature, ValueError):
        return False


def tls12_prf(secret: bytes, label: bytes, seed: bytes, length: int) -> bytes:
    """TLS 1.2 P_SHA256 (RFC 5246 section 5)."""
    out, a = b"", label + seed
    while len(out) < length:
        a = hmac.new(secret, a, hashlib.sha256).digest()
        out += hmac.new(secret, a + label + seed, hashlib.sha256).digest()
    return out[:length]


def _p256_key(seed: bytes) -> ec.EllipticCurvePrivateKey:
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    return ec.derive_private_key(int.from_bytes(hashlib.sha256(seed).digest(), "big") % (order - 1) + 1,
                                 ec.SECP256R1())


def default_server_identity(seed: bytes, now: _dt.datetime) -> tuple[list[x509.Certificate], object]:
    """A RADIUS server with no certificate of its own presents this self-signed one (emulator-defined): a P-256
    key from `seed`, valid one year either side of `now`."""
    key = _p256_key(b"radius-server/" + seed)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "emulated RADIUS server")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(int.from_bytes(hashlib.sha256(seed).digest()[:8], "big"))
            .not_valid_before(now - _dt.timedelta(days=365)).not_valid_after(now + _dt.timedelta(days=365))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(key, hashes.SHA256()))
    return [cert], key


def authenticate(peer: PeerCredentials, radius, now: _dt.datetime, randoms: tuple[bytes, bytes],
                 seed: bytes = b"") -> EapResult:
    """Run the exchange. `radius` is an environment `Radius` (trusted_ca, certificate?, key?); `randoms` the
    client's and server's 32-byte randoms (from the model's seeded generator); `now` the station's clock (UTC)."""
    client_random, server_random = randoms
    if not peer.identity:
        return EapResult(False, cert_error=UNKNOWN_CLIENT_ID, reason="empty EAP identity")
    # -- the server's hello, certificate and signed ephemeral key
    if radius.certificate and radius.key:
        server_chain = load_chain(radius.certificate)
        server_key = serialization.load_pem_private_key(radius.key.encode(), None)
    else:
        server_chain, server_key = default_server_identity(seed, now)
    server_eph = _p256_key(b"server-ephemeral/" + seed + server_random)
    server_point = server_eph.public_key().public_bytes(serialization.Encoding.X962,
                                                        serialization.PublicFormat.UncompressedPoint)
    transcript = client_random + server_random + b"".join(c.public_bytes(serialization.Encoding.DER)
                                                          for c in server_chain) + server_point
    ske_signature = sign(server_key, client_random + server_random + server_point)
    # -- the station checks the server
    if peer.root_ca:
        try:
            verify_chain(server_chain, load_chain(peer.root_ca), now, ExtendedKeyUsageOID.SERVER_AUTH)
        except ChainError as exc:
            return EapResult(False, cert_error=INVALID_ROOT_CA, depth=exc.depth, subject=exc.subject,
                             reason=f"server authentication: {exc}")
    if not verify_signature(server_chain[0].public_key(), ske_signature,
                            client_random + server_random + server_point):
        return EapResult(False, cert_error=INVALID_ROOT_CA, depth=0, subject=subject_text(server_chain[0]),
                         reason="server authentication: key exchange signature does not verify")
    # -- the station's certificate, key exchange and CertificateVerify
    try:
        client_chain = load_chain(peer.certificate)
        password = peer.key_password.encode() if peer.key_password else None
        client_key = serialization.load_pem_private_key(peer.key.encode(), password)
    except (ValueError, TypeError) as exc:
        return EapResult(False, cert_error=INVALID_CLIENT_AUTH, depth=0,
                         reason=f"client credentials do not load: {str(exc).splitlines()[0] if str(exc) else exc}")
    client_eph = _p256_key(b"client-ephemeral/" + seed + client_random)
    client_point = client_eph.public_key().public_bytes(serialization.Encoding.X962,
                                                        serialization.PublicFormat.UncompressedPoint)
    transcript += b"".join(c.public_bytes(serialization.Encoding.DER) for c in client_chain) + client_point
    certificate_verify = sign(client_key, hashlib.sha256(transcript).digest())
    # -- the server checks the station
    try:
        verify_chain(client_chain, load_chain(radius.trusted_ca), now, ExtendedKeyUsageOID.CLIENT_AUTH)
    except ChainError as exc:
        return EapResult(False, cert_error=INVALID_CLIENT_AUTH, depth=exc.depth, subject=exc.subject,
                         reason=f"client authentication: {exc}")
    if not verify_signature(client_chain[0].public_key(), certificate_verify, hashlib.sha256(transcript).digest()):
        return EapResult(False, cert_error=INVALID_CLIENT_AUTH, depth=0, subject=subject_text(client_chain[0]),
                         reason="client authentication: CertificateVerify does not match the certificate's key "
                                "(the private key is not the certificate's)")
    # -- keys
    shared_client = client_eph.exchange(ec.ECDH(), server_eph.public_key())
    shared_server = server_eph.exchange(ec.ECDH(), client_eph.public_key())
    master = tls12_prf(shared_client, b"master secret", client_random + server_random, 48)
    msk = tls12_prf(master, b"client EAP encryption", client_random + server_random, 64)
    if tls12_prf(tls12_prf(shared_server, b"master secret", client_random + server_random, 48),
                 b"client EAP encryption", client_random + server_random, 64) != msk:
        return EapResult(False, cert_error=INVALID_CLIENT_AUTH, reason="key exchange mismatch")
    return EapResult(True, msk=msk)
