"""Private keys at rest: sealed under a key-encryption key (KEK) that is kept apart from the database.

Every CA and TLS private key the service stores (root, intermediate, each tenant CA generation, the device
endpoint's TLS key) is AES-256-GCM encrypted under the KEK, with the row it belongs to as associated data, so a
sealed key cannot be moved to another row. The KEK is 32 random bytes in a file of mode 0600: by default
`DATA/kek.bin`, made at the first start; or a file the operator provides (`--kek-file`, `$MT3620_CLOUD_KEK_FILE`),
e.g. on another volume than the database, which is what a PostgreSQL deployment does (every service process on
one database needs the same KEK). Keys stored in plain text by an earlier version are sealed at start.
"""
from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "kek1:"
KEK_SIZE = 32


class VaultError(Exception):
    """The KEK is missing, malformed, or does not open the stored keys."""


def load_or_create_kek(path: str | os.PathLike, create: bool = True) -> bytes:
    path = Path(path)
    if not path.exists():
        if not create:
            raise VaultError(f"no key-encryption key at {path}")
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass   # another process made it first
        else:
            with os.fdopen(fd, "wb") as f:
                f.write(secrets.token_bytes(KEK_SIZE))
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise VaultError(f"the key-encryption key {path} is readable by others (mode {mode:04o}): chmod 600 it")
    data = path.read_bytes()
    if len(data) != KEK_SIZE:
        raise VaultError(f"the key-encryption key {path} must hold {KEK_SIZE} bytes, not {len(data)}")
    return data


class Vault:
    def __init__(self, kek: bytes) -> None:
        self._aead = AESGCM(kek)

    def seal(self, secret: str, label: str) -> str:
        nonce = secrets.token_bytes(12)
        sealed = self._aead.encrypt(nonce, secret.encode(), label.encode())
        return PREFIX + base64.b64encode(nonce + sealed).decode()

    def open(self, stored: str, label: str) -> str:
        if not is_sealed(stored):
            return stored          # plain text from before sealing; sealed at the next start (seal_plaintext)
        raw = base64.b64decode(stored[len(PREFIX):])
        try:
            return self._aead.decrypt(raw[:12], raw[12:], label.encode()).decode()
        except InvalidTag:
            raise VaultError(f"the key-encryption key does not open the stored key {label!r} (another service's "
                             "database, or the wrong --kek-file)") from None


def is_sealed(stored: str) -> bool:
    return stored.startswith(PREFIX)
