"""Tenants: created by a user, who becomes its Administrator; each gets its CA at once."""
from __future__ import annotations

from sqlalchemy import and_, insert, select, update

from .. import pki
from ..db import devices, role_assignments, tenants
from ..domain import Conflict, NotFound, Tenant, User
from .base import Service, name as checked_name
from .certificates import CertificateService


class TenantService(Service):
    def __init__(self, database, now, certificates: CertificateService) -> None:
        super().__init__(database, now)
        self.certificates = certificates

    def create(self, user: User, tenant_name: str) -> Tenant:
        tenant_name = checked_name(tenant_name, "tenant name")
        tid, now = pki.new_id(), self.now()
        with self.db.write() as c:
            dup = c.execute(select(tenants.c.id).join(role_assignments, role_assignments.c.tenant_id == tenants.c.id)
                            .where(and_(tenants.c.name == tenant_name, role_assignments.c.user_id == user.id))).first()
            if dup:
                raise Conflict(f"you already have a tenant named {tenant_name!r}")
            c.execute(insert(tenants).values(id=tid, name=tenant_name, created_at=now))
            c.execute(insert(role_assignments).values(tenant_id=tid, user_id=user.id, role="Administrator"))
        self.certificates.ensure_tenant_ca(tid)
        return Tenant(tid, tenant_name, now, "Administrator")

    def of_user(self, user: User) -> list[Tenant]:
        """The tenants `user` holds a role in, with that role."""
        with self.db.read() as c:
            rows = c.execute(select(tenants, role_assignments.c.role)
                             .join(role_assignments, role_assignments.c.tenant_id == tenants.c.id)
                             .where(role_assignments.c.user_id == user.id).order_by(tenants.c.name)).all()
        return [Tenant(r.id, r.name, r.created_at, r.role) for r in rows]

    def create_for_device(self, user: User, device_id: str, tenant_name: str, registry) -> Tenant:
        """The real API's tenant creation: authorised by a device that is registered and claimed by no tenant (it
        stays unclaimed; claim it next)."""
        from .base import device_id as checked_device_id
        did = checked_device_id(device_id)
        if registry.find(did) is None:
            raise NotFound(f"device {did[:16]}... in the device registry", "DeviceNotRegistered")
        with self.db.read() as c:
            if c.execute(select(devices.c.id).where(devices.c.id == did)).first() is not None:
                raise Conflict("the device that authorises a new tenant must not be claimed", "DeviceAlreadyClaimed")
        return self.create(user, tenant_name)

    def rename(self, user: User, tenant_id: str, new_name: str) -> Tenant:
        new_name = checked_name(new_name, "tenant name")
        with self.db.write() as c:
            c.execute(update(tenants).where(tenants.c.id == tenant_id).values(name=new_name))
        return self.get(tenant_id, "Administrator")

    def get(self, tenant_id: str, role: str | None = None) -> Tenant:
        with self.db.read() as c:
            r = c.execute(select(tenants).where(tenants.c.id == tenant_id)).first()
        if r is None:
            raise NotFound("tenant")
        return Tenant(r.id, r.name, r.created_at, role)
