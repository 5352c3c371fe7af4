"""The emulated Azure Sphere OS's services behind Applibs: one module per service, each putting device nodes (or a
socket family) into the A7's Linux personality with the device-node API (engine/linux/devices.py, docs/a7.md).

Each service is a class taking the SphereOs; `install(os)` creates them all in a fixed order (deterministic node
numbering) and keeps them in `os.services[name]`. A service reaches the peripherals as the A7's kernel drivers
would: register accesses through the A7's bus view (`Service.bus`), interrupt lines of the models, the shared
mailbox channels; it checks the calling app's manifest (`capabilities(ctx)`) and refuses with EACCES.
"""
from __future__ import annotations

from mt3620.engine.linux.abi import EACCES
from mt3620.engine.linux.errors import LinuxError
from mt3620.engine.simulation.access import Access

from ..manifest import Capabilities

# Accesses the OS makes on the A7's behalf: privileged, non-secure (Linux runs in the normal world).
A7_KERNEL_ACCESS = Access("a7", secure=False, privileged=True)


class Service:
    name = ""

    def __init__(self, os) -> None:
        self.os = os
        self.machine = os.machine
        self.kernel = os.kernel

    @property
    def bus(self):
        return self.machine.view("a7")

    def read32(self, address: int) -> int:
        return int.from_bytes(self.bus.read(address, 4, A7_KERNEL_ACCESS), "little")

    def write32(self, address: int, value: int) -> None:
        self.bus.write(address, (value & 0xFFFFFFFF).to_bytes(4, "little"), A7_KERNEL_ACCESS)

    def app(self, ctx):
        """The HighLevelApp that opens (None for the OS itself)."""
        return self.os.app_of(ctx.process)

    def capabilities(self, ctx) -> Capabilities:
        app = self.app(ctx)
        return app.manifest.capabilities if app is not None else Capabilities()

    def require(self, granted: bool, what: str, ctx) -> None:
        if not granted:
            app = self.app(ctx)
            self.os.log_denied(app, what)
            raise LinuxError(EACCES, f"{what} is not in the application manifest")


def install(os) -> dict[str, Service]:
    from .adc import AdcService
    from .application import ApplicationService
    from .gpio import GpioService
    from .i2c import I2cService
    from .intercore import IntercoreService
    from .power import PowerService
    from .pwm import PwmService
    from .rtc import RtcService
    from .spi import SpiService
    from .storage import StorageService
    from .sysevent import SysEventService
    from .uart import UartService
    services = {}
    for cls in (GpioService, UartService, I2cService, SpiService, PwmService, AdcService, StorageService,
                IntercoreService, ApplicationService, SysEventService, PowerService, RtcService):
        svc = cls(os)
        services[svc.name] = svc
    return services
