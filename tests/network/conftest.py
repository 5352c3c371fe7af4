"""Fixtures of the network tests: the sysroot, programs (net_programs.py), certificates (tests/wifi/pki.py)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
for extra in (HERE, HERE.parent / "wifi"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))


@pytest.fixture(scope="session")
def sysroot():
    from mt3620.firmware import toolchain
    try:
        return toolchain.check_sysroot()
    except toolchain.ToolchainError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(str(exc))
        pytest.skip(str(exc))
