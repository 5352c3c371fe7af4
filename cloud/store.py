"""The service's state on SQLAlchemy: every operation is one transaction; the pure cores decide.

Errors a client can cause raise `ServiceError(status, code, message)`; the HTTP layer maps them to JSON.
Several processes may share one database: uniqueness (claims, CA generations, nonces) is enforced by the
database (primary keys, DELETE ... RETURNING), never by an in-process check alone.
"""
from __future__ import annotations

import csv
import datetime as _dt
import hashlib
import io
import json
import secrets
import threading
import uuid
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from mt3620 import attestation as ae

from . import db, migrate, pki, reconcile, verifier
from .clock import wall_clock
from .db import (deployments, device_groups, device_image_states, devices, error_events, images, nonces,
                 operations, os_releases, products, role_assignments, service_secrets, svn_floors, tenant_cas,
                 tenants, users)

UTC = _dt.timezone.utc
ROLES = ("Administrator", "Contributor", "Reader")
ROLE_RANK = {"Reader": 1, "Contributor": 2, "Administrator": 3}

# The five groups `product create` makes (MT3620-FACTS.md): name, description, OsFeedType, UpdatePolicy.
DEFAULT_GROUPS = (
    ("Development", "Default development device group", reconcile.RETAIL, reconcile.NO_3RD_PARTY_APP_UPDATES),
    ("Field Test", "Default test device group", reconcile.RETAIL, reconcile.UPDATE_ALL),
    ("Production", "Default production device group", reconcile.RETAIL, reconcile.UPDATE_ALL),
    ("Production OS Evaluation", "Default Production OS Evaluation device group", reconcile.RETAIL_EVAL,
     reconcile.UPDATE_ALL),
    ("Field Test OS Evaluation", "Default Field Test OS Evaluation device group", reconcile.RETAIL_EVAL,
     reconcile.UPDATE_ALL),
)
ERROR_REPORT_MAX_EVENTS = 1000                  # per query (MT3620-FACTS.md: at most 1,000 events or 14 days)
ERROR_REPORT_MAX_AGE = _dt.timedelta(days=14)
# Emulator-defined: an event may be dated at most this far after the service's clock (device clocks drift; the same
# allowance as pki.BACKDATE gives certificates). Later events are dropped with a reason, so no device can pin a
# tenant's report with events dated 9999-12-31 that sort first and never age out.
ERROR_EVENT_CLOCK_SKEW = _dt.timedelta(minutes=5)
EVENT_TOO_OLD = "event-time-too-old"
EVENT_IN_FUTURE = "event-time-in-future"
OPERATION_LEASE = _dt.timedelta(minutes=5)      # an InProgress operation whose worker died is taken over after this
MAX_IMAGE_SIZE = 64 * 1024 * 1024
OPERATION_STATES = ("NotStarted", "InProgress", "Complete", "Failed")


class ServiceError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def not_found(what: str) -> ServiceError:
    return ServiceError(404, "NotFound", f"{what} not found")


def _uuid(value: str, what: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, AttributeError, TypeError):
        raise ServiceError(400, "BadRequest", f"{what} is not a GUID: {value!r}") from None


def normalise_device_id(value: str) -> str:
    text = str(value).strip()
    if len(text) != 128:
        raise ServiceError(400, "BadRequest", f"a device ID is 128 hex characters (64 bytes), got {len(text)}")
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise ServiceError(400, "BadRequest", "device ID is not hexadecimal") from None
    del raw   # any 64 bytes name a device; one whose ID is not a P-256 point needs an attestation key to attest
    return text.upper()


