"""OS releases published on the feeds (Retail, RetailEval): what update checks offer as the OS target, with the
release's stage images (signed by the project's root key, which signs OS images) that devices download and install.
"""
from __future__ import annotations

import hashlib

from sqlalchemy import and_, delete, insert, select

from mt3620 import imagepackage as ip

from .. import known_images, reconcile
from ..db import os_release_images, os_releases
from ..domain import Forbidden, Invalid, NotFound, OsRelease
from .base import Service

ROOTFS = 8


class OsReleaseService(Service):
    def publish(self, feed: int, version: str, images: list[bytes] = ()) -> OsRelease:
        """Publish `version` on `feed`; with `images`, the release's stage images: each must be signed by the
        project's root key, and the RootFs stage must name `version` (what a device that boots it reports)."""
        if feed not in (reconcile.RETAIL, reconcile.RETAIL_EVAL):
            raise Invalid("feed must be 0 (Retail) or 1 (RetailEval)")
        if not version or len(version) > 64:
            raise Invalid("OS version must be 1 to 64 characters")
        parsed = []
        for data in images:
            try:
                known_images.register_os_images([data])        # signed by the root key, else refused
                parsed.append((ip.parse(data), bytes(data)))
            except ip.ImagePackageError as exc:
                raise Invalid(f"not an OS image of this service's signer: {exc} ({exc.reason})") from None
        if parsed:
            from mt3620.firmware.boot import os_version_of
            rootfs = [data for pkg, data in parsed if pkg.image_type == ROOTFS]
            if len(rootfs) != 1 or os_version_of(rootfs[0]) != version:
                raise Invalid(f"an OS release needs exactly one RootFs stage naming os-version {version}")
        with self.db.write() as c:
            c.execute(delete(os_releases).where(and_(os_releases.c.feed == feed, os_releases.c.version == version)))
            c.execute(insert(os_releases).values(feed=feed, version=version, released_at=self.now()))
            if parsed:
                c.execute(delete(os_release_images).where(os_release_images.c.version == version))
                c.execute(insert(os_release_images), [
                    dict(version=version, image_type=pkg.image_type, image_id=str(pkg.image_id),
                         sha256=hashlib.sha256(data).hexdigest(), content=data) for pkg, data in parsed])
        return OsRelease(feed, version)

    def images(self, version: str) -> list[tuple[int, str]]:
        """(image type, image ID) of a release's stage images, in image-type order."""
        with self.db.read() as c:
            return [(r.image_type, r.image_id) for r in c.execute(
                select(os_release_images.c.image_type, os_release_images.c.image_id)
                .where(os_release_images.c.version == version).order_by(os_release_images.c.image_type))]

    def image(self, version: str, image_type: int, offered: str | None) -> bytes:
        """One stage image for a device that is offered `offered` (the latest release of its feed)."""
        if version != offered:
            raise Forbidden(f"OS {version} is not the release offered to this device", "os-not-offered")
        with self.db.read() as c:
            data = c.execute(select(os_release_images.c.content).where(and_(
                os_release_images.c.version == version, os_release_images.c.image_type == image_type))).scalar()
        if data is None:
            raise NotFound(f"image type {image_type} of OS {version}")
        return bytes(data)

    def known(self) -> list[bytes]:
        """Every published release image (the verifier knows them as OS images)."""
        with self.db.read() as c:
            return [bytes(r[0]) for r in c.execute(select(os_release_images.c.content))]

    def latest(self, feed: int) -> str | None:
        with self.db.read() as c:
            return c.execute(select(os_releases.c.version).where(os_releases.c.feed == feed)
                             .order_by(os_releases.c.released_at.desc()).limit(1)).scalar()
