"""Fixtures of the A7 tests: C test programs (tests/linux/programs, built and packed by
tests/linux/linux_programs.py); the sysroot fixture is the mt3620 plugin's."""
from __future__ import annotations

import pytest

from linux_programs import build, pack  # tests/linux/linux_programs.py (tests/conftest.py)


@pytest.fixture
def crash_package(sysroot):
    def _package(kind: str):
        return pack("crash", build("crash"), [kind])
    return _package
