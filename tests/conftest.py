"""Shared by every test folder. The `mt3620` pytest plugin (mt3620/testing/pytest_plugin.py) gives the fixtures
(`sysroot`, `boot`, `firmware`, `hl_app`); this file makes the helper modules that several folders use importable
by name: tests/linux/linux_programs.py (builds and packs A7 programs), tests/wifi/pki.py (certificates),
tests/cloud/cloud_helpers.py (the injected clock) and tests/e2e/e2e_helpers.py (the management API client)."""
from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parent
for _shared in ("linux", "wifi", "cloud", "e2e"):
    if str(TESTS / _shared) not in sys.path:
        sys.path.append(str(TESTS / _shared))
