"""Attestation evidence: the byte string a Pluton returns for PROCESS_ATTESTATION, and its verifier.

The real Pluton's signed byte string is not public (MT3620-FACTS.md, "Pluton"): this layout is emulator-defined
and documented in docs/pluton.md. All integers are little-endian.

    header   magic b"MTAE" (4) | u16 version = 1 | u16 count N (0..20) | nonce (32) | device_id (64, identity X||Y)
    N x 72   u16 image_type | u16 reserved = 0 | u32 security_version | component_id (16, GUID bytes_le)
             | image_id (16, GUID bytes_le) | sha256 (32)
    trailer  signature (64): raw r||s, ECDSA P-256 over SHA-256 of every preceding byte, by the attestation key

The device and the cloud both import this module, so it depends only on `cryptography`.
"""
from __future__ import annotations

import hashlib
import struct
import uuid
from dataclasses import dataclass, field
from typing import Callable, Sequence

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

MAGIC = b"MTAE"
VERSION = 1
MAX_MEASUREMENTS = 20          # PROCESS_ATTESTATION returns up to 20 measurements (ASOS pluton_remoteapi.h)
NONCE_SIZE = 32
DEVICE_ID_SIZE = 64
SIGNATURE_SIZE = 64
MEASUREMENT_SIZE = 72
_HEADER = struct.Struct("<4sHH")
HEADER_SIZE = _HEADER.size + NONCE_SIZE + DEVICE_ID_SIZE          # 104
_MEASUREMENT = struct.Struct("<HHI16s16s32s")
assert _MEASUREMENT.size == MEASUREMENT_SIZE

# P-256 group order, used to reject out-of-range r or s before calling the library.
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


class AttestationError(ValueError):
    """Evidence that cannot be accepted. `.reason` is a short machine-readable cause."""

    def __init__(self, reason: str, message: str | None = None) -> None:
        super().__init__(message or reason)
        self.reason = reason


class AttestationFormatError(AttestationError):
    """The bytes are not well-formed evidence (wrong magic, version, length, count, reserved field)."""


class AttestationSignatureError(AttestationError):
    """The evidence is well-formed but its signature does not verify under the given attestation key."""


@dataclass(frozen=True)
class Measurement:
    image_type: int
    security_version: int
    component_id: uuid.UUID
    image_id: uuid.UUID
    sha256: bytes

    def encode(self) -> bytes:
        if not 0 <= self.image_type <= 0xFFFF:
            raise ValueError(f"image_type out of range: {self.image_type}")
        if not 0 <= self.security_version <= 0xFFFFFFFF:
            raise ValueError(f"security_version out of range: {self.security_version}")
        if len(self.sha256) != 32:
            raise ValueError(f"sha256 must be 32 bytes, got {len(self.sha256)}")
        return _MEASUREMENT.pack(self.image_type, 0, self.security_version, self.component_id.bytes_le,
                                 self.image_id.bytes_le, bytes(self.sha256))


@dataclass(frozen=True)
class Evidence:
    nonce: bytes
    device_id: bytes
    measurements: tuple[Measurement, ...]
    signature: bytes
    signed_bytes: bytes = field(repr=False)

    @property
    def device_id_hex(self) -> str:
        return self.device_id.hex().upper()


def encode_unsigned(nonce: bytes, device_id: bytes, measurements: Sequence[Measurement]) -> bytes:
    """Header and measurements: the bytes the attestation key signs."""
    if len(nonce) != NONCE_SIZE:
        raise ValueError(f"nonce must be {NONCE_SIZE} bytes, got {len(nonce)}")
    if len(device_id) != DEVICE_ID_SIZE:
        raise ValueError(f"device_id must be {DEVICE_ID_SIZE} bytes, got {len(device_id)}")
    if len(measurements) > MAX_MEASUREMENTS:
        raise ValueError(f"at most {MAX_MEASUREMENTS} measurements, got {len(measurements)}")
    out = [_HEADER.pack(MAGIC, VERSION, len(measurements)), bytes(nonce), bytes(device_id)]
    out += [m.encode() for m in measurements]
    return b"".join(out)


