"""Devices: claims, group membership, capabilities, and the per-device update state (what was offered, installed,
failed), with the device side's update check and the "why not updating" answer (pure rules: cloud/reconcile.py)."""
from __future__ import annotations

import json
import threading

from sqlalchemy import and_, bindparam, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from .. import reconcile
from ..db import deployments, device_groups, device_image_states, devices, images, os_releases
from ..domain import (CAPABILITIES, ClaimFailure, ClaimReport, Conflict, Device, DomainError, ImageProgress, Invalid,
                      NotFound, TargetImage, Unauthenticated, UpdateOffer, UpdateStatus)
from .base import Service, device_id as checked_device_id, guid
from .device_groups import DeviceGroupService
from .registry import RegistryService, checked_key

NEXT_CHECK_SECONDS = 24 * 3600


def _device(r) -> Device:
    return Device(r.id, r.tenant_id, r.device_group_id, tuple(json.loads(r.capabilities)),
                  tuple(json.loads(r.reported_capabilities)), r.os_version, json.loads(r.installed), r.claimed_at,
                  r.last_attested_at, r.last_update_check_at, boot_id=r.boot_id)


# The update check's reads, built once (the hot path of the device API).
_DEVICE = select(devices).where(devices.c.id == bindparam("device"))   # statements built once (no per-call cache key)
_GROUP = select(device_groups).where(device_groups.c.id == bindparam("group"))
_DEPLOYED = select(deployments.c.tenant_id, deployments.c.image_ids).where(deployments.c.id == bindparam("deployment"))
_STATES = select(device_image_states).where(device_image_states.c.device_id == bindparam("device"))
_OS = (select(os_releases.c.version).where(os_releases.c.feed == bindparam("feed"))
       .order_by(os_releases.c.released_at.desc()).limit(1))
DEPLOYMENT_CACHE_SIZE = 1024


def _state(r) -> reconcile.ImageState:
    return reconcile.ImageState(r.image_id, r.state, r.deployment_id, r.offered_at, r.offered_boot, r.deadline,
                                r.updated_at)


