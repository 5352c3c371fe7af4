"""OS releases published on the feeds (Retail, RetailEval): what update checks offer as the OS target."""
from __future__ import annotations

from sqlalchemy import and_, delete, insert

from .. import reconcile
from ..db import os_releases
from ..domain import Invalid, OsRelease
from .base import Service


class OsReleaseService(Service):
    def publish(self, feed: int, version: str) -> OsRelease:
        if feed not in (reconcile.RETAIL, reconcile.RETAIL_EVAL):
            raise Invalid("feed must be 0 (Retail) or 1 (RetailEval)")
        if not version or len(version) > 64:
            raise Invalid("OS version must be 1 to 64 characters")
        with self.db.write() as c:
            c.execute(delete(os_releases).where(and_(os_releases.c.feed == feed, os_releases.c.version == version)))
            c.execute(insert(os_releases).values(feed=feed, version=version, released_at=self.now()))
        return OsRelease(feed, version)
