"""SysEvent: update notifications to subscribed apps and the apps' deferrals (sysevent.h).

The OS side: `post(event, status, max_deferral_minutes=0, update_type=0)` hands one notification to every app
descriptor subscribed to `event`; `announce_update(update_type, max_deferral_minutes)` plays the device's update
sequence for a downloaded update: UpdateReadyForInstall Pending; if no app defers within the grace time, Final and
`on_install` runs (the OS agent installs; by default a line on a7.os). An app with SoftwareUpdateDeferral may defer
a pending update (SysEvent_DeferEvent: Deferred is posted, and Pending again when the deferral ends, at most
max_deferral_minutes of virtual time) or resume it early (SysEvent_ResumeEvent: Pending again at once).
Capabilities: subscribing needs SystemEventNotifications, deferring/resuming SoftwareUpdateDeferral (EACCES, as
sysevent.h documents).

Emulator-defined (docs/a7.md, docs/EMULATOR-DEFINED.md): the node /dev/azure-sphere/sysevent; ioctls
AZSP_SYSEVENT_SUBSCRIBE (_IOW(0xA5, 0x10, u32 mask)), AZSP_SYSEVENT_DEFER (_IOW(0xA5, 0x11, {u32 event;
u32 minutes})), AZSP_SYSEVENT_RESUME (_IOW(0xA5, 0x12, u32 event)); read() gives 16-byte records {u32 event,
status, max_deferral_minutes, update_type}; the grace time before Final is 10 s of virtual time.
"""
from __future__ import annotations

import logging
import struct
from collections import deque
from typing import Callable

from mt3620.engine.linux.abi import EINVAL, ENOTTY, POLLIN
from mt3620.engine.linux.devices import DeviceFile
from mt3620.engine.linux.errors import LinuxError
from mt3620.engine.linux.waiting import WouldBlock
from mt3620.engine.simulation.clock import PS_PER_SECOND

from . import Service

log = logging.getLogger("mt3620.os")


def _ioc(direction: int, nr: int, size: int) -> int:
    return direction << 30 | size << 16 | 0xA5 << 8 | nr


SUBSCRIBE = _ioc(1, 0x10, 4)
DEFER = _ioc(1, 0x11, 8)
RESUME = _ioc(1, 0x12, 4)
NODE = "/dev/azure-sphere/sysevent"
RECORD = struct.Struct("<IIII")
UPDATE_READY, UPDATE_STARTED, NO_UPDATE = 0x1, 0x2, 0x4
EVENT_MASK = 0x7
PENDING, FINAL, DEFERRED, COMPLETE = 1, 2, 3, 4
GRACE_PS = 10 * PS_PER_SECOND
MAX_QUEUE = 32


class SysEventService(Service):
    name = "sysevent"

    def __init__(self, os) -> None:
        super().__init__(os)
        self.subscribers: list[SysEventFile] = []
        self.update: dict | None = None          # the pending update: type, max deferral, state, timer
        self.on_install: Callable[[int], None] = self._default_install
        self.history: list[tuple[int, int]] = []  # (event, status) posted, for inspection
        self.kernel.devices.register(NODE, lambda ctx: SysEventFile(ctx, self), mode=0o444)

    # ---- the OS side ------------------------------------------------------------------------------------------------
    def post(self, event: int, status: int, max_deferral_minutes: int = 0, update_type: int = 0) -> None:
        self.history.append((event, status))
        record = RECORD.pack(event, status, max_deferral_minutes, update_type)
        for sub in list(self.subscribers):
            if sub.mask & event and len(sub.queue) < MAX_QUEUE:
                sub.queue.append(record)
                sub.changed()

    def announce_update(self, update_type: int = 1, max_deferral_minutes: int = 1440) -> None:
        """An update is downloaded and ready: Pending, then Final after the grace time unless deferred."""
        self.update = {"type": update_type, "max": max_deferral_minutes, "timer": None}
        self._pending()

    def _pending(self) -> None:
        u = self.update
        self.post(UPDATE_READY, PENDING, u["max"], u["type"])
        u["timer"] = self.machine.clock.schedule(GRACE_PS, self._final, "sysevent final")

    def _final(self) -> None:
        u, self.update = self.update, None
        if u is None:
            return
        self.post(UPDATE_READY, FINAL, 0, u["type"])
        self.on_install(u["type"])

    def _default_install(self, update_type: int) -> None:
        kind = "application" if update_type == 1 else "OS"
        self.machine.emit("a7.os", f"{kind} update installing\n".encode())

    def defer(self, ctx, event: int, minutes: int) -> None:
        self.require(self.capabilities(ctx).software_update_deferral, "SoftwareUpdateDeferral", ctx)
        u = self.update
        if event != UPDATE_READY or u is None:
            raise LinuxError(EINVAL)
        if u["timer"] is not None:
            u["timer"].cancel()
        minutes = min(minutes, u["max"])
        u["max"] -= minutes
        self.post(UPDATE_READY, DEFERRED, u["max"], u["type"])
        u["timer"] = self.machine.clock.schedule(minutes * 60 * PS_PER_SECOND, self._pending, "sysevent deferral")
        u["deferred"] = True

    def resume(self, ctx, event: int) -> None:
        self.require(self.capabilities(ctx).software_update_deferral, "SoftwareUpdateDeferral", ctx)
        u = self.update
        if event != UPDATE_READY or u is None or not u.get("deferred"):
            raise LinuxError(EINVAL)
        u["timer"].cancel()
        u["deferred"] = False
        self._pending()


class SysEventFile(DeviceFile):
    def __init__(self, ctx, service: SysEventService) -> None:
        super().__init__(ctx)
        self.service = service
        self.mask = 0
        self.queue: deque[bytes] = deque()

    def ioctl(self, request: int, arg: int, memory) -> int:
        svc = self.service
        if request == SUBSCRIBE:
            mask = memory.read_u32(arg)
            svc.require(svc.capabilities(self.context).system_event_notifications, "SystemEventNotifications",
                        self.context)
            if not mask or mask & ~EVENT_MASK:
                raise LinuxError(EINVAL)
            self.mask = mask
            if self not in svc.subscribers:
                svc.subscribers.append(self)
            return 0
        if request == DEFER:
            event, minutes = struct.unpack("<II", memory.read(arg, 8))
            svc.defer(self.context, event, minutes)
            return 0
        if request == RESUME:
            svc.resume(self.context, memory.read_u32(arg))
            return 0
        raise LinuxError(ENOTTY)

    def read(self, count: int) -> bytes:
        if count < RECORD.size:
            raise LinuxError(EINVAL)
        if not self.queue:
            raise WouldBlock()
        return self.queue.popleft()

    def poll(self) -> int:
        return POLLIN if self.queue else 0

    def release(self) -> None:
        if self in self.service.subscribers:
            self.service.subscribers.remove(self)
