"""The device's certificate store (Applibs certstore.h): root CA certificates and client certificates with their
private keys, by identifier, for EAP-TLS Wi-Fi networks.

Rules from the public API reference: identifiers are 1-16 characters of A-Z a-z 0-9 . - _ (longer: ERANGE, other
characters: EINVAL); a certificate blob is PEM, 1 to 8192 bytes (ERANGE); an encrypted private key needs its
password, and a password given for an unencrypted key is EINVAL; installing under an existing identifier replaces
it; MoveCertificate renames atomically. Emulator-defined: the store holds 24 KiB of blobs (ENOSPC beyond; the
available space is 24 KiB minus the PEM bytes held), identifiers are listed in installation order, subject and
issuer names are RFC 4514 strings, and the store persists as JSON in the device's state folder when one is given
(or through a (load, save) store: a board keeps it in its flash, docs/device.md).
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mt3620.engine.linux.abi import EINVAL, ENOENT, ENOSPC, ERANGE
from mt3620.engine.linux.errors import LinuxError

CAPACITY = 24 * 1024
MAX_CERT_SIZE = 8192
MAX_IDENTIFIER = 16
MAX_PASSWORD = 256
_IDENT = re.compile(r"^[A-Za-z0-9._-]+$")


@dataclass
class StoredCert:
    kind: str                        # "root" or "client"
    certificate: str
    key: str | None = None
    password: str | None = None

    @property
    def size(self) -> int:
        return len(self.certificate) + len(self.key or "")

    def parsed(self) -> x509.Certificate:
        return x509.load_pem_x509_certificates(self.certificate.encode())[0]


def check_identifier(identifier: str) -> None:
    if len(identifier) > MAX_IDENTIFIER:
        raise LinuxError(ERANGE)
    if not identifier or not _IDENT.match(identifier):
        raise LinuxError(EINVAL)


class CertStore:
    def __init__(self, path: str | Path | None = None, store=None) -> None:
        """`store`: (load() -> dict | None, save(dict)) when the store lives elsewhere than a file."""
        self.path = Path(path) if path else None
        self.store = store
        self.certs: dict[str, StoredCert] = {}
        try:
            if store is not None:
                data = store[0]() or {}
            elif self.path is not None and self.path.exists():
                data = json.loads(self.path.read_text())
            else:
                data = {}
            self.certs = {k: StoredCert(**v) for k, v in data.items()}
        except (ValueError, TypeError, AttributeError) as exc:
            raise ValueError(f"{self.path or 'the flash'}: certificate store does not load: {exc}") from None

    def _save(self) -> None:
        if self.store is not None:
            self.store[1]({k: asdict(v) for k, v in self.certs.items()})
        elif self.path is not None:
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(json.dumps({k: asdict(v) for k, v in self.certs.items()}, indent=1))
            tmp.replace(self.path)

    def available(self) -> int:
        return max(0, CAPACITY - sum(c.size for c in self.certs.values()))

    def _fits(self, identifier: str, entry: StoredCert) -> None:
        old = self.certs.get(identifier)
        if entry.size - (old.size if old else 0) > self.available():
            raise LinuxError(ENOSPC)

    def install_root(self, identifier: str, pem: bytes) -> None:
        check_identifier(identifier)
        if not 1 <= len(pem) <= MAX_CERT_SIZE:
            raise LinuxError(ERANGE)
        text = _pem_certificate(pem)
        entry = StoredCert("root", text)
        self._fits(identifier, entry)
        self.certs[identifier] = entry
        self._save()

    def install_client(self, identifier: str, cert: bytes, key: bytes, password: str | None) -> None:
        check_identifier(identifier)
        if not 1 <= len(cert) <= MAX_CERT_SIZE or not 1 <= len(key) <= MAX_CERT_SIZE:
            raise LinuxError(ERANGE)
        if password is not None and len(password) > MAX_PASSWORD:
            raise LinuxError(ERANGE)
        text = _pem_certificate(cert)
        try:
            key_text = key.decode("ascii")
        except UnicodeDecodeError:
            raise LinuxError(EINVAL) from None
        try:
            private = serialization.load_pem_private_key(key, password.encode() if password else None)
        except TypeError:
            raise LinuxError(EINVAL) from None         # a password for a clear key, or none for an encrypted one
        except ValueError:
            raise LinuxError(EINVAL) from None
        certificate = x509.load_pem_x509_certificates(text.encode())[0]
        if private.public_key().public_bytes(serialization.Encoding.DER,
                                             serialization.PublicFormat.SubjectPublicKeyInfo) != \
                certificate.public_key().public_bytes(serialization.Encoding.DER,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo):
            pass          # the device does not check the pair at install time; EAP-TLS fails later (InvalidClientAuth)
        entry = StoredCert("client", text, key_text, password)
        self._fits(identifier, entry)
        self.certs[identifier] = entry
        self._save()

    def delete(self, identifier: str) -> None:
        if identifier not in self.certs:
            raise LinuxError(ENOENT)
        del self.certs[identifier]
        self._save()

    def move(self, source: str, dest: str) -> None:
        check_identifier(source)
        check_identifier(dest)
        if source not in self.certs:
            raise LinuxError(ENOENT)
        entry = self.certs.pop(source)
        self.certs[dest] = entry
        self._save()

    def identifiers(self) -> list[str]:
        return list(self.certs)

    def get(self, identifier: str) -> StoredCert | None:
        return self.certs.get(identifier)


def _pem_certificate(blob: bytes) -> str:
    try:
        text = blob.decode("ascii")
        certs = x509.load_pem_x509_certificates(blob)
    except (UnicodeDecodeError, ValueError):
        raise LinuxError(EINVAL) from None
    if not certs:
        raise LinuxError(EINVAL)
    return text