def encode_evidence(nonce: bytes, device_id: bytes, measurements: Sequence[Measurement],
                    sign: Callable[[bytes], bytes]) -> bytes:
    """Build evidence; `sign(to_be_signed)` returns the 64-byte raw r||s signature over SHA-256 of its input."""
    body = encode_unsigned(nonce, device_id, measurements)
    signature = bytes(sign(body))
    if len(signature) != SIGNATURE_SIZE:
        raise ValueError(f"sign() must return {SIGNATURE_SIZE} bytes (raw r||s), got {len(signature)}")
    return body + signature


def parse_evidence(data: bytes) -> Evidence:
    """Decode evidence without checking its signature. Every length is checked before it is used."""
    data = bytes(data)
    if len(data) < HEADER_SIZE + SIGNATURE_SIZE:
        raise AttestationFormatError("truncated", f"evidence too short: {len(data)} bytes, "
                                                  f"need at least {HEADER_SIZE + SIGNATURE_SIZE}")
    magic, version, count = _HEADER.unpack_from(data, 0)
    if magic != MAGIC:
        raise AttestationFormatError("bad-magic", f"evidence magic is {magic!r}, expected {MAGIC!r}")
    if version != VERSION:
        raise AttestationFormatError("bad-version", f"evidence version {version} is not supported (expected {VERSION})")
    if count > MAX_MEASUREMENTS:
        raise AttestationFormatError("too-many-measurements",
                                     f"evidence claims {count} measurements, at most {MAX_MEASUREMENTS} allowed")
    expected = HEADER_SIZE + count * MEASUREMENT_SIZE + SIGNATURE_SIZE
    if len(data) != expected:
        raise AttestationFormatError("bad-length", f"evidence with {count} measurements must be {expected} bytes, "
                                                   f"got {len(data)}")
    nonce = data[_HEADER.size:_HEADER.size + NONCE_SIZE]
    device_id = data[_HEADER.size + NONCE_SIZE:HEADER_SIZE]
    measurements = []
    for i in range(count):
        image_type, reserved, svn, comp, image, digest = _MEASUREMENT.unpack_from(data, HEADER_SIZE + i * MEASUREMENT_SIZE)
        if reserved != 0:
            raise AttestationFormatError("bad-reserved", f"measurement {i}: reserved field is {reserved}, must be 0")
        measurements.append(Measurement(image_type, svn, uuid.UUID(bytes_le=comp), uuid.UUID(bytes_le=image), digest))
    body_end = expected - SIGNATURE_SIZE
    return Evidence(nonce, device_id, tuple(measurements), data[body_end:], data[:body_end])


def verify_evidence(data: bytes, attestation_public_key_64: bytes) -> Evidence:
    """Parse evidence and check its signature with the 64-byte X||Y attestation public key."""
    evidence = parse_evidence(data)
    try:
        key = public_key_from_raw(attestation_public_key_64)
    except ValueError as exc:
        raise AttestationError("bad-key", f"attestation public key is not a P-256 point: {exc}") from None
    if not verify_raw_signature(key, evidence.signed_bytes, evidence.signature):
        raise AttestationSignatureError("bad-signature", "evidence signature does not verify under the attestation key")
    return evidence


# ---- key and signature helpers (shared by the Pluton model, image packages and the cloud) -------------------

# The client-key binding of the device protocol (docs/cloud.md, "Device protocol"; emulator-defined): the device
# attests SHA-256(context || the service's nonce || its TLS client public key) in place of the bare nonce.
CLIENT_KEY_CONTEXT = b"MT3620-CLIENT-AUTH-KEY\x00"


def attestation_challenge(nonce: bytes, client_public_key: bytes) -> bytes:
    """The 32 bytes a device attests (PROCESS_ATTESTATION's nonce argument) to bind `client_public_key` (64-byte
    X||Y) to the service's `nonce` (32 bytes)."""
    nonce, client_public_key = bytes(nonce), bytes(client_public_key)
    if len(nonce) != NONCE_SIZE:
        raise ValueError(f"nonce must be {NONCE_SIZE} bytes, got {len(nonce)}")
    if len(client_public_key) != 64:
        raise ValueError(f"client public key must be 64 bytes (X||Y), got {len(client_public_key)}")
    return hashlib.sha256(CLIENT_KEY_CONTEXT + nonce + client_public_key).digest()


