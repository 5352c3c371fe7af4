"""Signing keys, trusted keys and the user's keystore.

A package's SG section names its signer by a 20-byte thumbprint: the SHA-1 of the signing certificate (the SDK
test certificate's is a8d5cc69...5df0). A bare public key has no certificate, so the emulator defines its
thumbprint as SHA-1 of the key's DER SubjectPublicKeyInfo (docs/pluton.md). A keystore entry may also carry an
explicit thumbprint: a file named `<40 hex digits>.pem` declares that thumbprint for the key inside.

Keystore location (emulator-defined): $MT3620_KEYSTORE if set, else ~/.config/mt3620/keystore; every *.pem
in it (public key, certificate or private key, whose public half is used) is trusted.
"""
from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ..attestation import public_key_to_raw, sign_raw, verify_raw_signature

THUMBPRINT_NAME = re.compile(r"^[0-9a-fA-F]{40}$")


class KeyFileError(ValueError):
    """A key file that cannot be used."""


def spki_thumbprint(public_key: ec.EllipticCurvePublicKey) -> bytes:
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha1(der).digest()


@dataclass
class TrustedKey:
    public_key: ec.EllipticCurvePublicKey
    thumbprints: set[bytes] = field(default_factory=set)
    source: str = ""

    @property
    def raw(self) -> bytes:
        return public_key_to_raw(self.public_key)

    def verify(self, data: bytes, raw_signature: bytes) -> bool:
        return verify_raw_signature(self.public_key, data, raw_signature)


def _p256(key, source: str):
    if not isinstance(key, (ec.EllipticCurvePublicKey, ec.EllipticCurvePrivateKey)) or not isinstance(key.curve, ec.SECP256R1):
        raise KeyFileError(f"{source}: not an ECDSA P-256 key")
    return key


def load_trusted_key(path: str | os.PathLike) -> TrustedKey:
    """Load a public key, certificate or private key (PEM or DER) as a trusted verification key."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read key file {path}: {exc.strerror or exc}") from None
    thumbprints: set[bytes] = set()
    key = None
    loaders = (
        lambda d: x509.load_pem_x509_certificate(d), lambda d: x509.load_der_x509_certificate(d),
    )
    for loader in loaders:
        try:
            cert = loader(data)
        except ValueError:
            continue
        key = cert.public_key()
        thumbprints.add(cert.fingerprint(hashes.SHA1()))
        break
    if key is None:
        for loader in (serialization.load_pem_public_key, serialization.load_der_public_key):
            try:
                key = loader(data)
                break
            except (ValueError, TypeError):
                continue
    if key is None:
        for loader in (serialization.load_pem_private_key, serialization.load_der_private_key):
            try:
                key = loader(data, password=None).public_key()
                break
            except (ValueError, TypeError):
                continue
    if key is None:
        raise KeyFileError(f"{path}: not a PEM/DER public key, certificate or unencrypted private key")
    key = _p256(key, str(path))
    thumbprints.add(spki_thumbprint(key))
    if THUMBPRINT_NAME.match(path.stem):
        thumbprints.add(bytes.fromhex(path.stem))
    return TrustedKey(key, thumbprints, str(path))


def keystore_dir() -> Path:
    env = os.environ.get("MT3620_KEYSTORE")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "mt3620" / "keystore"


class Keystore:
    """An ordered list of trusted keys."""

    def __init__(self, keys: list[TrustedKey] | None = None) -> None:
        self.keys: list[TrustedKey] = list(keys or [])

    @classmethod
    def load(cls, directory: str | os.PathLike | None = None) -> "Keystore":
        directory = Path(directory) if directory is not None else keystore_dir()
        keys = []
        if directory.is_dir():
            for path in sorted(directory.glob("*.pem")):
                keys.append(load_trusted_key(path))
        return cls(keys)

    def add(self, key: TrustedKey) -> None:
        self.keys.append(key)

    def by_thumbprint(self, thumbprint: bytes) -> list[TrustedKey]:
        return [k for k in self.keys if thumbprint in k.thumbprints]

    def __len__(self) -> int:
        return len(self.keys)


def trust_key(path: str | os.PathLike, thumbprint: bytes | None = None,
              directory: str | os.PathLike | None = None) -> Path:
    """Copy the public half of a key into the keystore (as <thumbprint>.pem). Returns the new file."""
    key = load_trusted_key(path)
    directory = Path(directory) if directory is not None else keystore_dir()
    directory.mkdir(parents=True, exist_ok=True)
    thumb = thumbprint or next((t for t in key.thumbprints if t != spki_thumbprint(key.public_key)),
                               spki_thumbprint(key.public_key))
    target = directory / f"{thumb.hex()}.pem"
    target.write_bytes(key.public_key.public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo))
    return target


class Signer:
    """Something that signs images: a 20-byte thumbprint for the SG section and `sign(data) -> raw r||s`."""

    thumbprint: bytes
    public_key: ec.EllipticCurvePublicKey

    def sign(self, data: bytes) -> bytes:
        raise NotImplementedError


class KeySigner(Signer):
    """Signs with a P-256 private key; deterministic (RFC 6979) so the same input gives the same package."""

    def __init__(self, private_key: ec.EllipticCurvePrivateKey, thumbprint: bytes | None = None) -> None:
        self._key = _p256(private_key, "signing key")
        self.public_key = private_key.public_key()
        self.thumbprint = thumbprint or spki_thumbprint(self.public_key)

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> "KeySigner":
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise KeyFileError(f"cannot read signing key {path}: {exc.strerror or exc}") from None
        for loader in (serialization.load_pem_private_key, serialization.load_der_private_key):
            try:
                return cls(loader(data, password=None))
            except (ValueError, TypeError):
                continue
        raise KeyFileError(f"{path}: not an unencrypted P-256 private key (PEM or DER)")

    def sign(self, data: bytes) -> bytes:
        return sign_raw(self._key, data, deterministic=True)


class SdkTestSigner(Signer):
    """The Azure Sphere SDK test signing key, as shipped in Microsoft's `azuresphere-imagemetadata` package.

    `azsphere image-package pack-application` signs sideloadable packages with this key; using it makes the
    project's packages load on a device that trusts the SDK test key. The project keeps no copy of the key."""

    def __init__(self) -> None:
        try:
            from azuresphere_imagemetadata.signing.app_development import AppDevelopmentSigner
        except ImportError as exc:  # pragma: no cover - declared dependency
            raise KeyFileError("the SDK test key needs the azuresphere-imagemetadata package") from exc
        bundle = AppDevelopmentSigner().signing_map.ecdsa_256
        self._key = bundle.key
        self.public_key = bundle.key.public_key()
        self.thumbprint = bundle.cert.certificate.fingerprint(hashes.SHA1())

    def sign(self, data: bytes) -> bytes:
        return sign_raw(self._key, data, deterministic=True)
