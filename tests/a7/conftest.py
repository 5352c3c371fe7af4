"""Fixtures of the A7 tests: the sysroot, and C test programs (tests/linux/programs, built and packed by
tests/linux/linux_programs.py)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

LINUX_TESTS = Path(__file__).resolve().parent.parent / "linux"
if str(LINUX_TESTS) not in sys.path:
    sys.path.insert(0, str(LINUX_TESTS))

from linux_programs import build, pack  # noqa: E402  (tests/linux/linux_programs.py)


@pytest.fixture(scope="session")
def sysroot():
    from mt3620.firmware import toolchain
    try:
        return toolchain.check_sysroot()
    except toolchain.ToolchainError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(str(exc))
        pytest.skip(str(exc))


@pytest.fixture
def crash_package(sysroot):
    def _package(kind: str):
        return pack("crash", build("crash"), [kind])
    return _package
