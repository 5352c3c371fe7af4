"""Application: what application.h needs of the OS besides intercore sockets (intercore.py):
Application_IsDeviceAuthReady, answered from the OS's device-authentication state.

Emulator-defined (docs/a7.md, docs/EMULATOR-DEFINED.md): the node /dev/azure-sphere/application and its ioctl
AZSP_APP_DEVICE_AUTH_READY (_IOR(0xA5, 0x01, u32)); the state is `SphereOs.device_auth_ready`, false until the OS
agent (or a test) says the device holds its device-authentication certificate: attestation succeeded.
"""
from __future__ import annotations

from mt3620.engine.linux.abi import ENOTTY
from mt3620.engine.linux.devices import DeviceFile
from mt3620.engine.linux.errors import LinuxError

from . import Service


def _ioc(direction: int, nr: int, size: int) -> int:
    return direction << 30 | size << 16 | 0xA5 << 8 | nr


APP_DEVICE_AUTH_READY = _ioc(2, 0x01, 4)
NODE = "/dev/azure-sphere/application"


class ApplicationService(Service):
    name = "application"

    def __init__(self, os) -> None:
        super().__init__(os)
        self.kernel.devices.register(NODE, lambda ctx: ApplicationFile(ctx, self), mode=0o444)


class ApplicationFile(DeviceFile):
    def __init__(self, ctx, service: ApplicationService) -> None:
        super().__init__(ctx)
        self.service = service

    def ioctl(self, request: int, arg: int, memory) -> int:
        if request == APP_DEVICE_AUTH_READY:
            memory.write_u32(arg, 1 if self.service.os.device_auth_ready else 0)
            return 0
        raise LinuxError(ENOTTY)
