"""Fixtures for the device tests: an emulated board with its state in a temporary folder, and app packages built
from the project's firmware with any manifest."""
from __future__ import annotations

import pytest


@pytest.fixture
def board(tmp_path):
    """`board(name="dev", development=True)` -> a powered-on EmulatedDevice with its state in tmp_path/name."""
    from mt3620.sphere_os.device import EmulatedDevice
    made = []

    def _board(name: str = "dev", development: bool = True, **kwargs):
        dev = EmulatedDevice(tmp_path / name, **kwargs)
        dev.power_on()
        if development:
            dev.enable_development()
        made.append(dev)
        return dev

    yield _board
    for dev in made:
        dev.close()


@pytest.fixture(scope="session")
def rt_elf():
    from mt3620.firmware import toolchain

    def _elf(name: str) -> bytes:
        try:
            return toolchain.firmware_path(name).read_bytes()
        except toolchain.ToolchainError as exc:
            pytest.skip(f"firmware {name} cannot be built here: {exc}")
    return _elf
