"""The service's domain services, one per aggregate, over one database and one clock.

`Services` is the composition root: it opens the database, wires the services together and registers the runners
of long-running operations. Services return domain objects (cloud/domain.py) and raise domain errors; the API
layer (cloud/api/) turns them into HTTP.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
from pathlib import Path

from mt3620 import imagepackage as ip
from mt3620.clock import Now, wall_clock

from .. import known_images, migrate, reconcile
from ..domain import DomainError
from .attestation import AttestationService
from .audit import AuditService
from .base import Database
from .certificates import CertificateService
from .deployments import DeploymentService
from .device_groups import DeviceGroupService
from .devices import DeviceService
from .error_reports import ErrorReportService
from .images import ImageService
from .operations import OperationService
from .os_releases import OsReleaseService
from .products import ProductService
from .registry import RegistryService
from .tenants import TenantService
from .users import DEFAULT_TOKEN_LIFETIME, UserService
from .vault import Vault, VaultError, load_or_create_kek

IMAGE_UPLOAD, BULK_CLAIM, DEVICE_CLAIM = "ImageUpload", "BulkDeviceClaim", "DeviceClaim"
CREATE_PRODUCT, TENANT_CREATION = "CreateProduct", "TenantCreation"


def sqlite_path(url: str) -> Path | None:
    return Path(url.split("sqlite:///", 1)[1]) if url.startswith("sqlite:///") else None


def kek_path(url: str, kek_file: str | os.PathLike | None = None) -> Path:
    named = kek_file or os.environ.get("MT3620_CLOUD_KEK_FILE")
    if named:
        return Path(named)
    path = sqlite_path(url)
    if path is None:
        raise VaultError("a PostgreSQL database needs the key-encryption key named: --kek-file FILE or "
                         "$MT3620_CLOUD_KEK_FILE (the same file for every service process on the database)")
    return path.parent / "kek.bin"


def secure_sqlite_file(url: str) -> None:
    """Create a SQLite database file 0600 before SQLite does (it would follow the umask, often 0644); its -wal and
    -shm files take the database file's mode."""
    path = sqlite_path(url)
    if path is not None and not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


class Services:
    def __init__(self, url: str, now: Now | None = None,
                 action_timeout: _dt.timedelta = reconcile.DEFAULT_ACTION_TIMEOUT,
                 keystore: ip.Keystore | None = None,
                 token_lifetime: _dt.timedelta = DEFAULT_TOKEN_LIFETIME,
                 kek_file: str | os.PathLike | None = None) -> None:
        """`kek_file`: the key-encryption key (services/vault.py); default $MT3620_CLOUD_KEK_FILE, else kek.bin beside
        a SQLite database (a PostgreSQL database needs one named)."""
        secure_sqlite_file(url)
        self.db = Database(url)
        self.vault = Vault(load_or_create_kek(kek_path(self.db.url, kek_file)))
        self.url = self.db.url
        self.now = now or wall_clock     # the service clock (docs/cloud.md, "Time")
        db, now = self.db, self.now
        self.users = UserService(db, now, token_lifetime)
        self.certificates = CertificateService(db, now, self.vault)
        self.tenants = TenantService(db, now, self.certificates)
        self.products = ProductService(db, now)
        self.groups = DeviceGroupService(db, now, self.products)
        self.images = ImageService(db, now, keystore)
        self.deployments = DeploymentService(db, now, self.groups, self.images)
        self.registry = RegistryService(db, now)
        self.devices = DeviceService(db, now, self.groups, self.registry, action_timeout)
        self.attestation = AttestationService(db, now, self.certificates, self.devices, self.images, self.registry)
        self.error_reports = ErrorReportService(db, now)
        self.os_releases = OsReleaseService(db, now)
        self.operations = OperationService(db, now)
        self.audit = AuditService(db, now)
        self.operations.runners[IMAGE_UPLOAD] = lambda tenant, payload, resumed: {
            "ImageId": self.images.add(tenant, payload).id}     # the same content again is the same image
        self.operations.runners[BULK_CLAIM] = self._bulk_claim
        self.operations.runners["BulkClaim"] = self._bulk_claim       # queued by a version before 0002
        self.operations.runners[DEVICE_CLAIM] = self._claim

    def _claim(self, tenant_id: str, payload: bytes, resumed: bool) -> dict:
        item = json.loads(payload)
        try:
            return {"DeviceId": self.devices.claim(tenant_id, item["DeviceId"], item.get("AttestationPublicKey"),
                                                   item.get("DeviceGroupId")).id}
        except DomainError as exc:
            if resumed and exc.code == "DeviceAlreadyClaimed" and self.devices.tenant_of(
                    str(item["DeviceId"]).upper()) == tenant_id:
                return {"DeviceId": str(item["DeviceId"]).upper()}
            raise

    def _bulk_claim(self, tenant_id: str, payload: bytes, resumed: bool) -> dict:
        report = self.devices.claim_many(tenant_id, json.loads(payload), resumed)
        return {"Claimed": list(report.claimed),
                "Failed": [{"DeviceId": f.device_id, "Code": f.code, "Message": f.message} for f in report.failed]}

    def initialise(self) -> "Services":
        """Migrate to the newest schema and make the service root and intermediate CAs once."""
        migrate.upgrade(self.db.engine)
        self.certificates.seal_plaintext()
        self.operations.recover()
        known_images.register_os_images(self.os_releases.known())   # the verifier knows every published OS image
        self.certificates.service_cas()
        return self

    def close(self) -> None:
        self.db.close()


__all__ = ["Services", "IMAGE_UPLOAD", "BULK_CLAIM"]