class DeviceService(Service):
    def __init__(self, database, now, groups: DeviceGroupService, registry: RegistryService, action_timeout) -> None:
        super().__init__(database, now)
        self.groups, self.registry = groups, registry
        self.action_timeout = action_timeout
        self._touch_lock = threading.Lock()
        self._touched: dict[tuple[str, str], object] = {}
        self._deployments: dict[str, tuple[reconcile.Image, ...]] = {}

    # ---- claims ---------------------------------------------------------------------------------------------
    def claim(self, tenant_id: str, device: str, attestation_key: str | None = None,
              group_id: str | None = None) -> Device:
        """Claim one registered device: one-time and irreversible (the primary key makes a second claim fail
        anywhere). Its identity comes from the registry, never from the claimant: `attestation_key`, when given,
        must be the registered key."""
        if group_id:
            group_id = self.groups.get(tenant_id, group_id).id
        did = checked_device_id(device)
        attestation_key = checked_key(attestation_key) if attestation_key else None
        registered = self.registry.find(did)
        if registered is None:
            raise NotFound(f"device {did[:16]}... in the device registry (only devices the manufacturer enrolled "
                           "can be claimed)", "DeviceNotRegistered")
        if attestation_key and attestation_key != registered.attestation_key:
            raise Invalid("AttestationPublicKey is not the device's registered attestation key (a claim cannot "
                          "choose a device's identity)", "AttestationKeyMismatch")
        try:
            with self.db.write() as c:
                c.execute(insert(devices).values(
                    id=did, tenant_id=tenant_id, attestation_key=registered.attestation_key, device_group_id=group_id,
                    capabilities="[]", reported_capabilities="[]", installed="{}", os_version="", boot_id="",
                    claimed_at=self.now()))
        except IntegrityError:
            raise Conflict("the device is already claimed (claiming is one-time and irreversible)",
                           "DeviceAlreadyClaimed") from None
        return self.get(tenant_id, did)

    def claim_many(self, tenant_id: str, items: list[dict], resumed: bool = False) -> ClaimReport:
        """Claim many devices ({DeviceId, AttestationPublicKey?, DeviceGroupId?} each); each is claimed or reported
        with its reason (the work of a bulk-claim operation). `resumed`: the operation ran before and was cut off,
        so a device this tenant already holds counts as claimed by it."""
        claimed, failed = [], []
        for item in items:
            try:
                claimed.append(self.claim(tenant_id, item.get("DeviceId", ""), item.get("AttestationPublicKey"),
                                          item.get("DeviceGroupId")).id)
            except DomainError as exc:
                if resumed and exc.code == "DeviceAlreadyClaimed" and self.tenant_of(
                        str(item.get("DeviceId", "")).upper()) == tenant_id:
                    claimed.append(str(item["DeviceId"]).upper())
                    continue
                failed.append(ClaimFailure(str(item.get("DeviceId", "")), exc.code, exc.message))
        return ClaimReport(tuple(claimed), tuple(failed))

    # ---- management ------------------------------------------------------------------------------------------
    def list(self, tenant_id: str, group_id: str | None = None) -> list[Device]:
        self.flush_touches()     # what this process saw is shown at once
        q = select(devices).where(devices.c.tenant_id == tenant_id)
        if group_id is not None:
            q = q.where(devices.c.device_group_id == self.groups.get(tenant_id, group_id).id)
        with self.db.read() as c:
            rows = c.execute(q.order_by(devices.c.id)).all()
        return [_device(r) for r in rows]

    def get(self, tenant_id: str, device: str) -> Device:
        self.flush_touches()
        did = checked_device_id(device)
        with self.db.read() as c:
            r = c.execute(select(devices).where(and_(devices.c.tenant_id == tenant_id, devices.c.id == did))).first()
        if r is None:
            raise NotFound("device")
        return _device(r)

    def move(self, tenant_id: str, device: str, group_id: str) -> Device:
        found = self.get(tenant_id, device)
        gid = self.groups.get(tenant_id, group_id).id
        with self.db.write() as c:
            c.execute(update(devices).where(devices.c.id == found.id).values(device_group_id=gid))
        return self.get(tenant_id, found.id)

    def set_capabilities(self, tenant_id: str, device: str, capabilities: list[str]) -> Device:
        found = self.get(tenant_id, device)
        bad = [c for c in capabilities if c not in CAPABILITIES]
        if bad:
            raise Invalid(f"unknown capabilities: {', '.join(bad)} (known: {', '.join(sorted(CAPABILITIES))})")
        with self.db.write() as c:
            c.execute(update(devices).where(devices.c.id == found.id)
                      .values(capabilities=json.dumps(sorted(set(capabilities)))))
        return self.get(tenant_id, found.id)

    def update_status(self, tenant_id: str, device: str) -> UpdateStatus:
        """Why is this device (not) updating: the reasons, from stored state alone."""
        found = self.get(tenant_id, device)
        now = self.now()
        with self.db.read() as c:
            group = self._group_view(c, found.device_group_id)
            states = self._states(c, found.id)
        caps = frozenset(found.capabilities) | frozenset(found.reported_capabilities)
        reasons = reconcile.why_not_updating(group, found.installed, caps, states, now)
        return UpdateStatus(found.id, found.device_group_id, tuple(reasons),
                            tuple(ImageProgress(s.image_id, reconcile.effective_state(s, now), s.deployment_id,
                                                s.offered_at, s.deadline)
                                  for s in sorted(states.values(), key=lambda s: s.image_id)))

    # ---- capability images -------------------------------------------------------------------------------------
    def capability_image(self, tenant_id: str, device: str, names: list[str] | None = None) -> bytes:
        """A capability file granting `names` (default: what the tenant granted) to this device, signed with the key
        the device's Pluton trusts for capabilities (emulator-defined: the project's root key, standing in for
        Microsoft's; mt3620.imagepackage.capability has the format)."""
        found = self.get(tenant_id, device)
        names = list(found.capabilities if names is None else names)
        bad = [n for n in names if n not in CAPABILITIES]
        if bad:
            raise Invalid(f"unknown capabilities: {', '.join(bad)} (known: {', '.join(CAPABILITIES)})")
        from mt3620.firmware.boot import root_signer
        from mt3620.imagepackage import capability
        return capability.build(bytes.fromhex(found.id), [capability.BY_NAME[n] for n in names], root_signer(),
                                build_time=int(self.now().timestamp()))

    def capability_images_due(self, device: Device, reported: frozenset[str]) -> list[bytes]:
        """What the update check hands the device: one capability file with every capability the tenant granted
        that the device does not report holding yet."""
        missing = [c for c in device.capabilities if c not in reported]
        return [self.capability_image(device.tenant_id, device.id, list(device.capabilities))] if missing else []

    # ---- the device side --------------------------------------------------------------------------------------
    def tenant_of(self, device: str) -> str | None:
        """The tenant that claimed the device, None when unclaimed."""
        with self.db.read() as c:
            return c.execute(select(devices.c.tenant_id).where(devices.c.id == device)).scalar()

    def find(self, device: str) -> Device | None:
        """A claimed device by ID alone, None when unclaimed."""
        with self.db.read() as c:
            r = c.execute(_DEVICE, {"device": device}).first()
        return None if r is None else _device(r)

    def record(self, device: str) -> Device:
        """A claimed device by ID alone (the device side authenticates by certificate, not by tenant)."""
        with self.db.read() as c:
            r = c.execute(_DEVICE, {"device": device}).first()
        if r is None:
            raise Unauthenticated("device not claimed", "unknown-device")
        return _device(r)

    def attested(self, device: str) -> None:
        self._touch(device, "last_attested_at")

    # Last-seen times (LastAttestedAt, LastUpdateCheckAt) are coalesced: recorded in memory and written for every
    # device at once by `flush_touches` (the worker calls it every second, and at stop), in a commit that does not
    # wait for the disk. A killed process loses at most the last second of them; what devices report is written
    # at once, in the request's own transaction.
    def _touch(self, device: str, column: str) -> None:
        with self._touch_lock:
            self._touched[(device, column)] = self.now()

    def flush_touches(self) -> int:
        with self._touch_lock:
            touched, self._touched = self._touched, {}
        if not touched:
            return 0
        with self.db.write(durable=False) as c:
            for (device, column), at in sorted(touched.items()):
                c.execute(update(devices).where(devices.c.id == device).values({column: at}))
        return len(touched)

    def update_check(self, device: Device, report: reconcile.Report) -> UpdateOffer:
        """One update check of `device` (as its certificate's check read it): record what it reports, decide what it
        should install (and why not). A check that changes nothing (the usual one: same report, nothing new to
        offer) writes nothing but its time."""
        decision = self._decide(device, report, write=False)
        if decision is None:
            decision = self._decide(device, report, write=True)
        self._touch(device.id, "last_update_check_at")
        return decision

    def _decide(self, known: Device, report: reconcile.Report, write: bool) -> UpdateOffer | None:
        now, device = self.now(), known.id
        with (self.db.write() if write else self.db.read()) as c:
            d = known
            if write:   # the row again, locked: what the device reported may have moved since
                row = c.execute(select(devices).where(devices.c.id == device).with_for_update()).first()
                if row is None:
                    raise Unauthenticated("device not claimed", "unknown-device")
                d = _device(row)
            group = self._group_view(c, d.device_group_id)
            states = self._states(c, device)
            caps = report.capabilities | frozenset(d.capabilities)
            feed = group.os_feed_type if group else reconcile.RETAIL
            os_version = c.execute(_OS, {"feed": feed}).scalar()
            decision = reconcile.reconcile(group, reconcile.Report(report.installed, report.boot_id, report.os_version,
                                                                   caps, report.failed_images),
                                           states, now, reconcile.OsTarget(feed, os_version) if os_version else None,
                                           self.action_timeout)
            reported = dict(installed=json.dumps(dict(report.installed), sort_keys=True), os_version=report.os_version,
                            boot_id=report.boot_id, reported_capabilities=json.dumps(sorted(report.capabilities)))
            changed = (dict(report.installed) != d.installed or report.os_version != d.os_version
                       or report.boot_id != d.boot_id or sorted(report.capabilities) != list(d.reported_capabilities)
                       or any(states.get(i) != st for i, st in decision.states.items()))
            if not write:
                return None if changed else self._offer(device, group, decision)
            for image_id, st in decision.states.items():
                if states.get(image_id) == st:
                    continue
                values = dict(state=st.state, deployment_id=st.deployment_id, offered_at=st.offered_at,
                              offered_boot=st.offered_boot, deadline=st.deadline, updated_at=st.updated_at)
                if image_id in states:
                    c.execute(update(device_image_states).where(and_(device_image_states.c.device_id == device,
                                                                     device_image_states.c.image_id == image_id))
                              .values(**values))
                else:
                    c.execute(insert(device_image_states).values(device_id=device, image_id=image_id, **values))
            c.execute(update(devices).where(devices.c.id == device).values(**reported, last_update_check_at=now))
        return self._offer(device, group, decision)

    @staticmethod
    def _offer(device: str, group, decision) -> UpdateOffer:
        return UpdateOffer(device, group.group_id if group else None, group.deployment_id if group else None,
                           tuple(TargetImage(i.image_id, i.component_id, i.image_type, i.security_version)
                                 for i in decision.targets),
                           (decision.os_target.feed, decision.os_target.version) if decision.os_target else None,
                           tuple(decision.reasons), NEXT_CHECK_SECONDS)

    @staticmethod
    def report(installed: list[dict], boot_id: str, os_version: str, capabilities: list[str],
               failed_images: list[str]) -> reconcile.Report:
        """What the device says, checked: GUIDs canonical, strings bounded."""
        return reconcile.Report({guid(i.get("ComponentId"), "ComponentId"): guid(i.get("ImageId"), "ImageId")
                                 for i in installed},
                                str(boot_id)[:64], str(os_version)[:64], frozenset(capabilities),
                                frozenset(guid(i, "FailedImages entry") for i in failed_images))

    # ---- reading the update state ----------------------------------------------------------------------------
    def _group_view(self, c: Connection, group_id: str | None) -> reconcile.GroupView | None:
        if group_id is None:
            return None
        g = c.execute(_GROUP, {"group": group_id}).first()
        if g is None:
            return None
        imgs = self._deployed(c, g.current_deployment_id) if g.current_deployment_id else ()
        return reconcile.GroupView(g.id, g.name, g.os_feed_type, g.update_policy, g.current_deployment_id, imgs)

    def _deployed(self, c: Connection, deployment_id: str) -> tuple[reconcile.Image, ...]:
        """A deployment's images, remembered: a deployment and its images' identities never change."""
        hit = self._deployments.get(deployment_id)
        if hit is not None:
            return hit
        row = c.execute(_DEPLOYED, {"deployment": deployment_id}).first()
        ids = json.loads(row.image_ids) if row else []
        rows = {r.id: r for r in c.execute(select(images.c.id, images.c.component_id, images.c.image_type,
                                                  images.c.security_version)
                                           .where(and_(images.c.tenant_id == row.tenant_id, images.c.id.in_(ids))))} \
            if ids else {}
        found = tuple(reconcile.Image(i, rows[i].component_id, rows[i].image_type, rows[i].security_version)
                      for i in ids if i in rows)
        if len(self._deployments) >= DEPLOYMENT_CACHE_SIZE:
            self._deployments.clear()
        self._deployments[deployment_id] = found
        return found

    @staticmethod
    def _states(c: Connection, device: str) -> dict[str, reconcile.ImageState]:
        return {r.image_id: _state(r) for r in c.execute(_STATES, {"device": device})}
