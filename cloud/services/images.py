"""Images: packages parsed and signature-checked on upload (by `mt3620.imagepackage`, the project's one parser),
stored as uploaded, revoked, and the security-version floors of components.

The service trusts the Azure Sphere SDK test key (what `azsphere image add` uploads are signed with) plus every
key in its keystore folder (`<data>/keystore/*.pem`, same file rules as the user keystore of
`mt3620 image-package`). Emulator-defined: the real service re-signs uploads with a production key; this one
stores the package exactly as uploaded.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from cryptography.hazmat.primitives import serialization
from sqlalchemy import and_, delete, insert, select, update

from mt3620 import imagepackage as ip

from ..db import images, svn_floors
from ..domain import Conflict, Image, Invalid, NotFound, SvnFloor, TooLarge
from .base import Service, guid

MAX_IMAGE_SIZE = 64 * 1024 * 1024


@dataclass(frozen=True)
class Inspected:
    """What an upload's package declares, after its signature verified."""
    image_id: str
    component_id: str
    image_type: int
    name: str
    security_version: int
    signing_thumbprint: str


def service_keystore(directory: str | os.PathLike | None) -> ip.Keystore:
    keystore = ip.Keystore.load(directory) if directory and Path(directory).is_dir() else ip.Keystore()
    try:
        sdk = ip.SdkTestSigner()
    except Exception:  # noqa: BLE001 - the SDK key ships in a declared dependency; without it, keystore only
        return keystore
    keystore.add(ip.TrustedKey(sdk.public_key, {sdk.thumbprint}, "Azure Sphere SDK test key"))
    return keystore


def make_inspector(keystore: ip.Keystore) -> Callable[[bytes], Inspected]:
    def inspect(data: bytes) -> Inspected:
        try:
            package = ip.parse(data)
            package.verify(keystore)
        except ip.ImagePackageError as exc:
            raise Invalid(f"{exc} ({exc.reason})", "InvalidImagePackage") from None
        debug = package.metadata.debug
        return Inspected(str(package.image_id), str(package.component_id), package.image_type,
                         (debug.name if debug else "") or "", package.security_version,
                         package.thumbprint.hex().upper())
    return inspect


_IMAGE_COLUMNS = [col for col in images.c if col.name != "content"]


def _image(r) -> Image:
    return Image(r.id, r.component_id, r.image_type, r.name, r.security_version, r.signing_thumbprint, r.sha256,
                 r.size, r.trust_status, r.created_at)


class ImageService(Service):
    def __init__(self, database, now, keystore: ip.Keystore | None = None) -> None:
        super().__init__(database, now)
        self.keystore = keystore if keystore is not None else service_keystore(ip.keys.keystore_dir())
        self.inspect = make_inspector(self.keystore)

    def signing_keys(self, tenant_id: str, image_ids: list[str]) -> list[tuple[str, str]]:
        """(thumbprint hex, public key PEM) of the keys that signed these images: the service accepted each upload
        because its keystore holds that key, and hands it to the devices it offers the image to (their trust in
        it comes from the service root they pinned, over the mutually authenticated channel)."""
        if not image_ids:
            return []
        with self.db.read() as c:
            thumbs = sorted({r[0] for r in c.execute(select(images.c.signing_thumbprint).where(and_(
                images.c.tenant_id == tenant_id, images.c.id.in_(image_ids))))})
        out = []
        for thumb in thumbs:
            for key in self.keystore.by_thumbprint(bytes.fromhex(thumb))[:1]:
                out.append((thumb, key.public_key.public_bytes(serialization.Encoding.PEM,
                                                               serialization.PublicFormat.SubjectPublicKeyInfo).decode()))
        return out

    def add(self, tenant_id: str, data: bytes) -> Image:
        """Parse and signature-check an image package, then store it (the work of an upload operation)."""
        if not data:
            raise Invalid("the image package is empty")
        if len(data) > MAX_IMAGE_SIZE:
            raise TooLarge(f"image packages are limited to {MAX_IMAGE_SIZE} bytes")
        info = self.inspect(data)
        with self.db.write() as c:
            existing = c.execute(select(images.c.content).where(and_(images.c.tenant_id == tenant_id,
                                                                     images.c.id == info.image_id))).scalar()
            if existing is not None:
                # An image is its signed content: the same content with a re-encoded signature is the same image
                # (kept as first uploaded); other content under the same image ID is another build: refused.
                if ip.parse(bytes(existing)).content_digest != ip.parse(data).content_digest:
                    raise Conflict(f"image {info.image_id} already exists with other content")
            else:
                c.execute(insert(images).values(
                    tenant_id=tenant_id, id=info.image_id, component_id=info.component_id,
                    image_type=info.image_type, name=info.name, security_version=info.security_version,
                    signing_thumbprint=info.signing_thumbprint, sha256=hashlib.sha256(data).hexdigest(),
                    size=len(data), content=data, trust_status="Trusted", created_at=self.now()))
        return self.get(tenant_id, info.image_id)

    def get(self, tenant_id: str, image_id: str) -> Image:
        return _image(self._one(images, tenant_id, image_id, "image", _IMAGE_COLUMNS))

    def content(self, tenant_id: str, image_id: str) -> bytes:
        with self.db.read() as c:
            data = c.execute(select(images.c.content).where(and_(images.c.tenant_id == tenant_id,
                                                                 images.c.id == image_id))).scalar()
        if data is None:
            raise NotFound("image")
        return bytes(data)

    def list(self, tenant_id: str) -> list[Image]:
        with self.db.read() as c:
            rows = c.execute(select(*_IMAGE_COLUMNS).where(images.c.tenant_id == tenant_id)
                             .order_by(images.c.created_at)).all()
        return [_image(r) for r in rows]

    def revoke(self, tenant_id: str, image_id: str) -> Image:
        image = self.get(tenant_id, image_id)
        with self.db.write() as c:
            c.execute(update(images).where(and_(images.c.tenant_id == tenant_id, images.c.id == image.id))
                      .values(trust_status="Revoked"))
        return self.get(tenant_id, image.id)

    # ---- security-version floors ----------------------------------------------------------------------------
    def set_floor(self, tenant_id: str, component_id: str, minimum: int) -> SvnFloor:
        component_id = guid(component_id, "component ID")
        if not 0 <= int(minimum) <= 0xFFFFFFFF:
            raise Invalid("minimum security version must be 0 .. 2^32-1")
        with self.db.write() as c:
            c.execute(delete(svn_floors).where(and_(svn_floors.c.tenant_id == tenant_id,
                                                    svn_floors.c.component_id == component_id)))
            c.execute(insert(svn_floors).values(tenant_id=tenant_id, component_id=component_id,
                                                minimum_security_version=int(minimum)))
        return SvnFloor(component_id, int(minimum))

    def floors(self, c, tenant_id: str) -> dict[str, int]:
        """component ID -> minimum security version, read inside the caller's transaction."""
        return {r.component_id: r.minimum_security_version
                for r in c.execute(select(svn_floors).where(svn_floors.c.tenant_id == tenant_id))}
