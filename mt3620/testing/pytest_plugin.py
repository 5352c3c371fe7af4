"""pytest fixtures for firmware tests (registered as the `mt3620` pytest plugin by the distribution).

    def test_hello(boot, firmware):
        dev = boot(rt0=firmware("hello"))
        dev.wait_for_line(r"hello: done", timeout="1s")

Fixtures:
- `firmware(name)`: path of one of the project's firmware ELFs, built on demand (mt3620.firmware.toolchain).
- `hl_app(name)`: path of one of the project's high-level app packages (firmware/hl_<name>/), built on demand;
  skips when the A7 sysroot (Debian's musl:armhf, `scripts/build_firmware --sysroot`) is missing.
- `boot(rt0=..., rt1=..., hl=..., stop_on_fault=False)`: a booted `Device` (mt3620.testing.device) with the given
  apps: RTApps on the IO cores, a high-level app package on the A7.
"""
from __future__ import annotations

import os

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
            if os.environ.get("CI") == "true":     # CI installs the toolchain (scripts/setup): missing is a failure
                pytest.fail(f"firmware {name} cannot be built: {exc}")
            pytest.skip(f"firmware {name} cannot be built here: {exc}")

    return _path


@pytest.fixture(scope="session")
def hl_app():
    from mt3620.firmware import toolchain

    def _path(name: str):
        try:
            toolchain.check_sysroot()
            return toolchain.hl_app_path(name)
        except toolchain.ToolchainError as exc:
            if os.environ.get("CI") == "true":     # CI installs the sysroot (scripts/setup): missing is a failure
                pytest.fail(f"high-level app {name} cannot run: {exc}")
            pytest.skip(f"high-level app {name} cannot run here: {exc}")

    return _path
