"""Products: a name in a tenant, created with the five default device groups."""
from __future__ import annotations

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from .. import pki, reconcile
from ..db import deployments, device_groups, devices, products
from ..domain import Conflict, Product
from .base import Service, name as checked_name

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


def _product(r) -> Product:
    return Product(r.id, r.tenant_id, r.name, r.description)


class ProductService(Service):
    def create(self, tenant_id: str, product_name: str, description: str = "", default_groups: bool = True) -> Product:
        product_name = checked_name(product_name, "product name")
        pid, now = pki.new_id(), self.now()
        try:
            with self.db.write() as c:
                c.execute(insert(products).values(id=pid, tenant_id=tenant_id, name=product_name,
                                                  description=description or "", created_at=now))
                if default_groups:
                    self._default_groups(c, tenant_id, pid, now)
        except IntegrityError:
            raise Conflict(f"a product named {product_name!r} already exists") from None
        return Product(pid, tenant_id, product_name, description or "")

    @staticmethod
    def _default_groups(c, tenant_id: str, product_id: str, now) -> None:
        for gname, gdesc, feed, policy in DEFAULT_GROUPS:
            c.execute(insert(device_groups).values(
                id=pki.new_id(), tenant_id=tenant_id, product_id=product_id, name=gname, description=gdesc,
                os_feed_type=feed, update_policy=policy, allow_crash_dumps=False, created_at=now))

    def list(self, tenant_id: str) -> list[Product]:
        with self.db.read() as c:
            rows = c.execute(select(products).where(products.c.tenant_id == tenant_id).order_by(products.c.name)).all()
        return [_product(r) for r in rows]

    def get(self, tenant_id: str, product_id: str) -> Product:
        return _product(self._one(products, tenant_id, product_id, "product"))

    def update(self, tenant_id: str, product_id: str, new_name: str | None, description: str | None) -> Product:
        product = self.get(tenant_id, product_id)
        values = {}
        if new_name is not None:
            values["name"] = checked_name(new_name, "product name")
        if description is not None:
            values["description"] = description
        if values:
            try:
                with self.db.write() as c:
                    c.execute(update(products).where(products.c.id == product.id).values(**values))
            except IntegrityError:
                raise Conflict(f"a product named {new_name!r} already exists") from None
        return self.get(tenant_id, product.id)

    def delete(self, tenant_id: str, product_id: str) -> None:
        product = self.get(tenant_id, product_id)
        with self.db.write() as c:
            groups = [r.id for r in c.execute(select(device_groups.c.id)
                                              .where(device_groups.c.product_id == product.id))]
            if groups and c.execute(select(func.count()).select_from(devices)
                                    .where(devices.c.device_group_id.in_(groups))).scalar_one():
                raise Conflict("the product's device groups still hold devices; move them first")
            c.execute(delete(deployments).where(deployments.c.device_group_id.in_(groups)))
            c.execute(delete(device_groups).where(device_groups.c.product_id == product.id))
            c.execute(delete(products).where(products.c.id == product.id))
