"""PWM: the Azure Sphere kernel's PWM character device, which the SDK's PWM_Open/PWM_Apply use, over the PWM
controller models.

Interface: include/uapi/linux/pwm.h and drivers/pwm/chardev.c of the Azure Sphere kernel (crpietschmann/AzureSphereOS):
one node per controller, /dev/pwm<n>; ioctls PWM_APPLY_STATE _IOW(0xf7, 1, struct pwm_chardev_params),
PWM_GET_STATE _IOWR(0xf7, 2, ...), PWM_EXPORT / PWM_UNEXPORT _IOW(0xf7, 3/4, unsigned int). struct
pwm_chardev_params = {u32 pwm_index; struct pwm_state {u32 period; u32 duty_cycle; enum polarity; bool enabled;
void *extended_state; size_t extended_state_size}} (28 bytes on ARM). A channel index past the controller's four
gives ENODEV, exporting an exported channel EBUSY (chardev.c). The manifest's Pwm list ("PWM-CONTROLLER-<n>")
grants a controller; anything else is EACCES at open.

The driver programs the controller (peripherals/gpio/pwm.py) through the A7's bus view: the tick clock (26 MHz,
2 MHz or 32.768 kHz: the fastest whose 16-bit on/off counts hold the period; emulator-defined choice), PARAM_S0 =
on | off << 16 ticks, CTRL with POLARITY (1 = active high for PWM_Polarity_Normal), PWM_IO_CTRL, PWM_CLOCK_EN and
KICK. A disabled channel has its clock stopped.
"""
from __future__ import annotations

import struct

from mt3620.engine.linux.abi import EBUSY, EINVAL, ENODEV, ENOTTY
from mt3620.engine.linux.devices import DeviceFile
from mt3620.engine.linux.errors import LinuxError
from mt3620.peripherals.gpio.pwm import CHANNELS, PWM_BASE, PWM_STRIDE, TICK_HZ, Pwm

from . import Service


def _ioc(direction: int, nr: int, size: int) -> int:
    return direction << 30 | size << 16 | 0xF7 << 8 | nr


PARAMS = struct.Struct("<I IIIB3x II")          # pwm_index, period, duty_cycle, polarity, enabled, ext ptr, ext size
PWM_APPLY_STATE = _ioc(1, 0x01, PARAMS.size)
PWM_GET_STATE = _ioc(3, 0x02, PARAMS.size)
PWM_EXPORT = _ioc(1, 0x03, 4)
PWM_UNEXPORT = _ioc(1, 0x04, 4)
POLARITY_NORMAL, POLARITY_INVERSED = 0, 1
CLOCK_CHOICES = (2, 1, 0)                      # GLO_CTRL tick clock codes, fastest first (26 MHz, 2 MHz, 32 kHz)
GLO_CTRL, CTRL, PARAM_S0 = 0x000, 0x100, 0x104
CTRL_KICK, CTRL_POLARITY, CTRL_IO, CTRL_CLOCK_EN = 0x1, 0x4, 0x8, 0x10


class PwmService(Service):
    name = "pwm"

    def __init__(self, os) -> None:
        super().__init__(os)
        self.controllers = {m.controller: m for m in self.machine.devices.values() if isinstance(m, Pwm)}
        self.states: dict[tuple[int, int], tuple[int, int, int, bool]] = {}
        self.exported: set[tuple[int, int]] = set()
        for n in sorted(self.controllers):
            self.kernel.devices.register(f"/dev/pwm{n}", lambda ctx, n=n: self._open(ctx, n), mode=0o666)

    def _open(self, ctx, controller: int) -> "PwmFile":
        self.require(controller in self.capabilities(ctx).pwm, f"PWM-CONTROLLER-{controller}", ctx)
        return PwmFile(ctx, self, controller)

    def apply(self, controller: int, channel: int, period: int, duty: int, polarity: int, enabled: bool) -> None:
        if polarity not in (POLARITY_NORMAL, POLARITY_INVERSED) or duty > period or (enabled and period == 0):
            raise LinuxError(EINVAL)
        base = PWM_BASE + controller * PWM_STRIDE
        regs = CTRL + 0x10 * channel
        if not enabled:
            self.write32(base + regs, CTRL_IO | (CTRL_POLARITY if polarity == POLARITY_NORMAL else 0))
            self.states[(controller, channel)] = (period, duty, polarity, False)
            return
        others = [ch for (c, ch), s in self.states.items() if c == controller and ch != channel and s[3]]
        current = (self.read32(base + GLO_CTRL) >> 1) & 3
        choices = (current,) if others else CLOCK_CHOICES
        for code in choices:
            hz = TICK_HZ[code]
            total = period * hz // 1_000_000_000
            on = duty * hz // 1_000_000_000
            if 0 < total and total - on <= 0xFFFF and on <= 0xFFFF:
                break
        else:
            raise LinuxError(EINVAL, "period outside what the controller's tick clock can count")
        glo = self.read32(base + GLO_CTRL)
        self.write32(base + GLO_CTRL, (glo & ~0x6 & ~1) | code << 1)
        self.write32(base + regs + 4, on | (total - on) << 16)
        ctrl = CTRL_IO | CTRL_CLOCK_EN | 1 << 8 | (CTRL_POLARITY if polarity == POLARITY_NORMAL else 0)
        self.write32(base + regs, ctrl | CTRL_KICK)
        self.states[(controller, channel)] = (period, duty, polarity, True)


class PwmFile(DeviceFile):
    def __init__(self, ctx, service: PwmService, controller: int) -> None:
        super().__init__(ctx)
        self.service, self.controller = service, controller
        self.exports: set[tuple[int, int]] = set()

    def ioctl(self, request: int, arg: int, memory) -> int:
        svc = self.service
        if request in (PWM_EXPORT, PWM_UNEXPORT):
            channel = memory.read_u32(arg)
            if channel >= CHANNELS:
                raise LinuxError(ENODEV)
            key = (self.controller, channel)
            if request == PWM_EXPORT:
                if key in svc.exported:
                    raise LinuxError(EBUSY)
                svc.exported.add(key)
                self.exports.add(key)
            else:
                if key not in svc.exported:
                    raise LinuxError(ENODEV)
                svc.exported.discard(key)
                self.exports.discard(key)
            return 0
        if request == PWM_APPLY_STATE:
            channel, period, duty, polarity, enabled, _, _ = PARAMS.unpack(memory.read(arg, PARAMS.size))
            if channel >= CHANNELS:
                raise LinuxError(ENODEV)
            svc.apply(self.controller, channel, period, duty, polarity, bool(enabled))
            return 0
        if request == PWM_GET_STATE:
            channel = memory.read_u32(arg)
            if channel >= CHANNELS:
                raise LinuxError(ENODEV)
            period, duty, polarity, enabled = svc.states.get((self.controller, channel), (0, 0, 0, False))
            memory.write(arg, PARAMS.pack(channel, period, duty, polarity, int(enabled), 0, 0))
            return 0
        raise LinuxError(ENOTTY)

    def release(self) -> None:
        # Channels this descriptor exported are given back (the outputs keep running, as after a process exit).
        self.service.exported -= self.exports
