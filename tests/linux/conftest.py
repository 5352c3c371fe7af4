"""Fixtures of the Linux personality's tests: programs from tests/linux/programs/ run on the A7 of a real Machine
(linux_programs.py builds and packs them); the sysroot fixture is the mt3620 plugin's."""
from __future__ import annotations

import pytest

from linux_programs import build, pack


@pytest.fixture
def run_program(boot, sysroot):
    """run_program(name, args=(), static=False, files=None, timeout="5s") -> (device, app, lines): the program
    runs to its exit on the A7; `lines` are its output lines (stdout/stderr/Log_Debug, label a7.<name>)."""

    def _run(name: str, args=(), *, static: bool = False, files=None, timeout: str = "5s", extra=(),
             expect_exit: bool = True):
        elf = build(name, static=static, extra=tuple(extra))
        package = pack(name, elf, args, files)
        dev = boot(hl=package)
        app = dev.app
        if expect_exit:
            dev.wait_for_exit(timeout=timeout)
        return dev, app, dev.lines(f"a7.{name}")

    return _run