def _iso(t: _dt.datetime | None) -> str | None:
    return None if t is None else t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _minutes(delta: _dt.timedelta) -> int:
    return int(delta.total_seconds() // 60)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class User:
    id: str
    name: str


class Store:
    def __init__(self, url: str, now: Callable[[], _dt.datetime] | None = None,
                 action_timeout: _dt.timedelta = reconcile.DEFAULT_ACTION_TIMEOUT,
                 image_inspector: Callable[[bytes], dict] | None = None) -> None:
        self.url = db.normalise_url(url)
        self.engine: Engine = db.make_engine(self.url)
        self.now = now or wall_clock     # the service clock (docs/cloud.md, "Time")
        self.action_timeout = action_timeout
        self._inspect_image = image_inspector
        self._pki_lock = threading.Lock()
        self._root: pki.CertKey | None = None
        self._intermediate: pki.CertKey | None = None
        self._ca_cache: dict[str, tuple[float, list[tuple[pki.TenantCa, str]]]] = {}

    # ---- transactions ---------------------------------------------------------------------------------------
    def _write(self):
        return _Tx(self.engine, write=True)

    def _read(self):
        return _Tx(self.engine, write=False)

    def initialise(self) -> None:
        """Migrate to the newest schema and make the service root and intermediate CAs once."""
        migrate.upgrade(self.engine)
        self._service_cas()

    def close(self) -> None:
        self.engine.dispose()

    # ---- service PKI ----------------------------------------------------------------------------------------
    def _service_cas(self) -> tuple[pki.CertKey, pki.CertKey]:
        with self._pki_lock:
            if self._root and self._intermediate:
                return self._root, self._intermediate
            for name in ("root", "intermediate"):
                with self._read() as c:
                    row = c.execute(select(service_secrets).where(service_secrets.c.name == name)).first()
                if row is None:
                    now = self.now()
                    made = pki.make_root(now) if name == "root" else pki.make_intermediate(self._root, now)
                    try:
                        with self._write() as c:
                            c.execute(insert(service_secrets).values(name=name, cert_pem=made.cert_pem(),
                                                                     key_pem=made.key_pem(), created_at=now))
                    except IntegrityError:
                        pass  # another process made it first: use theirs
                    with self._read() as c:
                        row = c.execute(select(service_secrets).where(service_secrets.c.name == name)).first()
                loaded = pki.CertKey.from_pem(row.cert_pem, row.key_pem)
                if name == "root":
                    self._root = loaded
                else:
                    self._intermediate = loaded
            return self._root, self._intermediate

    def root_certificate(self):
        return self._service_cas()[0].cert

    def intermediate_certificate(self):
        return self._service_cas()[1].cert

    def _tenant_cas(self, c: Connection, tenant_id: str) -> list[tuple[pki.TenantCa, str]]:
        rows = c.execute(select(tenant_cas).where(tenant_cas.c.tenant_id == tenant_id)
                         .order_by(tenant_cas.c.generation)).all()
        return [(pki.TenantCa(tenant_id, pki.load_pem(r.cert_pem), r.active_from), r.key_pem) for r in rows]

    def ensure_tenant_ca(self, tenant_id: str) -> list[pki.TenantCa]:
        """Create the first CA, or renew when the newest is within 90 days of expiry (pki.needs_renewal)."""
        now = self.now()
        with self._read() as c:
            cas = self._tenant_cas(c, tenant_id)
        if not pki.needs_renewal([ca for ca, _ in cas], now):
            return [ca for ca, _ in cas]
        _, intermediate = self._service_cas()
        generation = len(cas) + 1
        made, active_from = pki.make_tenant_ca(intermediate, tenant_id, now, generation,
                                               sign_at_once=pki.signing_ca([ca for ca, _ in cas], now) is None)
        try:
            with self._write() as c:
                c.execute(insert(tenant_cas).values(
                    id=pki.new_id(), tenant_id=tenant_id, generation=generation, thumbprint=pki.thumbprint(made.cert),
                    cert_pem=made.cert_pem(), key_pem=made.key_pem(), not_before=made.cert.not_valid_before_utc,
                    not_after=made.cert.not_valid_after_utc, active_from=active_from))
        except IntegrityError:
            pass  # renewed concurrently by another worker
        self._ca_cache.pop(tenant_id, None)
        with self._read() as c:
            return [ca for ca, _ in self._tenant_cas(c, tenant_id)]

    def tenant_cas_cached(self, tenant_id: str) -> list[tuple[pki.TenantCa, str]]:
        """Tenant CAs for the device endpoints, cached a few seconds (CAs change only by renewal)."""
        import time
        hit = self._ca_cache.get(tenant_id)
        if hit and time.monotonic() - hit[0] < 10:
            return hit[1]
        self.ensure_tenant_ca(tenant_id)
        with self._read() as c:
            cas = self._tenant_cas(c, tenant_id)
        self._ca_cache[tenant_id] = (time.monotonic(), cas)
        return cas

    # ---- users and roles ------------------------------------------------------------------------------------
    def create_user(self, name: str) -> tuple[User, str]:
        name = name.strip()
        if not name or len(name) > 200:
            raise ServiceError(400, "BadRequest", "user name must be 1 to 200 characters")
        token = "mt3620_" + secrets.token_urlsafe(32)
        user = User(pki.new_id(), name)
        try:
            with self._write() as c:
                c.execute(insert(users).values(id=user.id, name=name, token_sha256=hash_token(token),
                                               created_at=self.now()))
        except IntegrityError:
            raise ServiceError(409, "Conflict", f"user {name!r} already exists") from None
        return user, token

    def rotate_token(self, name: str) -> str:
        token = "mt3620_" + secrets.token_urlsafe(32)
        with self._write() as c:
            n = c.execute(update(users).where(users.c.name == name).values(token_sha256=hash_token(token))).rowcount
        if not n:
            raise not_found(f"user {name!r}")
        return token

    def user_count(self) -> int:
        with self._read() as c:
            return c.execute(select(func.count()).select_from(users)).scalar_one()

    def authenticate(self, token: str) -> User | None:
        with self._read() as c:
            row = c.execute(select(users.c.id, users.c.name).where(users.c.token_sha256 == hash_token(token))).first()
        return User(row.id, row.name) if row else None

    def role_of(self, user: User, tenant_id: str) -> str | None:
        with self._read() as c:
            return c.execute(select(role_assignments.c.role).where(and_(
                role_assignments.c.tenant_id == tenant_id, role_assignments.c.user_id == user.id))).scalar()

    def list_roles(self, tenant_id: str) -> list[dict]:
        with self._read() as c:
            rows = c.execute(select(users.c.name, role_assignments.c.role)
                             .join(users, users.c.id == role_assignments.c.user_id)
                             .where(role_assignments.c.tenant_id == tenant_id).order_by(users.c.name)).all()
        return [{"User": r.name, "Roles": [r.role]} for r in rows]

    def set_role(self, tenant_id: str, user_name: str, role: str) -> dict:
        if role not in ROLES:
            raise ServiceError(400, "BadRequest", f"role must be one of {', '.join(ROLES)}")
        with self._write() as c:
            uid = c.execute(select(users.c.id).where(users.c.name == user_name)).scalar()
            if uid is None:
                raise not_found(f"user {user_name!r}")
            existing = c.execute(select(role_assignments.c.role).where(and_(
                role_assignments.c.tenant_id == tenant_id, role_assignments.c.user_id == uid))).scalar()
            if existing is None:
                c.execute(insert(role_assignments).values(tenant_id=tenant_id, user_id=uid, role=role))
            else:
                if existing == "Administrator" and role != "Administrator":
                    self._keep_one_admin(c, tenant_id, uid)
                c.execute(update(role_assignments).where(and_(role_assignments.c.tenant_id == tenant_id,
                                                              role_assignments.c.user_id == uid)).values(role=role))
        return {"User": user_name, "Roles": [role]}

    def _keep_one_admin(self, c: Connection, tenant_id: str, uid: str) -> None:
        admins = c.execute(select(func.count()).select_from(role_assignments).where(and_(
            role_assignments.c.tenant_id == tenant_id, role_assignments.c.role == "Administrator",
            role_assignments.c.user_id != uid))).scalar_one()
        if admins == 0:
            raise ServiceError(409, "Conflict", "a tenant must keep at least one Administrator")

    def remove_role(self, tenant_id: str, user_name: str) -> None:
        with self._write() as c:
            uid = c.execute(select(users.c.id).where(users.c.name == user_name)).scalar()
            role = None if uid is None else c.execute(select(role_assignments.c.role).where(and_(
                role_assignments.c.tenant_id == tenant_id, role_assignments.c.user_id == uid))).scalar()
            if role is None:
                raise not_found(f"role of user {user_name!r}")
            if role == "Administrator":
                self._keep_one_admin(c, tenant_id, uid)
            c.execute(delete(role_assignments).where(and_(role_assignments.c.tenant_id == tenant_id,
                                                          role_assignments.c.user_id == uid)))

    # ---- tenants --------------------------------------------------------------------------------------------
    @staticmethod
    def _tenant_json(r) -> dict:
        return {"Id": r.id, "Name": r.name, "CreatedAt": _iso(r.created_at)}

    def create_tenant(self, user: User, name: str) -> dict:
        name = name.strip()
        if not name or len(name) > 200:
            raise ServiceError(400, "BadRequest", "tenant name must be 1 to 200 characters")
        tid, now = pki.new_id(), self.now()
        with self._write() as c:
            dup = c.execute(select(tenants.c.id).join(role_assignments, role_assignments.c.tenant_id == tenants.c.id)
                            .where(and_(tenants.c.name == name, role_assignments.c.user_id == user.id))).first()
            if dup:
                raise ServiceError(409, "Conflict", f"you already have a tenant named {name!r}")
            c.execute(insert(tenants).values(id=tid, name=name, created_at=now))
            c.execute(insert(role_assignments).values(tenant_id=tid, user_id=user.id, role="Administrator"))
        self.ensure_tenant_ca(tid)
        return {"Id": tid, "Name": name, "CreatedAt": _iso(now), "Roles": ["Administrator"]}

    def list_tenants(self, user: User) -> list[dict]:
        with self._read() as c:
            rows = c.execute(select(tenants, role_assignments.c.role)
                             .join(role_assignments, role_assignments.c.tenant_id == tenants.c.id)
                             .where(role_assignments.c.user_id == user.id).order_by(tenants.c.name)).all()
        return [dict(self._tenant_json(r), Roles=[r.role]) for r in rows]

    def get_tenant(self, tenant_id: str) -> dict:
        with self._read() as c:
            r = c.execute(select(tenants).where(tenants.c.id == tenant_id)).first()
        if r is None:
            raise not_found("tenant")
        return self._tenant_json(r)

    # ---- products and device groups -------------------------------------------------------------------------
    @staticmethod
    def _product_json(r) -> dict:
        return {"Id": r.id, "TenantId": r.tenant_id, "Name": r.name, "Description": r.description}

    def create_product(self, tenant_id: str, name: str, description: str = "", default_groups: bool = True) -> dict:
        name = (name or "").strip()
        if not name or len(name) > 200:
            raise ServiceError(400, "BadRequest", "product name must be 1 to 200 characters")
        pid, now = pki.new_id(), self.now()
        try:
            with self._write() as c:
                c.execute(insert(products).values(id=pid, tenant_id=tenant_id, name=name, description=description or "",
                                                  created_at=now))
                if default_groups:
                    for gname, gdesc, feed, policy in DEFAULT_GROUPS:
                        c.execute(insert(device_groups).values(
                            id=pki.new_id(), tenant_id=tenant_id, product_id=pid, name=gname, description=gdesc,
                            os_feed_type=feed, update_policy=policy, allow_crash_dumps=False, created_at=now))
        except IntegrityError:
            raise ServiceError(409, "Conflict", f"a product named {name!r} already exists") from None
        return {"Id": pid, "TenantId": tenant_id, "Name": name, "Description": description or ""}

    def list_products(self, tenant_id: str) -> list[dict]:
        with self._read() as c:
            rows = c.execute(select(products).where(products.c.tenant_id == tenant_id).order_by(products.c.name)).all()
        return [self._product_json(r) for r in rows]

    def get_product(self, tenant_id: str, product_id: str) -> dict:
        product_id = _uuid(product_id, "product ID")
        with self._read() as c:
            r = c.execute(select(products).where(and_(products.c.tenant_id == tenant_id,
                                                      products.c.id == product_id))).first()
        if r is None:
            raise not_found("product")
        return self._product_json(r)

    def update_product(self, tenant_id: str, product_id: str, name: str | None, description: str | None) -> dict:
        self.get_product(tenant_id, product_id)
        values = {}
        if name is not None:
            if not name.strip() or len(name) > 200:
                raise ServiceError(400, "BadRequest", "product name must be 1 to 200 characters")
            values["name"] = name.strip()
        if description is not None:
            values["description"] = description
        if values:
            try:
                with self._write() as c:
                    c.execute(update(products).where(products.c.id == product_id).values(**values))
            except IntegrityError:
                raise ServiceError(409, "Conflict", f"a product named {name!r} already exists") from None
        return self.get_product(tenant_id, product_id)

    def delete_product(self, tenant_id: str, product_id: str) -> None:
        self.get_product(tenant_id, product_id)
        with self._write() as c:
            groups = [r.id for r in c.execute(select(device_groups.c.id).where(device_groups.c.product_id == product_id))]
            if groups and c.execute(select(func.count()).select_from(devices)
                                    .where(devices.c.device_group_id.in_(groups))).scalar_one():
                raise ServiceError(409, "Conflict", "the product's device groups still hold devices; move them first")
            c.execute(delete(deployments).where(deployments.c.device_group_id.in_(groups)))
            c.execute(delete(device_groups).where(device_groups.c.product_id == product_id))
            c.execute(delete(products).where(products.c.id == product_id))

    @staticmethod
    def _group_json(r) -> dict:
        return {"Id": r.id, "TenantId": r.tenant_id, "ProductId": r.product_id, "Name": r.name,
                "Description": r.description, "OsFeedType": r.os_feed_type, "UpdatePolicy": r.update_policy,
                "AllowCrashDumpsCollection": bool(r.allow_crash_dumps), "CurrentDeploymentId": r.current_deployment_id}

    def create_device_group(self, tenant_id: str, product_id: str, name: str, description: str = "",
                            os_feed_type: int = reconcile.RETAIL, update_policy: int = reconcile.UPDATE_ALL,
                            allow_crash_dumps: bool = False) -> dict:
        self.get_product(tenant_id, product_id)
        name = (name or "").strip()
        if not name or len(name) > 200:
            raise ServiceError(400, "BadRequest", "device group name must be 1 to 200 characters")
        self._check_group_fields(os_feed_type, update_policy)
        gid = pki.new_id()
        try:
            with self._write() as c:
                c.execute(insert(device_groups).values(
                    id=gid, tenant_id=tenant_id, product_id=str(uuid.UUID(product_id)), name=name,
                    description=description or "", os_feed_type=os_feed_type, update_policy=update_policy,
                    allow_crash_dumps=bool(allow_crash_dumps), created_at=self.now()))
        except IntegrityError:
            raise ServiceError(409, "Conflict", f"the product already has a device group named {name!r}") from None
        return self.get_device_group(tenant_id, gid)

    @staticmethod
    def _check_group_fields(os_feed_type, update_policy) -> None:
        if os_feed_type is not None and os_feed_type not in (reconcile.RETAIL, reconcile.RETAIL_EVAL):
            raise ServiceError(400, "BadRequest", "OsFeedType must be 0 (Retail) or 1 (RetailEval)")
        if update_policy is not None and update_policy not in (reconcile.UPDATE_ALL,
                                                               reconcile.NO_3RD_PARTY_APP_UPDATES):
            raise ServiceError(400, "BadRequest", "UpdatePolicy must be 0 (UpdateAll) or 1 (No3rdPartyAppUpdates)")

    def list_device_groups(self, tenant_id: str, product_id: str | None = None) -> list[dict]:
        q = select(device_groups).where(device_groups.c.tenant_id == tenant_id)
        if product_id is not None:
            self.get_product(tenant_id, product_id)
            q = q.where(device_groups.c.product_id == str(uuid.UUID(product_id)))
        with self._read() as c:
            rows = c.execute(q.order_by(device_groups.c.product_id, device_groups.c.name)).all()
        return [self._group_json(r) for r in rows]

    def get_device_group(self, tenant_id: str, group_id: str) -> dict:
        group_id = _uuid(group_id, "device group ID")
        with self._read() as c:
            r = c.execute(select(device_groups).where(and_(device_groups.c.tenant_id == tenant_id,
                                                           device_groups.c.id == group_id))).first()
        if r is None:
            raise not_found("device group")
        return self._group_json(r)

    def update_device_group(self, tenant_id: str, group_id: str, fields: dict) -> dict:
        self.get_device_group(tenant_id, group_id)
        mapping = {"Name": "name", "Description": "description", "OsFeedType": "os_feed_type",
                   "UpdatePolicy": "update_policy", "AllowCrashDumpsCollection": "allow_crash_dumps"}
        values = {mapping[k]: v for k, v in fields.items() if k in mapping and v is not None}
        self._check_group_fields(values.get("os_feed_type"), values.get("update_policy"))
        if "name" in values and (not str(values["name"]).strip() or len(values["name"]) > 200):
            raise ServiceError(400, "BadRequest", "device group name must be 1 to 200 characters")
        if values:
            try:
                with self._write() as c:
                    c.execute(update(device_groups).where(device_groups.c.id == str(uuid.UUID(group_id)))
                              .values(**values))
            except IntegrityError:
                raise ServiceError(409, "Conflict", "the product already has a device group with that name") from None
        return self.get_device_group(tenant_id, group_id)

    def delete_device_group(self, tenant_id: str, group_id: str) -> None:
        gid = self.get_device_group(tenant_id, group_id)["Id"]
        with self._write() as c:
            if c.execute(select(func.count()).select_from(devices).where(devices.c.device_group_id == gid)).scalar_one():
                raise ServiceError(409, "Conflict", "the device group still holds devices; move them first")
            c.execute(delete(deployments).where(deployments.c.device_group_id == gid))
            c.execute(delete(device_groups).where(device_groups.c.id == gid))

    # ---- images ---------------------------------------------------------------------------------------------
    @staticmethod
    def _image_json(r) -> dict:
        return {"Id": r.id, "ComponentId": r.component_id, "ImageType": r.image_type, "Name": r.name,
                "SecurityVersion": r.security_version, "SigningThumbprint": r.signing_thumbprint,
                "Sha256": r.sha256, "Size": r.size, "TrustStatus": r.trust_status, "UploadedAt": _iso(r.created_at)}

    def inspect_image(self, data: bytes) -> dict:
        if self._inspect_image is None:
            from .images import inspect_package
            self._inspect_image = inspect_package
        return self._inspect_image(data)

    def add_image(self, tenant_id: str, data: bytes) -> dict:
        """Parse and signature-check an image package, then store it (the work of an upload operation)."""
        if not data:
            raise ServiceError(400, "BadRequest", "the image package is empty")
        if len(data) > MAX_IMAGE_SIZE:
            raise ServiceError(413, "PayloadTooLarge", f"image packages are limited to {MAX_IMAGE_SIZE} bytes")
        info = self.inspect_image(data)
        values = dict(tenant_id=tenant_id, id=info["image_id"], component_id=info["component_id"],
                      image_type=info["image_type"], name=info["name"], security_version=info["security_version"],
                      signing_thumbprint=info["signing_thumbprint"], sha256=hashlib.sha256(data).hexdigest(),
                      size=len(data), content=data, trust_status="Trusted", created_at=self.now())
        with self._write() as c:
            existing = c.execute(select(images.c.content).where(and_(images.c.tenant_id == tenant_id,
                                                                     images.c.id == info["image_id"]))).scalar()
            if existing is not None:
                # An image is its signed content: the same content with a re-encoded signature is the same image
                # (kept as first uploaded); other content under the same image ID is another build: refused.
                from mt3620.imagepackage import parse as parse_package
                if parse_package(bytes(existing)).content_digest != parse_package(data).content_digest:
                    raise ServiceError(409, "Conflict", f"image {info['image_id']} already exists with other content")
            else:
                c.execute(insert(images).values(**values))
        return self.get_image(tenant_id, info["image_id"])

    def get_image(self, tenant_id: str, image_id: str) -> dict:
        image_id = _uuid(image_id, "image ID")
        with self._read() as c:
            r = c.execute(select(*[col for col in images.c if col.name != "content"])
                          .where(and_(images.c.tenant_id == tenant_id, images.c.id == image_id))).first()
        if r is None:
            raise not_found("image")
        return self._image_json(r)

    def image_content(self, tenant_id: str, image_id: str) -> bytes:
        with self._read() as c:
            data = c.execute(select(images.c.content).where(and_(images.c.tenant_id == tenant_id,
                                                                 images.c.id == image_id))).scalar()
        if data is None:
            raise not_found("image")
        return bytes(data)

    def list_images(self, tenant_id: str) -> list[dict]:
        with self._read() as c:
            rows = c.execute(select(*[col for col in images.c if col.name != "content"])
                             .where(images.c.tenant_id == tenant_id).order_by(images.c.created_at)).all()
        return [self._image_json(r) for r in rows]

    def revoke_image(self, tenant_id: str, image_id: str) -> dict:
        image = self.get_image(tenant_id, image_id)
        with self._write() as c:
            c.execute(update(images).where(and_(images.c.tenant_id == tenant_id, images.c.id == image["Id"]))
                      .values(trust_status="Revoked"))
        return self.get_image(tenant_id, image_id)

    def set_svn_floor(self, tenant_id: str, component_id: str, minimum: int) -> dict:
        component_id = _uuid(component_id, "component ID")
        if not 0 <= int(minimum) <= 0xFFFFFFFF:
            raise ServiceError(400, "BadRequest", "minimum security version must be 0 .. 2^32-1")
        with self._write() as c:
            c.execute(delete(svn_floors).where(and_(svn_floors.c.tenant_id == tenant_id,
                                                    svn_floors.c.component_id == component_id)))
            c.execute(insert(svn_floors).values(tenant_id=tenant_id, component_id=component_id,
                                                minimum_security_version=int(minimum)))
        return {"ComponentId": component_id, "MinimumSecurityVersion": int(minimum)}

    # ---- deployments ----------------------------------------------------------------------------------------
    @staticmethod
    def _deployment_json(r) -> dict:
        return {"Id": r.id, "DeviceGroupId": r.device_group_id, "DeployedImages": json.loads(r.image_ids),
                "DeploymentDateUtc": _iso(r.deployed_at), "DeployedBy": r.deployed_by}

    def create_deployment(self, tenant_id: str, group_id: str, image_ids: list[str], user: User) -> dict:
        group = self.get_device_group(tenant_id, group_id)
        ids = [_uuid(i, "image ID") for i in image_ids]
        if len(set(ids)) != len(ids):
            raise ServiceError(400, "BadRequest", "an image is listed twice")
        did, now = pki.new_id(), self.now()
        with self._write() as c:
            rows = c.execute(select(images.c.id, images.c.component_id, images.c.trust_status,
                                    images.c.security_version)
                             .where(and_(images.c.tenant_id == tenant_id, images.c.id.in_(ids)))).all() if ids else []
            found = {r.id: r for r in rows}
            missing = [i for i in ids if i not in found]
            if missing:
                raise ServiceError(400, "BadRequest", f"image(s) not uploaded to this tenant: {', '.join(missing)}")
            revoked = [i for i in ids if found[i].trust_status == "Revoked"]
            if revoked:
                raise ServiceError(400, "BadRequest", f"image(s) revoked: {', '.join(revoked)}")
            self._check_security_versions(c, tenant_id, group, [found[i] for i in ids])
            components = [found[i].component_id for i in ids]
            if len(set(components)) != len(components):
                raise ServiceError(400, "BadRequest", "a deployment holds at most one image per component")
            c.execute(insert(deployments).values(id=did, tenant_id=tenant_id, device_group_id=group["Id"],
                                                 image_ids=json.dumps(ids), deployed_at=now, deployed_by=user.name))
            c.execute(update(device_groups).where(device_groups.c.id == group["Id"])
                      .values(current_deployment_id=did))
        return {"Id": did, "DeviceGroupId": group["Id"], "DeployedImages": ids, "DeploymentDateUtc": _iso(now),
                "DeployedBy": user.name}

    @staticmethod
    def _check_security_versions(c: Connection, tenant_id: str, group: dict, rows) -> None:
        """A deployment never offers an image below its component's minimum security version (the floor that
        attestation enforces too): devices running it would fail attestation as outdated. A deployment may go
        back to an older image (a group rollback); devices whose Pluton counter already passed it refuse it
        and report it failed (docs/cloud.md "Security versions")."""
        floors = {r.component_id: r.minimum_security_version
                  for r in c.execute(select(svn_floors).where(svn_floors.c.tenant_id == tenant_id))}
        for r in rows:
            if r.security_version < floors.get(r.component_id, 0):
                raise ServiceError(400, "BadRequest", f"image {r.id} has security version {r.security_version}, below "
                                                      f"the minimum {floors[r.component_id]} of component "
                                                      f"{r.component_id}")

    def list_deployments(self, tenant_id: str, group_id: str) -> list[dict]:
        group = self.get_device_group(tenant_id, group_id)
        with self._read() as c:
            rows = c.execute(select(deployments).where(deployments.c.device_group_id == group["Id"])
                             .order_by(deployments.c.deployed_at.desc(), deployments.c.id)).all()
        return [dict(self._deployment_json(r), Current=(r.id == group["CurrentDeploymentId"])) for r in rows]

    def get_deployment(self, tenant_id: str, deployment_id: str) -> dict:
        deployment_id = _uuid(deployment_id, "deployment ID")
        with self._read() as c:
            r = c.execute(select(deployments).where(and_(deployments.c.tenant_id == tenant_id,
                                                         deployments.c.id == deployment_id))).first()
        if r is None:
            raise not_found("deployment")
        return self._deployment_json(r)

    def deployment_status(self, tenant_id: str, group_id: str) -> dict:
        """Per-device progress of the group's current deployment (TimedOut derived from the action timeout)."""
        group = self.get_device_group(tenant_id, group_id)
        now = self.now()
        with self._read() as c:
            dids = [r.id for r in c.execute(select(devices.c.id).where(devices.c.device_group_id == group["Id"]))]
            image_ids = []
            if group["CurrentDeploymentId"]:
                image_ids = json.loads(c.execute(select(deployments.c.image_ids).where(
                    deployments.c.id == group["CurrentDeploymentId"])).scalar() or "[]")
            rows = c.execute(select(device_image_states).where(and_(
                device_image_states.c.device_id.in_(dids), device_image_states.c.image_id.in_(image_ids)))).all() \
                if dids and image_ids else []
        per_device = {d: {} for d in dids}
        for r in rows:
            st = reconcile.ImageState(r.image_id, r.state, r.deployment_id, r.offered_at, r.offered_boot, r.deadline,
                                      r.updated_at)
            per_device[r.device_id][r.image_id] = reconcile.effective_state(st, now)
        summary = {s: 0 for s in reconcile.STATES}
        summary["NotOffered"] = 0
        for d, states in per_device.items():
            for i in image_ids:
                summary[states.get(i, "NotOffered")] += 1
        return {"DeviceGroupId": group["Id"], "DeploymentId": group["CurrentDeploymentId"], "Summary": summary,
                "Devices": [{"DeviceId": d, "Images": per_device[d]} for d in sorted(per_device)]}

    # ---- devices --------------------------------------------------------------------------------------------
    @staticmethod
    def _device_json(r) -> dict:
        return {"DeviceId": r.id, "TenantId": r.tenant_id, "DeviceGroupId": r.device_group_id,
                "ChipSku": "MT3620AN", "Capabilities": json.loads(r.capabilities),
                "ReportedCapabilities": json.loads(r.reported_capabilities), "OsVersion": r.os_version,
                "InstalledImages": json.loads(r.installed), "ClaimedAt": _iso(r.claimed_at),
                "LastAttestedAt": _iso(r.last_attested_at), "LastUpdateCheckAt": _iso(r.last_update_check_at)}

    def _claim_values(self, tenant_id: str, item: dict, group_id: str | None) -> dict:
        device_id = normalise_device_id(item.get("DeviceId", ""))
        key = item.get("AttestationPublicKey")
        if key:
            key = str(key).strip()
            try:
                ae.public_key_from_raw(bytes.fromhex(key))
            except ValueError:
                raise ServiceError(400, "BadRequest", "AttestationPublicKey must be 128 hex characters of a P-256 "
                                                      "point (X||Y)") from None
            key = key.upper()
        return dict(id=device_id, tenant_id=tenant_id, attestation_key=key or None, device_group_id=group_id,
                    capabilities="[]", reported_capabilities="[]", installed="{}", os_version="", boot_id="",
                    claimed_at=self.now())

    def claim_device(self, tenant_id: str, item: dict) -> dict:
        """Claim one device: one-time and irreversible (the primary key makes a second claim fail anywhere)."""
        group_id = item.get("DeviceGroupId")
        if group_id:
            group_id = self.get_device_group(tenant_id, group_id)["Id"]
        values = self._claim_values(tenant_id, item, group_id)
        try:
            with self._write() as c:
                c.execute(insert(devices).values(**values))
        except IntegrityError:
            raise ServiceError(409, "DeviceAlreadyClaimed", "the device is already claimed (claiming is one-time "
                                                            "and irreversible)") from None
        return self.get_device(tenant_id, values["id"])

    def bulk_claim(self, tenant_id: str, items: list[dict]) -> dict:
        """Claim many devices; each is claimed or reported with its reason (the work of a bulk-claim operation)."""
        claimed, failed = [], []
        for item in items:
            try:
                claimed.append(self.claim_device(tenant_id, item)["DeviceId"])
            except ServiceError as exc:
                failed.append({"DeviceId": str(item.get("DeviceId", "")), "Code": exc.code, "Message": exc.message})
        return {"Claimed": claimed, "Failed": failed}

    def list_devices(self, tenant_id: str, group_id: str | None = None) -> list[dict]:
        q = select(devices).where(devices.c.tenant_id == tenant_id)
        if group_id is not None:
            q = q.where(devices.c.device_group_id == self.get_device_group(tenant_id, group_id)["Id"])
        with self._read() as c:
            rows = c.execute(q.order_by(devices.c.id)).all()
        return [self._device_json(r) for r in rows]

    def get_device(self, tenant_id: str, device_id: str) -> dict:
        device_id = normalise_device_id(device_id)
        with self._read() as c:
            r = c.execute(select(devices).where(and_(devices.c.tenant_id == tenant_id,
                                                     devices.c.id == device_id))).first()
        if r is None:
            raise not_found("device")
        return self._device_json(r)

    def move_device(self, tenant_id: str, device_id: str, group_id: str) -> dict:
        device = self.get_device(tenant_id, device_id)
        gid = self.get_device_group(tenant_id, group_id)["Id"]
        with self._write() as c:
            c.execute(update(devices).where(devices.c.id == device["DeviceId"]).values(device_group_id=gid))
        return self.get_device(tenant_id, device_id)

    def set_device_capabilities(self, tenant_id: str, device_id: str, capabilities: list[str]) -> dict:
        device = self.get_device(tenant_id, device_id)
        allowed = {"appDevelopment", "fieldServicing", "rfTest"}
        bad = [c for c in capabilities if c not in allowed]
        if bad:
            raise ServiceError(400, "BadRequest", f"unknown capabilities: {', '.join(bad)} "
                                                  f"(known: {', '.join(sorted(allowed))})")
        with self._write() as c:
            c.execute(update(devices).where(devices.c.id == device["DeviceId"])
                      .values(capabilities=json.dumps(sorted(set(capabilities)))))
        return self.get_device(tenant_id, device_id)

    def _group_view(self, c: Connection, group_id: str | None) -> reconcile.GroupView | None:
        if group_id is None:
            return None
        g = c.execute(select(device_groups).where(device_groups.c.id == group_id)).first()
        if g is None:
            return None
        imgs: tuple[reconcile.Image, ...] = ()
        if g.current_deployment_id:
            ids = json.loads(c.execute(select(deployments.c.image_ids)
                                       .where(deployments.c.id == g.current_deployment_id)).scalar() or "[]")
            rows = {r.id: r for r in c.execute(select(images.c.id, images.c.component_id, images.c.image_type,
                                                      images.c.security_version)
                                               .where(and_(images.c.tenant_id == g.tenant_id, images.c.id.in_(ids))))}
            imgs = tuple(reconcile.Image(i, rows[i].component_id, rows[i].image_type, rows[i].security_version)
                         for i in ids if i in rows)
        return reconcile.GroupView(g.id, g.name, g.os_feed_type, g.update_policy, g.current_deployment_id, imgs)

    @staticmethod
    def _states(c: Connection, device_id: str) -> dict[str, reconcile.ImageState]:
        return {r.image_id: reconcile.ImageState(r.image_id, r.state, r.deployment_id, r.offered_at, r.offered_boot,
                                                 r.deadline, r.updated_at)
                for r in c.execute(select(device_image_states).where(device_image_states.c.device_id == device_id))}

    def update_status(self, tenant_id: str, device_id: str) -> dict:
        """Why is this device (not) updating: the reasons, from stored state alone."""
        device = self.get_device(tenant_id, device_id)
        now = self.now()
        with self._read() as c:
            group = self._group_view(c, device["DeviceGroupId"])
            states = self._states(c, device["DeviceId"])
        caps = frozenset(device["Capabilities"]) | frozenset(device["ReportedCapabilities"])
        reasons = reconcile.why_not_updating(group, device["InstalledImages"], caps, states, now)
        return {"DeviceId": device["DeviceId"], "DeviceGroupId": device["DeviceGroupId"],
                "Reasons": [{"Code": r.code, "Message": r.message} for r in reasons],
                "Images": [{"ImageId": s.image_id, "State": reconcile.effective_state(s, now),
                            "DeploymentId": s.deployment_id, "OfferedAt": _iso(s.offered_at),
                            "Deadline": _iso(s.deadline)} for s in sorted(states.values(), key=lambda s: s.image_id)]}

    # ---- operations (long-running requests answered 202) ----------------------------------------------------
    @staticmethod
    def _operation_json(r) -> dict:
        out = {"Id": r.id, "TenantId": r.tenant_id, "Kind": r.kind, "State": r.state,
               "CreatedDateUtc": _iso(r.created_at), "LastUpdatedDateUtc": _iso(r.updated_at)}
        if r.result:
            out["Result"] = json.loads(r.result)
        if r.error:
            out["Error"] = json.loads(r.error)
        return out

    def create_operation(self, tenant_id: str, kind: str, payload: bytes, user: User) -> dict:
        oid, now = pki.new_id(), self.now()
        with self._write() as c:
            c.execute(insert(operations).values(id=oid, tenant_id=tenant_id, kind=kind, state="NotStarted",
                                                payload=payload, created_by=user.name, created_at=now, updated_at=now))
        return self.get_operation(tenant_id, oid)

    def get_operation(self, tenant_id: str, operation_id: str) -> dict:
        operation_id = _uuid(operation_id, "operation ID")
        with self._read() as c:
            r = c.execute(select(operations).where(and_(operations.c.tenant_id == tenant_id,
                                                        operations.c.id == operation_id))).first()
        if r is None:
            raise not_found("operation")
        return self._operation_json(r)

    def run_next_operation(self) -> bool:
        """Take one pending operation (or one whose worker's lease ran out) and run it. True if one ran.
        Taking is a conditional UPDATE, so two workers never run the same operation."""
        now = self.now()
        with self._read() as c:
            cand = c.execute(select(operations.c.id).where(
                (operations.c.state == "NotStarted")
                | ((operations.c.state == "InProgress") & (operations.c.lease_until < now)))
                .order_by(operations.c.created_at).limit(1)).scalar()
        if cand is None:
            return False
        with self._write() as c:
            taken = c.execute(update(operations).where(and_(operations.c.id == cand, (
                (operations.c.state == "NotStarted")
                | ((operations.c.state == "InProgress") & (operations.c.lease_until < now)))))
                .values(state="InProgress", updated_at=now, lease_until=now + OPERATION_LEASE)).rowcount
            row = c.execute(select(operations).where(operations.c.id == cand)).first() if taken else None
        if row is None:
            return True
        try:
            if row.kind == "ImageUpload":
                result = self.add_image(row.tenant_id, bytes(row.payload))
            elif row.kind == "BulkClaim":
                result = self.bulk_claim(row.tenant_id, json.loads(bytes(row.payload)))
            else:
                raise ServiceError(500, "InternalError", f"unknown operation kind {row.kind}")
            state, values = "Complete", {"result": json.dumps(result), "payload": None}
        except ServiceError as exc:
            state, values = "Failed", {"error": json.dumps({"Code": exc.code, "Message": exc.message}), "payload": None}
        except Exception as exc:  # noqa: BLE001 - an operation must end Failed, never stay InProgress
            state, values = "Failed", {"error": json.dumps({"Code": "InternalError", "Message": str(exc)}),
                                       "payload": None}
        with self._write() as c:
            c.execute(update(operations).where(operations.c.id == cand)
                      .values(state=state, updated_at=self.now(), lease_until=None, **values))
        return True

    # ---- certificates ---------------------------------------------------------------------------------------
    def list_certificates(self, tenant_id: str) -> list[dict]:
        now = self.now()
        cas = self.ensure_tenant_ca(tenant_id)
        signer = pki.signing_ca(cas, now)
        trusted = {ca.thumbprint for ca in pki.trusted_cas(cas, now)}
        out = []
        for ca in cas:
            status = ("Active" if signer and ca.thumbprint == signer.thumbprint
                      else "Inactive" if ca.thumbprint in trusted else "Expired")
            out.append({"Thumbprint": ca.thumbprint, "Status": status, "StartDate": _iso(ca.not_before),
                        "EndDate": _iso(ca.not_after), "ActiveFrom": _iso(ca.active_from),
                        "Subject": ca.cert.subject.rfc4514_string()})
        return out

    def certificate(self, tenant_id: str, thumbprint: str | None = None):
        now = self.now()
        cas = self.ensure_tenant_ca(tenant_id)
        if thumbprint:
            chosen = next((ca for ca in cas if ca.thumbprint == thumbprint.upper()), None)
            if chosen is None:
                raise not_found("certificate")
        else:
            chosen = pki.signing_ca(cas, now)
            if chosen is None:
                raise not_found("active certificate")
        return chosen.cert

    def certificate_chain(self, tenant_id: str, thumbprint: str | None = None) -> list:
        return [self.certificate(tenant_id, thumbprint), self.intermediate_certificate(), self.root_certificate()]

    # ---- device side: attestation ---------------------------------------------------------------------------
    def issue_nonce(self, device_id: str) -> tuple[bytes, _dt.datetime]:
        device_id = normalise_device_id(device_id)
        nonce, now = secrets.token_bytes(ae.NONCE_SIZE), self.now()
        expires = now + verifier.NONCE_LIFETIME
        with self._write() as c:
            c.execute(delete(nonces).where(nonces.c.expires_at < now))
            c.execute(insert(nonces).values(nonce=nonce.hex(), device_id=device_id, expires_at=expires))
        return nonce, expires

    def attest(self, evidence: bytes, client_public_key: bytes, nonce: bytes,
               tenant_id: str | None = None) -> tuple[verifier.Outcome, dict | None]:
        """Verify evidence bound to `nonce` (one this service issued) and `client_public_key` (the evidence's nonce
        field is `verifier.attestation_challenge(nonce, client_public_key)`); on success issue the DAA client
        certificate and the update certificate for that key. The nonce is consumed whatever the outcome."""
        now = self.now()
        nonce = bytes(nonce)
        nonce_rec = device_rec = None
        policy = verifier.TrustPolicy()
        with self._write() as c:
            # Single use: the DELETE that returns the row is the only way to read a nonce.
            row = c.execute(delete(nonces).where(nonces.c.nonce == nonce.hex())
                            .returning(nonces.c.device_id, nonces.c.expires_at)).first()
            if row is not None:
                nonce_rec = verifier.NonceRecord(nonce, row.device_id, row.expires_at)
        try:
            parsed = ae.parse_evidence(evidence)
        except ae.AttestationFormatError:
            parsed = None
        if parsed is not None:
            with self._read() as c:
                d = c.execute(select(devices.c.id, devices.c.tenant_id, devices.c.attestation_key,
                                     devices.c.capabilities)
                              .where(devices.c.id == parsed.device_id_hex)).first()
                if d is not None:
                    device_rec = verifier.DeviceRecord(d.id, d.tenant_id,
                                                       bytes.fromhex(d.attestation_key) if d.attestation_key else None)
                    policy = self._trust_policy(c, d.tenant_id, d.capabilities)
        outcome = verifier.verify(evidence, nonce_rec, device_rec, policy, now, expected_tenant=tenant_id,
                                  client_public_key=client_public_key)
        if not outcome.ok:
            return outcome, None
        cas = self.tenant_cas_cached(outcome.tenant_id)
        signer = pki.signing_ca([ca for ca, _ in cas], now)
        if signer is None:
            self.ensure_tenant_ca(outcome.tenant_id)
            self._ca_cache.pop(outcome.tenant_id, None)
            cas = self.tenant_cas_cached(outcome.tenant_id)
            signer = pki.signing_ca([ca for ca, _ in cas], now)
        key_pem = next(k for ca, k in cas if ca.thumbprint == signer.thumbprint)
        ca = pki.CertKey.from_pem(pki.pem(signer.cert), key_pem)
        public = ae.public_key_from_raw(client_public_key)
        daa = pki.issue_device_certificate(ca, outcome.tenant_id, outcome.device_id, public, now, pki.ROLE_DAA,
                                           outcome.result)
        upd = pki.issue_device_certificate(ca, outcome.tenant_id, outcome.device_id, public, now, pki.ROLE_UPDATE)
        with self._write() as c:
            c.execute(update(devices).where(devices.c.id == outcome.device_id).values(last_attested_at=now))
        chain = [signer.cert, self.intermediate_certificate()]
        return outcome, {"ClientCertificate": pki.pem(daa), "UpdateCertificate": pki.pem(upd),
                         "CertificateChain": "".join(pki.pem(x) for x in chain),
                         "RootCertificate": pki.pem(self.root_certificate()), "ExpiresAt": _iso(daa.not_valid_after_utc),
                         "AttestationResult": outcome.result}

    def _trust_policy(self, c: Connection, tenant_id: str, capabilities: str = "[]") -> verifier.TrustPolicy:
        """What the verifier judges this tenant's devices against: every image it knows by content digest (the
        OS releases and the tenant's uploads), revoked digests, SVN floors (docs/cloud.md "Attestation")."""
        from . import known_images
        known = known_images.os_release_images()
        revoked = set()
        rows = c.execute(select(images.c.id, images.c.component_id, images.c.image_type, images.c.security_version,
                                images.c.sha256, images.c.trust_status).where(images.c.tenant_id == tenant_id)).all()
        for r in rows:
            digest = known_images.content_digest(r.sha256, lambda r=r: bytes(c.execute(
                select(images.c.content).where(and_(images.c.tenant_id == tenant_id, images.c.id == r.id))).scalar()))
            if digest is None:
                continue
            if r.trust_status == "Revoked":
                revoked.add(digest)
            else:
                known.setdefault(*known_images.tenant_image(r, digest))
        floors = {uuid.UUID(r.component_id): r.minimum_security_version
                  for r in c.execute(select(svn_floors).where(svn_floors.c.tenant_id == tenant_id))}
        try:
            development = reconcile.APP_DEVELOPMENT in json.loads(capabilities or "[]")
        except (ValueError, TypeError):
            development = False
        return verifier.TrustPolicy(known, frozenset(revoked), floors, allow_unknown_applications=development)

    def authenticate_device(self, leaf, role: str) -> dict:
        """Check a client certificate the TLS layer already chained to the service root (signatures only: the TLS
        layer leaves dates to this service clock): issued by a trusted CA of the tenant that claimed the device,
        every certificate of the path valid now, of the right role. Returns the device row as JSON."""
        now = self.now()
        try:
            ident = pki.read_device_certificate(leaf)
        except pki.PkiError as exc:
            raise ServiceError(401, exc.reason, str(exc)) from None
        if ident.role != role:
            raise ServiceError(403, "wrong-certificate-role", f"this endpoint needs the {role} certificate, "
                                                              f"got the {ident.role} certificate")
        with self._read() as c:
            r = c.execute(select(devices).where(devices.c.id == ident.device_id)).first()
        if r is None:
            raise ServiceError(401, verifier.UNKNOWN_DEVICE, "the certificate's device is not claimed")
        try:
            pki.check_device_chain(leaf, [ca for ca, _ in self.tenant_cas_cached(r.tenant_id)], now)
            root, intermediate = self._service_cas()    # the rest of the path OpenSSL verified, minus its dates
            pki.check_validity(intermediate.cert, now, "the service's intermediate CA")
            pki.check_validity(root.cert, now, "the service root CA")
        except pki.PkiError as exc:
            raise ServiceError(401, exc.reason, str(exc)) from None
        if ident.tenant_id != r.tenant_id:
            raise ServiceError(401, verifier.WRONG_TENANT, "the certificate names another tenant than the device's")
        return self._device_json(r)

    # ---- device side: update check --------------------------------------------------------------------------
    def update_check(self, device_id: str, body: dict) -> dict:
        now = self.now()
        installed = {}
        for item in body.get("InstalledImages", []):
            installed[_uuid(item.get("ComponentId"), "ComponentId")] = _uuid(item.get("ImageId"), "ImageId")
        report = reconcile.Report(installed, str(body.get("BootId", ""))[:64], str(body.get("OsVersion", ""))[:64],
                                  frozenset(body.get("Capabilities", [])),
                                  frozenset(_uuid(i, "FailedImages entry") for i in body.get("FailedImages", [])))
        with self._write() as c:
            d = c.execute(select(devices).where(devices.c.id == device_id).with_for_update()).first()
            if d is None:
                raise ServiceError(401, verifier.UNKNOWN_DEVICE, "device not claimed")
            group = self._group_view(c, d.device_group_id)
            states = self._states(c, device_id)
            caps = report.capabilities | frozenset(json.loads(d.capabilities))
            feed = group.os_feed_type if group else reconcile.RETAIL
            os_version = c.execute(select(os_releases.c.version).where(os_releases.c.feed == feed)
                                   .order_by(os_releases.c.released_at.desc()).limit(1)).scalar()
            decision = reconcile.reconcile(group, reconcile.Report(report.installed, report.boot_id, report.os_version,
                                                                   caps, report.failed_images),
                                           states, now, reconcile.OsTarget(feed, os_version) if os_version else None,
                                           self.action_timeout)
            for image_id, st in decision.states.items():
                if states.get(image_id) == st:
                    continue
                values = dict(state=st.state, deployment_id=st.deployment_id, offered_at=st.offered_at,
                              offered_boot=st.offered_boot, deadline=st.deadline, updated_at=st.updated_at)
                if image_id in states:
                    c.execute(update(device_image_states).where(and_(device_image_states.c.device_id == device_id,
                                                                     device_image_states.c.image_id == image_id))
                              .values(**values))
                else:
                    c.execute(insert(device_image_states).values(device_id=device_id, image_id=image_id, **values))
            c.execute(update(devices).where(devices.c.id == device_id).values(
                installed=json.dumps(report.installed, sort_keys=True), os_version=report.os_version,
                boot_id=report.boot_id, reported_capabilities=json.dumps(sorted(report.capabilities)),
                last_update_check_at=now))
        return {"DeviceId": device_id, "DeviceGroupId": group.group_id if group else None,
                "DeploymentId": group.deployment_id if group else None,
                "TargetImages": [{"ImageId": i.image_id, "ComponentId": i.component_id, "ImageType": i.image_type,
                                  "SecurityVersion": i.security_version,
                                  "DownloadPath": f"/device/v1/images/{i.image_id}"} for i in decision.targets],
                "Os": ({"Feed": decision.os_target.feed, "TargetVersion": decision.os_target.version}
                       if decision.os_target else None),
                "Reasons": [{"Code": r.code, "Message": r.message} for r in decision.reasons],
                "NextCheckSeconds": 24 * 3600}

    def add_os_release(self, feed: int, version: str) -> dict:
        if feed not in (reconcile.RETAIL, reconcile.RETAIL_EVAL):
            raise ServiceError(400, "BadRequest", "feed must be 0 (Retail) or 1 (RetailEval)")
        if not version or len(version) > 64:
            raise ServiceError(400, "BadRequest", "OS version must be 1 to 64 characters")
        with self._write() as c:
            c.execute(delete(os_releases).where(and_(os_releases.c.feed == feed, os_releases.c.version == version)))
            c.execute(insert(os_releases).values(feed=feed, version=version, released_at=self.now()))
        return {"Feed": feed, "Version": version}

    # ---- error reports --------------------------------------------------------------------------------------
    def add_error_events(self, device: dict, events: list[dict]) -> tuple[int, list[dict]]:
        """Store a device's events; returns (events kept, [{"Index", "Reason", "Message"}] of events dropped).

        A malformed event refuses the whole upload (400, nothing stored). A well-formed event dated outside the
        window the report shows (older than 14 days, or more than ERROR_EVENT_CLOCK_SKEW ahead of the service
        clock) is dropped and listed with its reason; the others are kept."""
        now = self.now()
        oldest, latest = now - ERROR_REPORT_MAX_AGE, now + ERROR_EVENT_CLOCK_SKEW
        rows, dropped = [], []
        for i, e in enumerate(events):
            try:
                t = _dt.datetime.fromisoformat(str(e["EventTime"]).replace("Z", "+00:00"))
                if t.tzinfo is None:
                    t = t.replace(tzinfo=UTC)
            except (KeyError, ValueError):
                raise ServiceError(400, "BadRequest", f"event {i}: EventTime must be an ISO 8601 time") from None
            count = e.get("EventCount", 1)
            if not isinstance(count, int) or count < 1:
                raise ServiceError(400, "BadRequest", f"event {i}: EventCount must be a positive integer")
            if t < oldest:
                dropped.append({"Index": i, "Reason": EVENT_TOO_OLD,
                                "Message": f"EventTime is more than {ERROR_REPORT_MAX_AGE.days} days before the "
                                           f"service's time {_iso(now)}: outside the error report's retention"})
                continue
            if t > latest:
                dropped.append({"Index": i, "Reason": EVENT_IN_FUTURE,
                                "Message": f"EventTime is more than {_minutes(ERROR_EVENT_CLOCK_SKEW)} minutes "
                                           f"after the service's time {_iso(now)}: check the device's clock"})
                continue
            rows.append(dict(tenant_id=device["TenantId"], device_group_id=device["DeviceGroupId"],
                             device_id=device["DeviceId"], event_time=t, received_at=now,
                             event_category=str(e.get("EventCategory", "AppCrash"))[:64],
                             event_class=str(e.get("EventClass", ""))[:64], event_type=str(e.get("EventType", ""))[:64],
                             description=str(e.get("Description", ""))[:4000], event_count=count,
                             os_version=str(e.get("OsVersion", device.get("OsVersion", "")))[:64],
                             component_id=str(e.get("ComponentId", ""))[:36], image_id=str(e.get("ImageId", ""))[:36]))
        with self._write() as c:
            if rows:
                c.execute(insert(error_events), rows)
            c.execute(delete(error_events).where(error_events.c.event_time < oldest))
        return len(rows), dropped

    def error_events(self, tenant_id: str, group_id: str | None = None, after_id: int | None = None,
                     page_size: int = 100) -> tuple[list[dict], int | None]:
        """Events of the last 14 days, newest first, at most 1,000 per query, paged by continuation token."""
        now = self.now()
        # The upper bound hides events stored before uploads were bounded (or under a clock since moved back).
        q = select(error_events).where(and_(error_events.c.tenant_id == tenant_id,
                                            error_events.c.event_time >= now - ERROR_REPORT_MAX_AGE,
                                            error_events.c.event_time <= now + ERROR_EVENT_CLOCK_SKEW))
        if group_id:
            q = q.where(error_events.c.device_group_id == self.get_device_group(tenant_id, group_id)["Id"])
        q = q.order_by(error_events.c.event_time.desc(), error_events.c.id.desc()).limit(ERROR_REPORT_MAX_EVENTS)
        with self._read() as c:
            rows = c.execute(q).all()
        start = 0
        if after_id is not None:
            start = next((i + 1 for i, r in enumerate(rows) if r.id == after_id), len(rows))
        page = rows[start:start + page_size]
        more = start + page_size < len(rows)
        return [self._event_json(r) for r in page], (page[-1].id if more and page else None)

    @staticmethod
    def _event_json(r) -> dict:
        return {"DeviceId": r.device_id, "DeviceGroupId": r.device_group_id, "EventTime": _iso(r.event_time),
                "EventCategory": r.event_category, "EventClass": r.event_class, "EventType": r.event_type,
                "Description": r.description, "EventCount": r.event_count, "OsVersion": r.os_version,
                "ComponentId": r.component_id, "ImageId": r.image_id}

    def error_report_csv(self, tenant_id: str, group_id: str | None = None) -> str:
        events, token = self.error_events(tenant_id, group_id, page_size=ERROR_REPORT_MAX_EVENTS)
        out = io.StringIO()
        fields = ["DeviceId", "DeviceGroupId", "EventTime", "EventCategory", "EventClass", "EventType", "Description",
                  "EventCount", "OsVersion", "ComponentId", "ImageId"]
        w = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        for e in events:
            w.writerow(e)
        return out.getvalue()


class _Tx:
    """`with store._write() as conn:` one transaction; commit on success, rollback on any exception."""

    def __init__(self, engine: Engine, write: bool) -> None:
        self.engine, self.write = engine, write

    def __enter__(self) -> Connection:
        self.conn = self.engine.connect().execution_options(mt_write=self.write)
        self.tx = self.conn.begin()
        return self.conn

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self.tx.commit()
            else:
                self.tx.rollback()
        finally:
            self.conn.close()
