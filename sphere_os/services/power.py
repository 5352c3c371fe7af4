"""PowerManagement: reboot, power-down and the power profile (powermanagement.h), acting on the emulated device.

- Reboot (PowerControls "ForceReboot"): the device restarts: the app is stopped, each IO core's RTApp is loaded
  again from its package (or ELF file) and restarts from its reset vector, CLOCK_REALTIME restarts from the RTC
  (rtc.py; or the emulator-defined epoch when nothing was written to it), and the app is launched again.
- Power-down (PowerControls "ForcePowerDown", maximum residency N s): the app stops, the IO cores halt; after N s of
  virtual time the device boots as for a reboot (no wake-up source is modelled: the residency always runs out).
- Power profile (PowerControls "SetPowerProfile"): PowerSaver 0, Balanced 1, HighPerformance 2 (the default),
  recorded in `profile` (the A7's cpufreq governor is not modelled: the A7 keeps its 500 MHz).
Each is announced on a7.os. A call the manifest does not grant is EACCES.

Emulator-defined (docs/a7.md, docs/EMULATOR-DEFINED.md): the node /dev/azure-sphere/power with ioctls
AZSP_POWER_REBOOT (_IO(0xA5, 0x20)), AZSP_POWER_DOWN (_IOW(0xA5, 0x21, u32 seconds)), AZSP_POWER_SET_PROFILE
(_IOW(0xA5, 0x22, u32)); the reboot happens at the next event boundary after the call returns, the boot takes no
virtual time.
"""
from __future__ import annotations

import logging
from pathlib import Path

from mt3620.engine.linux.abi import EINVAL, ENOTTY
from mt3620.engine.linux.devices import DeviceFile
from mt3620.engine.linux.errors import LinuxError
from mt3620.engine.simulation.clock import PS_PER_SECOND

from . import Service

log = logging.getLogger("mt3620.os")


def _ioc(direction: int, nr: int, size: int) -> int:
    return direction << 30 | size << 16 | 0xA5 << 8 | nr


REBOOT = _ioc(0, 0x20, 0)
POWER_DOWN = _ioc(1, 0x21, 4)
SET_PROFILE = _ioc(1, 0x22, 4)
NODE = "/dev/azure-sphere/power"
PROFILES = {0: "PowerSaver", 1: "Balanced", 2: "HighPerformance"}


class PowerService(Service):
    name = "power"

    def __init__(self, os) -> None:
        super().__init__(os)
        self.profile = 2
        self.reboots = 0
        self.power_downs = 0
        self.pending = None
        self.kernel.devices.register(NODE, lambda ctx: PowerFile(ctx, self), mode=0o666)

    def request_reboot(self, who: str) -> None:
        self.machine.emit("a7.os", f"system reboot requested by {who}\n".encode())
        if self.pending is None:
            self.pending = self.machine.clock.schedule(0, self.reboot, "system reboot")

    def request_power_down(self, who: str, seconds: int) -> None:
        self.machine.emit("a7.os", f"system power-down for up to {seconds} s requested by {who}\n".encode())
        if self.pending is None:
            self.pending = self.machine.clock.schedule(0, lambda: self._power_down(seconds), "system power-down")

    def _stop_everything(self):
        app = self.os.current
        package = app.package if app is not None else None
        if app is not None and app.running:
            self.os.stop(app)
        return package

    def _power_down(self, seconds: int) -> None:
        self.power_downs += 1
        package = self._stop_everything()
        for name in ("io0", "io1"):
            core = self.machine.cores.get(name)
            if core is not None:
                core.halted = True
        self.pending = self.machine.clock.schedule(seconds * PS_PER_SECOND, lambda: self._boot(package),
                                                   "wake from power-down")

    def reboot(self) -> None:
        self._boot(self._stop_everything())

    def _boot(self, package) -> None:
        self.pending = None
        self.reboots += 1
        for name in ("io0", "io1"):
            self._restart_io_core(name)
        rtc = self.os.services["rtc"].now_ns()
        kernel = self.kernel
        if rtc is not None:
            kernel.realtime_offset_ns = rtc - kernel.monotonic_ns()
        else:
            kernel.realtime_offset_ns = self.os.realtime_epoch_ns - kernel.monotonic_ns()
        self.machine.emit("a7.os", b"system booted\n")
        if package is not None:
            self.os.launch(package)

    def _restart_io_core(self, name: str) -> None:
        machine = self.machine
        image = machine.images.get(name)
        if image is None:
            return
        package = machine.app_packages.get(name)
        try:
            if package is not None:
                machine.load(name, data=package.data)
            elif image.path and Path(image.path).is_file():
                machine.load(name, image.path)
            else:
                log.warning("a7: reboot: the image on %s cannot be loaded again (no package or file)", name)
        except ValueError as exc:
            log.warning("a7: reboot: %s did not start again: %s", name, exc)


class PowerFile(DeviceFile):
    def __init__(self, ctx, service: PowerService) -> None:
        super().__init__(ctx)
        self.service = service

    def _who(self) -> str:
        app = self.service.app(self.context)
        return f"app {app.name}" if app is not None else "the OS"

    def ioctl(self, request: int, arg: int, memory) -> int:
        svc = self.service
        caps = svc.capabilities(self.context)
        if request == REBOOT:
            svc.require("ForceReboot" in caps.power_controls, "PowerControls ForceReboot", self.context)
            svc.request_reboot(self._who())
            return 0
        if request == POWER_DOWN:
            seconds = memory.read_u32(arg)
            svc.require("ForcePowerDown" in caps.power_controls, "PowerControls ForcePowerDown", self.context)
            svc.request_power_down(self._who(), seconds)
            return 0
        if request == SET_PROFILE:
            profile = memory.read_u32(arg)
            svc.require("SetPowerProfile" in caps.power_controls, "PowerControls SetPowerProfile", self.context)
            if profile not in PROFILES:
                raise LinuxError(EINVAL)
            if profile != svc.profile:
                svc.profile = profile
                svc.machine.emit("a7.os", f"power profile {PROFILES[profile]} set by {self._who()}\n".encode())
            return 0
        raise LinuxError(ENOTTY)
