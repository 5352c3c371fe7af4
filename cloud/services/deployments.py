"""Deployments: the image set a device group should run, kept as history (deploying an earlier set is the
rollback), and the per-device progress of the current one."""
from __future__ import annotations

import json

from sqlalchemy import and_, insert, select, update

from .. import pki, reconcile
from ..db import deployments, device_groups, device_image_states, devices, images
from ..domain import Deployment, DeploymentStatus, Device, DeviceProgress, Forbidden, Invalid, User
from .base import Service, guid
from .device_groups import DeviceGroupService
from .images import ImageService

MAX_IMAGES = 64


def _deployment(r, current: bool | None = None) -> Deployment:
    return Deployment(r.id, r.device_group_id, tuple(json.loads(r.image_ids)), r.deployed_at, r.deployed_by, current)


class DeploymentService(Service):
    def __init__(self, database, now, groups: DeviceGroupService, images_: ImageService) -> None:
        super().__init__(database, now)
        self.groups, self.images = groups, images_

    def create(self, tenant_id: str, group_id: str, image_ids: list[str], user: User) -> Deployment:
        group = self.groups.get(tenant_id, group_id)
        ids = [guid(i, "image ID") for i in image_ids]
        if len(set(ids)) != len(ids):
            raise Invalid("an image is listed twice")
        if len(ids) > MAX_IMAGES:
            raise Invalid(f"a deployment holds at most {MAX_IMAGES} images")
        did, now = pki.new_id(), self.now()
        with self.db.write() as c:
            rows = c.execute(select(images.c.id, images.c.component_id, images.c.trust_status,
                                    images.c.security_version)
                             .where(and_(images.c.tenant_id == tenant_id, images.c.id.in_(ids)))).all() if ids else []
            found = {r.id: r for r in rows}
            missing = [i for i in ids if i not in found]
            if missing:
                raise Invalid(f"image(s) not uploaded to this tenant: {', '.join(missing)}")
            revoked = [i for i in ids if found[i].trust_status == "Revoked"]
            if revoked:
                raise Invalid(f"image(s) revoked: {', '.join(revoked)}")
            # A deployment never offers an image below its component's minimum security version (the floor that
            # attestation enforces too): devices running it would fail attestation as outdated. A deployment may
            # go back to an older image (a group rollback); devices whose Pluton counter already passed it refuse
            # it and report it failed (docs/cloud.md "Security versions").
            floors = self.images.floors(c, tenant_id)
            for i in ids:
                r = found[i]
                if r.security_version < floors.get(r.component_id, 0):
                    raise Invalid(f"image {r.id} has security version {r.security_version}, below the minimum "
                                  f"{floors[r.component_id]} of component {r.component_id}")
            components = [found[i].component_id for i in ids]
            if len(set(components)) != len(components):
                raise Invalid("a deployment holds at most one image per component")
            c.execute(insert(deployments).values(id=did, tenant_id=tenant_id, device_group_id=group.id,
                                                 image_ids=json.dumps(ids), deployed_at=now, deployed_by=user.name))
            c.execute(update(device_groups).where(device_groups.c.id == group.id).values(current_deployment_id=did))
        return Deployment(did, group.id, tuple(ids), now, user.name, True)

    def history(self, tenant_id: str, group_id: str) -> list[Deployment]:
        """The group's deployments, newest first, with the current one marked."""
        group = self.groups.get(tenant_id, group_id)
        with self.db.read() as c:
            rows = c.execute(select(deployments).where(deployments.c.device_group_id == group.id)
                             .order_by(deployments.c.deployed_at.desc(), deployments.c.id)).all()
        return [_deployment(r, r.id == group.current_deployment_id) for r in rows]

    def get(self, tenant_id: str, deployment_id: str) -> Deployment:
        return _deployment(self._one(deployments, tenant_id, deployment_id, "deployment"))

    def download(self, device: Device, image_id: str) -> bytes:
        """An image package for a device: only an unrevoked image of its group's current deployment (a device's
        24 h update certificate does not outlive a revocation, nor reach other groups' images)."""
        image_id = guid(image_id, "image ID")
        with self.db.read() as c:
            current = None
            if device.device_group_id:
                current = c.execute(select(device_groups.c.current_deployment_id)
                                    .where(device_groups.c.id == device.device_group_id)).scalar()
            deployed = json.loads(c.execute(select(deployments.c.image_ids).where(deployments.c.id == current))
                                  .scalar() or "[]") if current else []
            row = c.execute(select(images.c.trust_status, images.c.content).where(and_(
                images.c.tenant_id == device.tenant_id, images.c.id == image_id))).first()
        if row is None or image_id not in deployed:
            raise Forbidden(f"image {image_id} is not in the current deployment of this device's group",
                            "image-not-deployed")
        if row.trust_status == "Revoked":
            raise Forbidden(f"image {image_id} was revoked", "image-revoked")
        return bytes(row.content)

    def status(self, tenant_id: str, group_id: str) -> DeploymentStatus:
        """Per-device progress of the group's current deployment (TimedOut derived from the action timeout)."""
        group = self.groups.get(tenant_id, group_id)
        now = self.now()
        with self.db.read() as c:
            dids = [r.id for r in c.execute(select(devices.c.id).where(devices.c.device_group_id == group.id))]
            image_ids = []
            if group.current_deployment_id:
                image_ids = json.loads(c.execute(select(deployments.c.image_ids).where(
                    deployments.c.id == group.current_deployment_id)).scalar() or "[]")
            rows = c.execute(select(device_image_states).where(and_(
                device_image_states.c.device_id.in_(dids), device_image_states.c.image_id.in_(image_ids)))).all() \
                if dids and image_ids else []
        per_device: dict[str, dict[str, str]] = {d: {} for d in dids}
        for r in rows:
            st = reconcile.ImageState(r.image_id, r.state, r.deployment_id, r.offered_at, r.offered_boot, r.deadline,
                                      r.updated_at)
            per_device[r.device_id][r.image_id] = reconcile.effective_state(st, now)
        summary = {s: 0 for s in reconcile.STATES}
        summary["NotOffered"] = 0
        for states in per_device.values():
            for i in image_ids:
                summary[states.get(i, "NotOffered")] += 1
        return DeploymentStatus(group.id, group.current_deployment_id, summary,
                                tuple(DeviceProgress(d, per_device[d]) for d in sorted(per_device)))
