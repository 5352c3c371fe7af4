"""Pure update reconciliation: what a device should install, what it did, and why it is not updating.

One call per update check: the device reports its installed images (component ID -> image ID), its OS version,
a boot ID and capabilities; the service holds the device's group (feed, update policy, current deployment) and
the per-device state of every image it offered before. `reconcile` returns the target image set and the new
per-image states. No I/O, no clock reads.

Per-image states (per device):  Offered -> Installed        the device reports the image installed
                                Offered -> Failed           the device rebooted (new boot ID) without it, or
                                                            reported the install failed: the image rolled back
                                Offered -> TimedOut         no report within the action timeout (derived at read
                                                            time by `effective_state`, no check-in needed)
                                TimedOut -> Offered         the device came back and is offered the image again
A Failed image is never offered to that device again, so a rollback cannot loop. Facts: group fields
OsFeedType (0 Retail, 1 RetailEval) and UpdatePolicy (0 UpdateAll, 1 No3rdPartyAppUpdates); Development groups
get no cloud app updates; a device holding the appDevelopment capability gets none (MT3620-FACTS.md).
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field, replace
from typing import Mapping, Sequence

OFFERED, INSTALLED, FAILED, TIMED_OUT = "Offered", "Installed", "Failed", "TimedOut"
STATES = (OFFERED, INSTALLED, FAILED, TIMED_OUT)

UPDATE_ALL, NO_3RD_PARTY_APP_UPDATES, NO_UPDATES = 0, 1, 2
UPDATE_POLICIES = {"UpdateAll": UPDATE_ALL, "No3rdPartyAppUpdates": NO_3RD_PARTY_APP_UPDATES,
                   "NoUpdates": NO_UPDATES}     # NoUpdates: neither applications nor the OS
RETAIL, RETAIL_EVAL = 0, 1
APP_DEVELOPMENT = "appDevelopment"
DEFAULT_ACTION_TIMEOUT = _dt.timedelta(hours=48)

# Why-not-updating reason codes (stable strings).
NOT_IN_GROUP = "not-in-device-group"
UPDATE_POLICY = "update-policy-no-app-updates"
NO_UPDATES_POLICY = "update-policy-no-updates"
APP_DEVELOPMENT_CAPABILITY = "app-development-capability"
NO_DEPLOYMENT = "no-deployment"
IMAGE_FAILED_BEFORE = "image-failed-on-device"
PENDING = "update-pending"
TIMED_OUT_REASON = "action-timed-out"
UP_TO_DATE = "up-to-date"
OS_UPDATE = "os-update-available"


@dataclass(frozen=True)
class Image:
    image_id: str
    component_id: str
    image_type: int = 10
    security_version: int = 0


@dataclass(frozen=True)
class GroupView:
    group_id: str
    name: str
    os_feed_type: int
    update_policy: int
    deployment_id: str | None
    images: tuple[Image, ...] = ()


@dataclass(frozen=True)
class ImageState:
    image_id: str
    state: str
    deployment_id: str | None
    offered_at: _dt.datetime
    offered_boot: str
    deadline: _dt.datetime
    updated_at: _dt.datetime


@dataclass(frozen=True)
class Report:
    """What the device says in one update check."""
    installed: Mapping[str, str]              # component ID -> image ID (lower-case GUID strings)
    boot_id: str
    os_version: str = ""
    capabilities: frozenset[str] = frozenset()
    failed_images: frozenset[str] = frozenset()   # images the device says it could not install


@dataclass(frozen=True)
class OsTarget:
    feed: int
    version: str
    images: tuple[Image, ...] = ()


@dataclass(frozen=True)
class Reason:
    code: str
    message: str


@dataclass(frozen=True)
class Decision:
    targets: tuple[Image, ...]
    os_target: OsTarget | None
    states: Mapping[str, ImageState]
    reasons: tuple[Reason, ...] = field(default=())


def effective_state(state: ImageState, now: _dt.datetime) -> str:
    """Offered past its deadline reads as TimedOut: the device never reported back."""
    if state.state == OFFERED and now >= state.deadline:
        return TIMED_OUT
    return state.state


def app_updates_blocked(group: GroupView | None, capabilities: frozenset[str]) -> list[Reason]:
    reasons = []
    if group is None:
        reasons.append(Reason(NOT_IN_GROUP, "the device is not in a device group"))
        return reasons
    if group.update_policy == NO_UPDATES:
        reasons.append(Reason(NO_UPDATES_POLICY, f"device group '{group.name}' has UpdatePolicy NoUpdates: no "
                                                 "application or OS updates"))
    if group.update_policy == NO_3RD_PARTY_APP_UPDATES:
        reasons.append(Reason(UPDATE_POLICY, f"device group '{group.name}' has UpdatePolicy No3rdPartyAppUpdates "
                                             "(Development groups get no cloud application updates)"))
    if APP_DEVELOPMENT in capabilities:
        reasons.append(Reason(APP_DEVELOPMENT_CAPABILITY,
                              "the device holds the appDevelopment capability, which blocks cloud application updates"))
    return reasons


def observe(states: Mapping[str, ImageState], report: Report, now: _dt.datetime) -> dict[str, ImageState]:
    """Apply what the device reports to the images offered before."""
    installed_images = set(report.installed.values())
    out = {}
    for image_id, st in states.items():
        if st.state in (OFFERED, TIMED_OUT):
            if image_id in installed_images:
                st = replace(st, state=INSTALLED, updated_at=now)
            elif image_id in report.failed_images or report.boot_id != st.offered_boot:
                st = replace(st, state=FAILED, updated_at=now)
            elif now >= st.deadline:
                st = replace(st, state=TIMED_OUT, updated_at=now)
        out[image_id] = st
    for image_id in report.failed_images:
        if image_id not in out and image_id in states:
            out[image_id] = replace(states[image_id], state=FAILED, updated_at=now)
    return out


def reconcile(group: GroupView | None, report: Report, states: Mapping[str, ImageState], now: _dt.datetime,
              os_target: OsTarget | None = None,
              action_timeout: _dt.timedelta = DEFAULT_ACTION_TIMEOUT) -> Decision:
    """One update check: new per-image states, the images to install now, and the reasons for what is not."""
    new_states = observe(states, report, now)
    reasons = app_updates_blocked(group, report.capabilities)
    targets: list[Image] = []
    if not reasons:
        assert group is not None
        if group.deployment_id is None or not group.images:
            reasons.append(Reason(NO_DEPLOYMENT, f"device group '{group.name}' has no deployment"))
        installed_images = set(report.installed.values())
        for image in group.images:
            if image.image_id in installed_images:
                continue
            st = new_states.get(image.image_id)
            if st is not None and st.state == FAILED:
                reasons.append(Reason(IMAGE_FAILED_BEFORE, f"image {image.image_id} failed on this device before "
                                                           "and is not offered again"))
                continue
            if st is None or st.state in (INSTALLED, TIMED_OUT) or st.offered_boot != report.boot_id:
                st = ImageState(image.image_id, OFFERED, group.deployment_id, now, report.boot_id,
                                now + action_timeout, now)
            new_states[image.image_id] = st
            targets.append(image)
        if targets:
            reasons.append(Reason(PENDING, f"{len(targets)} image(s) to install"))
    os_out = None
    os_blocked = group is not None and group.update_policy == NO_UPDATES
    if os_target is not None and os_target.version and report.os_version != os_target.version and not os_blocked:
        os_out = os_target
        reasons.append(Reason(OS_UPDATE, f"OS {os_target.version} is available on this feed"))
    if not targets and not any(r.code in (IMAGE_FAILED_BEFORE, NO_DEPLOYMENT) for r in reasons) \
            and not app_updates_blocked(group, report.capabilities):
        reasons.append(Reason(UP_TO_DATE, "the device has every image of its group's current deployment"))
    return Decision(tuple(targets), os_out, new_states, tuple(reasons))


def why_not_updating(group: GroupView | None, installed: Mapping[str, str], capabilities: frozenset[str],
                     states: Mapping[str, ImageState], now: _dt.datetime) -> list[Reason]:
    """The answer to "why is this device not updating", from stored state only (no check-in needed)."""
    reasons = app_updates_blocked(group, capabilities)
    if reasons:   # not in a group, or application updates are blocked for the device: nothing is offered
        return reasons
    if group.deployment_id is None or not group.images:
        reasons.append(Reason(NO_DEPLOYMENT, f"device group '{group.name}' has no deployment"))
        return reasons
    installed_images = set(installed.values())
    for image in group.images:
        if image.image_id in installed_images:
            continue
        st = states.get(image.image_id)
        if st is None:
            reasons.append(Reason(PENDING, f"image {image.image_id} will be offered at the next update check"))
        elif st.state == FAILED:
            reasons.append(Reason(IMAGE_FAILED_BEFORE, f"image {image.image_id} failed on this device before "
                                                       "and is not offered again"))
        elif effective_state(st, now) == TIMED_OUT:
            reasons.append(Reason(TIMED_OUT_REASON, f"image {image.image_id} was offered at "
                                                    f"{st.offered_at:%Y-%m-%dT%H:%M:%SZ} and the device never "
                                                    "reported back"))
        elif st.state == OFFERED:
            reasons.append(Reason(PENDING, f"image {image.image_id} is offered; waiting for the device"))
    if not reasons:
        reasons.append(Reason(UP_TO_DATE, "the device has every image of its group's current deployment"))
    return reasons


def deployment_summary(states: Sequence[ImageState], now: _dt.datetime) -> dict[str, int]:
    counts = {s: 0 for s in STATES}
    for st in states:
        counts[effective_state(st, now)] += 1
    return counts