def public_key_from_raw(raw: bytes) -> ec.EllipticCurvePublicKey:
    """64-byte X||Y (big-endian coordinates) -> P-256 public key. Raises ValueError if not on the curve."""
    raw = bytes(raw)
    if len(raw) != 64:
        raise ValueError(f"a raw P-256 public key is 64 bytes (X||Y), got {len(raw)}")
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x04" + raw)


def public_key_to_raw(key: ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey) -> bytes:
    """P-256 key (public, or the public half of a private key) -> 64-byte X||Y."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        key = key.public_key()
    numbers = key.public_numbers()
    return numbers.x.to_bytes(32, "big") + numbers.y.to_bytes(32, "big")


def raw_signature_to_der(raw: bytes) -> bytes:
    raw = bytes(raw)
    if len(raw) != 64:
        raise ValueError(f"a raw P-256 signature is 64 bytes (r||s), got {len(raw)}")
    return encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))


def der_signature_to_raw(der: bytes) -> bytes:
    r, s = decode_dss_signature(bytes(der))
    if not (0 < r < 1 << 256 and 0 < s < 1 << 256):
        raise ValueError("signature integers do not fit in 32 bytes")
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def sign_raw(private_key: ec.EllipticCurvePrivateKey, data: bytes, deterministic: bool = False) -> bytes:
    """ECDSA P-256 / SHA-256 over `data`, returned as raw r||s (64 bytes).

    `deterministic=True` derives the nonce from key and message (RFC 6979), so equal inputs sign equally:
    the emulator's models use it to stay reproducible."""
    algorithm = ec.ECDSA(hashes.SHA256(), deterministic_signing=True) if deterministic else ec.ECDSA(hashes.SHA256())
    return der_signature_to_raw(private_key.sign(bytes(data), algorithm))


def verify_raw_signature(public_key: ec.EllipticCurvePublicKey, data: bytes, raw_signature: bytes) -> bool:
    """True when `raw_signature` (r||s) is a valid ECDSA P-256 / SHA-256 signature of `data`."""
    raw_signature = bytes(raw_signature)
    if len(raw_signature) != 64:
        return False
    r, s = int.from_bytes(raw_signature[:32], "big"), int.from_bytes(raw_signature[32:], "big")
    if not (0 < r < P256_ORDER and 0 < s < P256_ORDER):
        return False
    try:
        public_key.verify(encode_dss_signature(r, s), bytes(data), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


class NonceRegistry:
    """Verifier-side freshness: nonces are issued once and accepted once, so replayed evidence is refused.

    `issue()` draws a nonce from `random_bytes` (pass a seeded source in tests, `os.urandom` in a service);
    `verify(data, key)` checks the signature, then that the nonce was issued and not used before."""

    def __init__(self, random_bytes: Callable[[int], bytes], max_outstanding: int = 100_000) -> None:
        self._random = random_bytes
        self._outstanding: dict[bytes, None] = {}
        self._max = max_outstanding

    def issue(self) -> bytes:
        nonce = bytes(self._random(NONCE_SIZE))
        if len(nonce) != NONCE_SIZE:
            raise ValueError("random source returned the wrong length")
        self._outstanding[nonce] = None
        while len(self._outstanding) > self._max:           # forget the oldest
            self._outstanding.pop(next(iter(self._outstanding)))
        return nonce

    def verify(self, data: bytes, attestation_public_key_64: bytes) -> Evidence:
        evidence = verify_evidence(data, attestation_public_key_64)
        if evidence.nonce not in self._outstanding:
            raise AttestationError("replayed-nonce", "evidence nonce was never issued or was already used")
        del self._outstanding[evidence.nonce]
        return evidence


__all__ = [
    "AttestationError", "AttestationFormatError", "AttestationSignatureError", "Evidence", "Measurement",
    "NonceRegistry",
    "encode_evidence", "encode_unsigned", "parse_evidence", "verify_evidence", "public_key_from_raw",
    "public_key_to_raw", "raw_signature_to_der", "der_signature_to_raw", "sign_raw", "verify_raw_signature",
    "MAGIC", "VERSION", "MAX_MEASUREMENTS", "HEADER_SIZE", "MEASUREMENT_SIZE", "SIGNATURE_SIZE",
]
