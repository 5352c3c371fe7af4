"""GPIO: the Linux GPIO character device (uapi v1) that libapplibs' GPIO_OpenAsOutput/OpenAsInput/GetValue/SetValue
use, over the GPIO block models.

Interface: include/uapi/linux/gpio.h of the Azure Sphere kernel (crpietschmann/AzureSphereOS
Linux-kernel/linux/include/uapi/linux/gpio.h): GPIO_GET_CHIPINFO_IOCTL, GPIO_GET_LINEINFO_IOCTL,
GPIO_GET_LINEHANDLE_IOCTL (a new descriptor for the requested lines, with direction, open-drain/open-source and
initial values) and, on that descriptor, GPIOHANDLE_GET/SET_LINE_VALUES_IOCTL. The Azure Sphere kernel adds
per-user pin access control (GPIO_SET_PIN_ACCESS_CONTROL_USER) set by the application manager from the manifest;
here the manifest's Gpio list is checked directly: a line the app was not granted gives EACCES.

Emulator-defined (docs/EMULATOR-DEFINED.md): one chip, /dev/gpiochip0, whose line offset is the GPIO number; the
lines that exist are the pins of the modelled GPIO blocks (GPIO 0-23). A line is held by one handle at a time
(EBUSY), as gpiolib does.

The driver programs the GPIO block registers through the A7's bus view (gpio_block.py: DOUT/OE/IES with their
SET/RESET aliases, DIN). Open drain drives low or releases the pad (OE off); open source drives high or releases.
"""
from __future__ import annotations

import struct

from mt3620.engine.linux.abi import EBUSY, EINVAL, ENODEV, ENOTTY
from mt3620.engine.linux.devices import DeviceFile
from mt3620.engine.linux.errors import LinuxError
from mt3620.peripherals.gpio.gpio_block import GPIO_BLOCK_BASE, GPIO_BLOCK_STRIDE, GpioBlock

from . import Service


def _ioc(direction: int, kind: int, nr: int, size: int) -> int:
    return direction << 30 | size << 16 | kind << 8 | nr


IOC_WRITE, IOC_READ = 1, 2
GPIO_GET_CHIPINFO_IOCTL = _ioc(IOC_READ, 0xB4, 0x01, 68)
GPIO_GET_LINEINFO_IOCTL = _ioc(IOC_READ | IOC_WRITE, 0xB4, 0x02, 72)
GPIO_GET_LINEHANDLE_IOCTL = _ioc(IOC_READ | IOC_WRITE, 0xB4, 0x03, 364)
GPIOHANDLE_GET_LINE_VALUES_IOCTL = _ioc(IOC_READ | IOC_WRITE, 0xB4, 0x08, 64)
GPIOHANDLE_SET_LINE_VALUES_IOCTL = _ioc(IOC_READ | IOC_WRITE, 0xB4, 0x09, 64)

GPIOHANDLES_MAX = 64
REQUEST_INPUT, REQUEST_OUTPUT, REQUEST_ACTIVE_LOW, REQUEST_OPEN_DRAIN, REQUEST_OPEN_SOURCE = 1, 2, 4, 8, 16
LINE_FLAG_KERNEL, LINE_FLAG_IS_OUT, LINE_FLAG_ACTIVE_LOW, LINE_FLAG_OPEN_DRAIN, LINE_FLAG_OPEN_SOURCE = 1, 2, 4, 8, 16
REQUEST_STRUCT = struct.Struct("<64I I 64s 32s I i")       # lineoffsets, flags, default_values, label, lines, fd

# GPIO block registers (peripherals/gpio/gpio_block.py)
DIN, DOUT, OE, IES = 0x04, 0x10, 0x20, 0x60
SET, RESET = 0x4, 0x8
CHIP_PATH = "/dev/gpiochip0"


class GpioService(Service):
    name = "gpio"

    def __init__(self, os) -> None:
        super().__init__(os)
        self.blocks = {pin: model for model in self.machine.devices.values() if isinstance(model, GpioBlock)
                       for pin in model.pins}
        self.line_count = max(self.blocks) + 1 if self.blocks else 0
        self.held: dict[int, "LineHandle"] = {}
        self.kernel.devices.register(CHIP_PATH, lambda ctx: GpioChip(ctx, self), mode=0o666)

    # ---- the pins, through the GPIO block registers ----------------------------------------------------------------
    def _reg(self, pin: int, offset: int) -> tuple[int, int]:
        block = pin // 4
        return GPIO_BLOCK_BASE + block * GPIO_BLOCK_STRIDE + offset, 1 << (pin % 4)

    def configure(self, pin: int, output: bool, drive: int | None) -> None:
        """output: OE on/off; drive: the DOUT bit to set first (None: leave it)."""
        if drive is not None:
            address, bit = self._reg(pin, DOUT + (SET if drive else RESET))
            self.write32(address, bit)
        address, bit = self._reg(pin, IES + SET)
        self.write32(address, bit)
        address, bit = self._reg(pin, OE + (SET if output else RESET))
        self.write32(address, bit)

    def level(self, pin: int) -> int:
        address, bit = self._reg(pin, DIN)
        return 1 if self.read32(address) & bit else 0

    def exists(self, pin: int) -> bool:
        return pin in self.blocks


