"""The service's domain services, one per aggregate, over one database and one clock.

`Services` is the composition root: it opens the database, wires the services together and registers the runners
of long-running operations. Services return domain objects (cloud/domain.py) and raise domain errors; the API
layer (cloud/api/) turns them into HTTP.
"""
from __future__ import annotations

import datetime as _dt
import json
from typing import Callable

from mt3620.clock import Now, wall_clock

from .. import migrate, reconcile
from .attestation import AttestationService
from .audit import AuditService
from .base import Database
from .certificates import CertificateService
from .deployments import DeploymentService
from .device_groups import DeviceGroupService
from .devices import DeviceService
from .error_reports import ErrorReportService
from .images import ImageService, Inspected
from .operations import OperationService
from .os_releases import OsReleaseService
from .products import ProductService
from .registry import RegistryService
from .tenants import TenantService
from .users import DEFAULT_TOKEN_LIFETIME, UserService

IMAGE_UPLOAD, BULK_CLAIM = "ImageUpload", "BulkClaim"


class Services:
    def __init__(self, url: str, now: Now | None = None,
                 action_timeout: _dt.timedelta = reconcile.DEFAULT_ACTION_TIMEOUT,
                 image_inspector: Callable[[bytes], Inspected] | None = None,
                 token_lifetime: _dt.timedelta = DEFAULT_TOKEN_LIFETIME) -> None:
        self.db = Database(url)
        self.url = self.db.url
        self.now = now or wall_clock     # the service clock (docs/cloud.md, "Time")
        db, now = self.db, self.now
        self.users = UserService(db, now, token_lifetime)
        self.certificates = CertificateService(db, now)
        self.tenants = TenantService(db, now, self.certificates)
        self.products = ProductService(db, now)
        self.groups = DeviceGroupService(db, now, self.products)
        self.images = ImageService(db, now, image_inspector)
        self.deployments = DeploymentService(db, now, self.groups, self.images)
        self.registry = RegistryService(db, now)
        self.devices = DeviceService(db, now, self.groups, self.registry, action_timeout)
        self.attestation = AttestationService(db, now, self.certificates, self.devices, self.images, self.registry)
        self.error_reports = ErrorReportService(db, now)
        self.os_releases = OsReleaseService(db, now)
        self.operations = OperationService(db, now)
        self.audit = AuditService(db, now)
        self.operations.runners[IMAGE_UPLOAD] = lambda tenant, payload: {"ImageId": self.images.add(tenant, payload).id}
        self.operations.runners[BULK_CLAIM] = self._bulk_claim

    def _bulk_claim(self, tenant_id: str, payload: bytes) -> dict:
        report = self.devices.claim_many(tenant_id, json.loads(payload))
        return {"Claimed": list(report.claimed),
                "Failed": [{"DeviceId": f.device_id, "Code": f.code, "Message": f.message} for f in report.failed]}

    def initialise(self) -> "Services":
        """Migrate to the newest schema and make the service root and intermediate CAs once."""
        migrate.upgrade(self.db.engine)
        self.certificates.service_cas()
        return self

    def close(self) -> None:
        self.db.close()


__all__ = ["Services", "IMAGE_UPLOAD", "BULK_CLAIM"]
