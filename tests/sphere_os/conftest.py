"""Fixtures of the OS-service tests: run_c (a program of tests/sphere_os/programs run to its exit)."""
from __future__ import annotations

import pytest

from os_programs import pack_c


@pytest.fixture
def run_c(sysroot, tmp_path):
    """run_c(name, capabilities, args=(), timeout="2s") -> the program's Log_Debug lines after it exited 0."""
    from mt3620.testing.device import Device

    def _run(name: str, capabilities: dict, args=(), timeout: str = "2s", component_id: str | None = None,
             **boot):
        dev = Device.boot(hl=pack_c(name, capabilities, tmp_path, args, component_id=component_id), **boot)
        code = dev.wait_for_exit(timeout=timeout)
        lines = dev.lines(f"a7.{name}")
        assert code == 0, lines
        return lines

    return _run
