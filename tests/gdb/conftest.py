"""Fixtures of the GDB tests: the project's firmware (built on demand) and gdb-multiarch (skip when missing)."""
from __future__ import annotations

import pytest

from gdb_helpers import GDB


def _firmware(name: str):
    try:
        from mt3620.firmware.toolchain import firmware_path
        return firmware_path(name)
    except Exception as exc:  # no compiler on this machine: a setup problem, not a failure of the server
        pytest.skip(f"cannot build the {name} firmware: {exc}")


@pytest.fixture(scope="session")
def gdb_target_elf():
    return _firmware("gdb_target")


@pytest.fixture(scope="session")
def build_firmware():
    return _firmware


@pytest.fixture(scope="session")
def gdb_multiarch():
    if GDB is None:
        pytest.skip("gdb-multiarch is not installed (apt-get install gdb-multiarch; scripts/setup --test does it)")
    return GDB