class GpioChip(DeviceFile):
    def __init__(self, ctx, service: GpioService) -> None:
        super().__init__(ctx)
        self.service = service

    def ioctl(self, request: int, arg: int, memory) -> int:
        svc = self.service
        if request == GPIO_GET_CHIPINFO_IOCTL:
            memory.write(arg, struct.pack("<32s32sI", b"gpiochip0", b"mt3620-gpio", svc.line_count))
            return 0
        if request == GPIO_GET_LINEINFO_IOCTL:
            offset = memory.read_u32(arg)
            if offset >= svc.line_count:
                raise LinuxError(EINVAL)
            flags, consumer = 0, b""
            holder = svc.held.get(offset)
            if holder is not None:
                flags = LINE_FLAG_KERNEL | holder.line_flags
                consumer = holder.label
            memory.write(arg, struct.pack("<II32s32s", offset, flags, f"GPIO{offset}".encode(), consumer))
            return 0
        if request == GPIO_GET_LINEHANDLE_IOCTL:
            return self._linehandle(arg, memory)
        raise LinuxError(ENOTTY)

    def _linehandle(self, arg: int, memory) -> int:
        svc = self.service
        values = REQUEST_STRUCT.unpack(memory.read(arg, REQUEST_STRUCT.size))
        offsets, (flags, defaults, label, lines, _) = values[:GPIOHANDLES_MAX], values[GPIOHANDLES_MAX:]
        if not 0 < lines <= GPIOHANDLES_MAX:
            raise LinuxError(EINVAL)
        pins = list(offsets[:lines])
        output, input_ = bool(flags & REQUEST_OUTPUT), bool(flags & REQUEST_INPUT)
        if output == input_ or (flags & REQUEST_OPEN_DRAIN and flags & REQUEST_OPEN_SOURCE) or \
                (not output and flags & (REQUEST_OPEN_DRAIN | REQUEST_OPEN_SOURCE)) or flags & ~0x1F:
            raise LinuxError(EINVAL)
        caps = svc.capabilities(self.context)
        for pin in pins:
            svc.require(pin in caps.gpio, f"GPIO {pin}", self.context)
        for pin in pins:
            if not svc.exists(pin):
                raise LinuxError(ENODEV, f"GPIO {pin} is not modelled")
            if pin in svc.held:
                raise LinuxError(EBUSY)
        handle = LineHandle(self.context, svc, pins, flags, label.split(b"\0")[0][:31])
        for i, pin in enumerate(pins):
            handle.apply(i, defaults[i] & 1)
        fd = self.context.process.install(handle, cloexec=True)
        memory.write(arg + REQUEST_STRUCT.size - 4, struct.pack("<i", fd))
        return 0


class LineHandle(DeviceFile):
    """The descriptor GPIO_GET_LINEHANDLE_IOCTL returns (anon_inode:gpio-linehandle)."""

    def __init__(self, ctx, service: GpioService, pins: list[int], flags: int, label: bytes) -> None:
        super().__init__(ctx)
        self.path = "anon_inode:gpio-linehandle"
        self.service, self.pins, self.request_flags, self.label = service, pins, flags, label
        self.output = bool(flags & REQUEST_OUTPUT)
        self.line_flags = (LINE_FLAG_IS_OUT if self.output else 0) | (flags & (REQUEST_ACTIVE_LOW |
                                                                               REQUEST_OPEN_DRAIN |
                                                                               REQUEST_OPEN_SOURCE))
        for pin in pins:
            service.held[pin] = self
        if not self.output:
            for pin in pins:
                service.configure(pin, False, None)

    def apply(self, index: int, value: int) -> None:
        if not self.output:
            return
        level = value ^ (1 if self.request_flags & REQUEST_ACTIVE_LOW else 0)
        pin = self.pins[index]
        if self.request_flags & REQUEST_OPEN_DRAIN:
            self.service.configure(pin, not level, 0)          # drive low, or release
        elif self.request_flags & REQUEST_OPEN_SOURCE:
            self.service.configure(pin, bool(level), 1)        # drive high, or release
        else:
            self.service.configure(pin, True, level)

    def ioctl(self, request: int, arg: int, memory) -> int:
        if request == GPIOHANDLE_GET_LINE_VALUES_IOCTL:
            invert = 1 if self.request_flags & REQUEST_ACTIVE_LOW else 0
            values = bytes(self.service.level(pin) ^ invert for pin in self.pins)
            memory.write(arg, values.ljust(GPIOHANDLES_MAX, b"\0"))
            return 0
        if request == GPIOHANDLE_SET_LINE_VALUES_IOCTL:
            if not self.output:
                raise LinuxError(1)        # EPERM: gpiolib refuses to set an input line
            values = memory.read(arg, GPIOHANDLES_MAX)
            for i in range(len(self.pins)):
                self.apply(i, values[i] & 1)
            return 0
        raise LinuxError(ENOTTY)

    def release(self) -> None:
        for pin in self.pins:
            if self.service.held.get(pin) is self:
                del self.service.held[pin]
