"""Device groups: a product's groups with their OS feed, update policy and current deployment."""
from __future__ import annotations

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from .. import pki, reconcile
from ..db import deployments, device_groups, devices
from ..domain import Conflict, DeviceGroup, Invalid
from .base import Service, name as checked_name
from .products import ProductService


def _group(r) -> DeviceGroup:
    return DeviceGroup(r.id, r.tenant_id, r.product_id, r.name, r.description, r.os_feed_type, r.update_policy,
                       bool(r.allow_crash_dumps), r.current_deployment_id)


def _check_fields(os_feed_type, update_policy) -> None:
    if os_feed_type is not None and os_feed_type not in (reconcile.RETAIL, reconcile.RETAIL_EVAL):
        raise Invalid("OsFeedType must be 0 (Retail) or 1 (RetailEval)")
    if update_policy is not None and update_policy not in reconcile.UPDATE_POLICIES.values():
        raise Invalid("UpdatePolicy must be " + ", ".join(f"{v} ({k})" for k, v in reconcile.UPDATE_POLICIES.items()))


class DeviceGroupService(Service):
    def __init__(self, database, now, products: ProductService) -> None:
        super().__init__(database, now)
        self.products = products

    def create(self, tenant_id: str, product_id: str, group_name: str, description: str = "",
               os_feed_type: int = reconcile.RETAIL, update_policy: int = reconcile.UPDATE_ALL,
               allow_crash_dumps: bool = False) -> DeviceGroup:
        product = self.products.get(tenant_id, product_id)
        group_name = checked_name(group_name, "device group name")
        _check_fields(os_feed_type, update_policy)
        gid = pki.new_id()
        try:
            with self.db.write() as c:
                c.execute(insert(device_groups).values(
                    id=gid, tenant_id=tenant_id, product_id=product.id, name=group_name,
                    description=description or "", os_feed_type=os_feed_type, update_policy=update_policy,
                    allow_crash_dumps=bool(allow_crash_dumps), created_at=self.now()))
        except IntegrityError:
            raise Conflict(f"the product already has a device group named {group_name!r}") from None
        return self.get(tenant_id, gid)

    def list(self, tenant_id: str, product_id: str | None = None) -> list[DeviceGroup]:
        q = select(device_groups).where(device_groups.c.tenant_id == tenant_id)
        if product_id is not None:
            q = q.where(device_groups.c.product_id == self.products.get(tenant_id, product_id).id)
        with self.db.read() as c:
            rows = c.execute(q.order_by(device_groups.c.product_id, device_groups.c.name)).all()
        return [_group(r) for r in rows]

    def get(self, tenant_id: str, group_id: str) -> DeviceGroup:
        return _group(self._one(device_groups, tenant_id, group_id, "device group"))

    def update(self, tenant_id: str, group_id: str, *, name: str | None = None, description: str | None = None,
               os_feed_type: int | None = None, update_policy: int | None = None,
               allow_crash_dumps: bool | None = None) -> DeviceGroup:
        group = self.get(tenant_id, group_id)
        _check_fields(os_feed_type, update_policy)
        values = {k: v for k, v in (("description", description), ("os_feed_type", os_feed_type),
                                    ("update_policy", update_policy), ("allow_crash_dumps", allow_crash_dumps))
                  if v is not None}
        if name is not None:
            values["name"] = checked_name(name, "device group name")
        if values:
            try:
                with self.db.write() as c:
                    c.execute(update(device_groups).where(device_groups.c.id == group.id).values(**values))
            except IntegrityError:
                raise Conflict("the product already has a device group with that name") from None
        return self.get(tenant_id, group.id)

    def delete(self, tenant_id: str, group_id: str) -> None:
        gid = self.get(tenant_id, group_id).id
        with self.db.write() as c:
            held = c.execute(select(func.count()).select_from(devices).where(devices.c.device_group_id == gid))
            if held.scalar_one():
                raise Conflict("the device group still holds devices; move them first")
            c.execute(delete(deployments).where(deployments.c.device_group_id == gid))
            c.execute(delete(device_groups).where(device_groups.c.id == gid))
