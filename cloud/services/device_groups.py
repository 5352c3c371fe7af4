"""Device groups: a product's groups with their OS feed, update policy and current deployment."""
from __future__ import annotations

import json

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from .. import pki, reconcile
from ..db import deployments, device_groups, devices
from ..domain import Conflict, Deployment, DeviceGroup, Invalid
from .base import Service, name as checked_name
from .products import DEFAULT_GROUPS, ProductService


def _group(r, current: Deployment | None = None) -> DeviceGroup:
    return DeviceGroup(r.id, r.tenant_id, r.product_id, r.name, r.description, r.os_feed_type, r.update_policy,
                       bool(r.allow_crash_dumps), r.current_deployment_id, r.regional_data_boundary, current)


def _with_deployments(c, rows) -> list[DeviceGroup]:
    """Groups with their current deployment (one query for all of them)."""
    ids = [r.current_deployment_id for r in rows if r.current_deployment_id]
    current = {d.id: Deployment(d.id, d.device_group_id, tuple(json.loads(d.image_ids)), d.deployed_at,
                                d.deployed_by, True)
               for d in c.execute(select(deployments).where(deployments.c.id.in_(ids)))} if ids else {}
    return [_group(r, current.get(r.current_deployment_id)) for r in rows]


def _check_fields(os_feed_type, update_policy, regional_data_boundary=None) -> None:
    if regional_data_boundary is not None and regional_data_boundary not in (0, 1):
        raise Invalid("RegionalDataBoundary must be 0 (None) or 1 (EU)")
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
               allow_crash_dumps: bool = False, regional_data_boundary: int = 0) -> DeviceGroup:
        product = self.products.get(tenant_id, product_id)
        group_name = checked_name(group_name, "device group name")
        _check_fields(os_feed_type, update_policy, regional_data_boundary)
        gid = pki.new_id()
        try:
            with self.db.write() as c:
                c.execute(insert(device_groups).values(
                    id=gid, tenant_id=tenant_id, product_id=product.id, name=group_name,
                    description=description or "", os_feed_type=os_feed_type, update_policy=update_policy,
                    allow_crash_dumps=bool(allow_crash_dumps), regional_data_boundary=regional_data_boundary,
                    created_at=self.now()))
        except IntegrityError:
            raise Conflict(f"the product already has a device group named {group_name!r}") from None
        return self.get(tenant_id, gid)

    def list(self, tenant_id: str, product_id: str | None = None) -> list[DeviceGroup]:
        q = select(device_groups).where(device_groups.c.tenant_id == tenant_id)
        if product_id is not None:
            q = q.where(device_groups.c.product_id == self.products.get(tenant_id, product_id).id)
        with self.db.read() as c:
            return _with_deployments(c, c.execute(q.order_by(device_groups.c.product_id, device_groups.c.name)).all())

    def create_defaults(self, tenant_id: str, product_id: str) -> list[DeviceGroup]:
        """The product's five default groups, made where missing (the real API's CreateDefaults)."""
        product = self.products.get(tenant_id, product_id)
        have = {g.name for g in self.list(tenant_id, product.id)}
        now = self.now()
        with self.db.write() as c:
            for gname, gdesc, feed, policy in DEFAULT_GROUPS:
                if gname not in have:
                    c.execute(insert(device_groups).values(
                        id=pki.new_id(), tenant_id=tenant_id, product_id=product.id, name=gname, description=gdesc,
                        os_feed_type=feed, update_policy=policy, allow_crash_dumps=False, created_at=now))
        return [g for g in self.list(tenant_id, product.id) if g.name in {d[0] for d in DEFAULT_GROUPS}]

    def get(self, tenant_id: str, group_id: str) -> DeviceGroup:
        row = self._one(device_groups, tenant_id, group_id, "device group")
        with self.db.read() as c:
            return _with_deployments(c, [row])[0]

    def update(self, tenant_id: str, group_id: str, *, name: str | None = None, description: str | None = None,
               os_feed_type: int | None = None, update_policy: int | None = None,
               allow_crash_dumps: bool | None = None, regional_data_boundary: int | None = None) -> DeviceGroup:
        group = self.get(tenant_id, group_id)
        _check_fields(os_feed_type, update_policy, regional_data_boundary)
        values = {k: v for k, v in (("description", description), ("os_feed_type", os_feed_type),
                                    ("update_policy", update_policy), ("allow_crash_dumps", allow_crash_dumps),
                                    ("regional_data_boundary", regional_data_boundary))
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
