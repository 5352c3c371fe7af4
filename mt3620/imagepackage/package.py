"""Image packages: parse, verify and build `.imagepackage` files.

An application package is ASXipFS (app_manifest.json, bin/app, any other approot files) || metadata ||
signature (MT3620-FACTS.md "Image packages"). Other image types (firmware stages, keystores) share the
metadata and signature trailer around an arbitrary payload.
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
import uuid
from dataclasses import dataclass
from pathlib import Path

from . import asxipfs
from .keys import Keystore, Signer, TrustedKey
from .metadata import (ABI_APPLICATION_RUNTIME, IMAGE_TYPE_APPLICATIONS, SIGNING_TYPE_ECDSA256, TAG_ABI_DEPENDS,
                       TEMP_UNDER_DEVELOPMENT, Abi, Debug, Identity, Metadata, MetadataError, Revocation, Signature,
                       SignedImage, TemporaryImage, split_signed)


class ImagePackageError(ValueError):
    """A package that cannot be used. `.reason` is a short cause (bad-magic, bad-signature, untrusted-signer...)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class ImagePackage:
    data: bytes
    signed: SignedImage

    @property
    def metadata(self) -> Metadata:
        return self.signed.metadata

    @property
    def identity(self) -> Identity:
        return self.signed.metadata.identity  # parse() guarantees it exists

    @property
    def image_type(self) -> int:
        return self.identity.image_type

    @property
    def component_id(self) -> uuid.UUID:
        return self.identity.component_id

    @property
    def image_id(self) -> uuid.UUID:
        return self.identity.image_id

    @property
    def thumbprint(self) -> bytes:
        return self.signed.metadata.signature.thumbprint

    @property
    def security_version(self) -> int:
        rv = self.signed.metadata.revocation
        return rv.security_version if rv else 0

    @property
    def payload(self) -> bytes:
        return self.signed.payload

    @property
    def sha256(self) -> bytes:
        """SHA-256 of the whole file as stored (payload, metadata and signature): a file checksum, not an
        identity (the same image signed twice, or with its signature re-encoded, has another file digest)."""
        return hashlib.sha256(self.data).digest()

    @property
    def content_digest(self) -> bytes:
        """The image's identity and its measurement: SHA-256 of the signed bytes (payload || metadata).

        ECDSA signatures are malleable: (r, s) and (r, n - s) both verify, and real SDK signatures use both halves,
        so a verifier must accept either. The signature is therefore left out of the identity: a package whose
        signature was re-encoded (or that was signed again) is the same image, and anything keyed by this digest
        (measurements, revocation, the service's image records) cannot be dodged by re-encoding."""
        return content_digest(self.signed)

    def filesystem(self) -> asxipfs.Filesystem:
        try:
            return asxipfs.parse(self.payload)
        except asxipfs.AsxipfsError as exc:
            raise ImagePackageError(exc.reason, f"image file system: {exc}") from None

    def manifest(self) -> dict:
        raw = self.filesystem().read("/app_manifest.json")
        try:
            manifest = json.loads(raw.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ImagePackageError("bad-manifest", f"app_manifest.json is not valid JSON: {exc}") from None
        except RecursionError:      # "[[[[..." thousands deep: Python's decoder gives up
            raise ImagePackageError("bad-manifest", "app_manifest.json is nested too deeply") from None
        if not isinstance(manifest, dict):
            raise ImagePackageError("bad-manifest", "app_manifest.json is not a JSON object")
        return manifest

    def verify(self, keystore: Keystore, strict_thumbprint: bool = False) -> TrustedKey:
        """Check the signature against trusted keys. Keys whose thumbprint matches the SG section are tried first;
        unless `strict_thumbprint`, every other trusted key is tried too (a bare public key has no certificate
        thumbprint on file). Returns the key that verified; raises ImagePackageError otherwise."""
        return verify_signed(self.signed, keystore, strict_thumbprint)


def content_digest(signed: SignedImage) -> bytes:
    """SHA-256 of what the signature covers (payload || metadata): an image's identity (see ImagePackage)."""
    return hashlib.sha256(signed.signed_bytes).digest()


def derive_image_id(image_type: int, component_id: uuid.UUID, payload: bytes, sections: list) -> uuid.UUID:
    """A reproducible image ID from everything that makes the build (emulator-defined; the SDK draws a random
    one): image type, component, payload and every metadata section but ID and SG (name, build time, security
    version, temporary flags, ABI...). Two different builds of one component never share an image ID; the same
    build gives the same ID."""
    h = hashlib.sha256(b"MT3620-image-id-v2\0")
    h.update(image_type.to_bytes(2, "little") + component_id.bytes_le)
    for section in sections:
        if section.TAG in (Identity.TAG, Signature.TAG):
            continue
        body = section.encode()
        h.update(section.TAG.to_bytes(2, "little") + len(body).to_bytes(4, "little") + body)
    h.update(hashlib.sha256(bytes(payload)).digest())
    return uuid.UUID(bytes=h.digest()[:16], version=4)


def verify_signed(signed: SignedImage, keystore: Keystore, strict_thumbprint: bool = False) -> TrustedKey:
    sg = signed.metadata.signature
    if sg is None:
        raise ImagePackageError("no-signature-section", "metadata has no SG (signature) section")
    if sg.signing_type != SIGNING_TYPE_ECDSA256:
        raise ImagePackageError("bad-signing-type", f"signing type {sg.signing_type} is not ECDSA P-256")
    matching = keystore.by_thumbprint(sg.thumbprint)
    others = [] if strict_thumbprint else [k for k in keystore.keys if k not in matching]
    if not matching and strict_thumbprint:
        raise ImagePackageError("untrusted-signer", f"signer thumbprint {sg.thumbprint.hex()} is not in the trusted keystore")
    for key in matching + others:
        if key.verify(signed.signed_bytes, signed.signature):
            return key
    if not keystore.keys:
        raise ImagePackageError("no-trusted-keys", "no trusted keys: add one with `mt3620 image-package trust-key` "
                                                   "or pass --trusted-key")
    if matching:
        raise ImagePackageError("bad-signature", f"signature does not verify under the key with thumbprint "
                                                 f"{sg.thumbprint.hex()}: the package was modified or mis-signed")
    raise ImagePackageError("untrusted-signer", f"signature does not verify under any of {len(keystore)} trusted "
                                                f"key(s); signer thumbprint {sg.thumbprint.hex()}")


def parse(data: bytes) -> ImagePackage:
    """Parse any signed image (bounds-checked). Requires ID and SG sections; does not check the signature."""
    data = bytes(data)
    try:
        signed = split_signed(data)
    except MetadataError as exc:
        raise ImagePackageError(exc.reason, f"image metadata: {exc}") from None
    if signed.metadata.identity is None:
        raise ImagePackageError("no-identity-section", "metadata has no ID (identity) section")
    if signed.metadata.signature is None:
        raise ImagePackageError("no-signature-section", "metadata has no SG (signature) section")
    return ImagePackage(data, signed)


def load(path: str | os.PathLike) -> ImagePackage:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ImagePackageError("unreadable", f"cannot read {path}: {exc.strerror or exc}") from None
    return parse(data)


def sign_image(payload: bytes, sections: list, signer: Signer) -> bytes:
    """payload (padded to 4 bytes) || metadata with a fresh SG section || signature."""
    payload = bytes(payload) + b"\0" * (-len(payload) % 4)
    sections = [s for s in sections if s.TAG != Signature.TAG]
    sections.insert(1 if sections and sections[0].TAG == Identity.TAG else 0, Signature(signer.thumbprint))
    body = payload + Metadata(sections).encode()
    return body + signer.sign(body)


def build_image(payload: bytes, image_type: int, component_id: uuid.UUID, signer: Signer, *,
                image_id: uuid.UUID | None = None, name: str = "", build_time: int = 0,
                security_version: int | None = None, extra_sections: list | None = None) -> bytes:
    """Sign an arbitrary payload as an image of `image_type` (firmware stages, keystores, test images)."""
    payload = bytes(payload) + b"\0" * (-len(payload) % 4)
    sections: list = [Debug(build_time, name[:32])]
    if security_version is not None:
        sections.append(Revocation(security_version))
    sections += list(extra_sections or [])
    image_id = image_id or derive_image_id(image_type, component_id, payload, sections)
    return sign_image(payload, [Identity(image_type, component_id, image_id)] + sections, signer)


def _read_approot(approot: Path) -> dict[str, tuple[bytes, int]]:
    files: dict[str, tuple[bytes, int]] = {}
    for here, dirs, names in os.walk(approot):
        dirs.sort()
        for name in sorted(names):
            path = Path(here) / name
            rel = path.relative_to(approot).as_posix()
            st = path.stat()
            if not stat.S_ISREG(st.st_mode):
                continue
            mode = 0o755 if (st.st_mode & 0o111 or rel == "bin/app") else 0o644
            files["/" + rel] = (path.read_bytes(), mode)
    return files


def build_application(approot: str | os.PathLike, signer: Signer, *, build_time: int = 0,
                      image_id: uuid.UUID | None = None, security_version: int | None = None,
                      under_development: bool = True) -> bytes:
    """Pack an approot folder (app_manifest.json, bin/app, ...) like `azsphere image-package pack-application`."""
    approot = Path(approot)
    manifest_path = approot / "app_manifest.json"
    if not manifest_path.is_file():
        raise ImagePackageError("no-manifest", f"{approot} has no app_manifest.json")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImagePackageError("bad-manifest", f"{manifest_path}: not valid JSON: {exc}") from None
    except RecursionError:
        raise ImagePackageError("bad-manifest", f"{manifest_path}: nested too deeply") from None
    if not isinstance(manifest, dict):
        raise ImagePackageError("bad-manifest", f"{manifest_path}: not a JSON object")
    try:
        component = uuid.UUID(str(manifest.get("ComponentId", "")))
    except ValueError:
        raise ImagePackageError("bad-manifest", f"{manifest_path}: ComponentId is not a GUID") from None
    entry = manifest.get("EntryPoint")
    if not isinstance(entry, str) or not entry.startswith("/"):
        raise ImagePackageError("bad-manifest", f"{manifest_path}: EntryPoint must be an absolute path such as /bin/app")
    if not (approot / entry.lstrip("/")).is_file():
        raise ImagePackageError("no-entry-point", f"entry point {entry} is not in {approot}")
    # The debug section holds 32 bytes of name; longer manifest names (the public IntercoreComms RTApp sample's
    # "IntercoreComms_RTApp_MT3620_BareMetal" is 37) are cut there, whole UTF-8 characters only.
    name = str(manifest.get("Name", "")).encode("utf-8")[:32].decode("utf-8", "ignore")
    files = _read_approot(approot)
    fs = asxipfs.build(files)
    sections: list = [Debug(build_time, name)]
    if under_development:
        sections.append(TemporaryImage(TEMP_UNDER_DEVELOPMENT))
    runtime = manifest.get("TargetApplicationRuntimeVersion")
    versions = [(int(runtime), ABI_APPLICATION_RUNTIME)] if isinstance(runtime, int) and runtime >= 0 else []
    sections.append(Abi(TAG_ABI_DEPENDS, versions))
    if security_version is not None:
        sections.append(Revocation(security_version))
    image_id = image_id or derive_image_id(IMAGE_TYPE_APPLICATIONS, component, fs, sections)
    return sign_image(fs, [Identity(IMAGE_TYPE_APPLICATIONS, component, image_id)] + sections, signer)
