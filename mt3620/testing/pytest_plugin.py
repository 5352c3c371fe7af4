"""pytest fixtures for firmware tests (registered as the `mt3620` pytest plugin by the distribution).

    def test_hello(boot, firmware):
        dev = boot(rt0=firmware("hello"))
        dev.wait_for_line(r"hello: done", timeout="1s")

Fixtures:
- `firmware(name)`: path of one of the project's firmware ELFs, built on demand (mt3620.firmware.toolchain).
- `boot(rt0=..., rt1=..., stop_on_fault=False)`: a booted `Device` (mt3620.testing.device) with the given apps.
"""
from __future__ import annotations

import pytest

from .device import Device


@pytest.fixture
def boot():
    devices: list[Device] = []

    def _boot(rt0=None, rt1=None, **kwargs) -> Device:
        dev = Device.boot(rt0, rt1, **kwargs)
        devices.append(dev)
        return dev

    yield _boot


@pytest.fixture(scope="session")
def firmware():
    from mt3620.firmware import toolchain

    def _path(name: str):
        try:
            return toolchain.firmware_path(name)
        except toolchain.ToolchainError as exc:
            pytest.skip(f"firmware {name} cannot be built here: {exc}")

    return _path
