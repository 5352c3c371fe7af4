"""What the verifier judges measurements against: the digests of the images the service holds.

- OS releases: the emulated OS is the project's own signed boot chain (mt3620.firmware.boot: the images every
  emulated device boots), plus any further releases registered with `register_os_images` (e.g. an OS update
  with a higher security version). Emulator-defined: the real service gets OS images from Microsoft.
- Tenant images: every uploaded package, by the SHA-256 of its signed content (payload || metadata), computed
  from the stored bytes once and cached by the file's SHA-256.
"""
from __future__ import annotations

import threading
import uuid

from mt3620 import imagepackage as ip

from . import verifier

_lock = threading.Lock()
_registered: dict[bytes, verifier.KnownImage] = {}
_digests: dict[str, bytes] = {}          # file SHA-256 (hex) -> content digest


def _known(pkg: ip.ImagePackage, origin: str) -> verifier.KnownImage:
    return verifier.KnownImage(pkg.image_id, pkg.component_id, pkg.image_type, pkg.security_version, origin)


_release: dict[bytes, verifier.KnownImage] | None = None


def os_release_images() -> dict[bytes, verifier.KnownImage]:
    """Every OS image the service knows, by content digest (the project's release is parsed once)."""
    global _release
    if _release is None:
        from mt3620.firmware.boot import release
        parsed = {}
        for data in release().images.values():
            pkg = ip.parse(data)
            parsed[pkg.content_digest] = _known(pkg, verifier.OS_RELEASE)
        _release = parsed
    with _lock:
        return {**_release, **_registered}


def register_os_images(images: list[bytes]) -> list[verifier.KnownImage]:
    """Add the images of another OS release (signed by the project's root key, which signs OS images)."""
    from mt3620.firmware.boot import root_signer
    signer = root_signer()
    trusted = ip.Keystore([ip.TrustedKey(signer.public_key, {signer.thumbprint}, "project root key")])
    added = []
    for data in images:
        pkg = ip.parse(data)
        pkg.verify(trusted, strict_thumbprint=True)
        with _lock:
            _registered[pkg.content_digest] = _known(pkg, verifier.OS_RELEASE)
        added.append(_registered[pkg.content_digest])
    return added


def content_digest(file_sha256: str, load_content) -> bytes | None:
    """The content digest of a stored package (None when the stored bytes no longer parse)."""
    with _lock:
        hit = _digests.get(file_sha256)
    if hit is not None:
        return hit
    try:
        digest = ip.parse(load_content()).content_digest
    except ip.ImagePackageError:
        return None
    with _lock:
        _digests[file_sha256] = digest
    return digest


def tenant_image(row, digest: bytes) -> tuple[bytes, verifier.KnownImage]:
    return digest, verifier.KnownImage(uuid.UUID(row.id), uuid.UUID(row.component_id), row.image_type,
                                       row.security_version, verifier.TENANT_IMAGE)
