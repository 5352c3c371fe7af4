"""Fixtures of the Wi-Fi model tests: certificates (pki.py) and small radio environments."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def hl_wifi_elf(sysroot):
    from mt3620.firmware import toolchain
    toolchain.build_hl_app("hl_wifi")
    return toolchain.DEFAULT_OUT / "hl_wifi.elf"


@pytest.fixture
def wifi_app(hl_wifi_elf):
    """wifi_app(args, files=None, capabilities=None) -> a package of hl_wifi with these CmdArgs."""
    from linux_programs import pack
    default_caps = {"WifiConfig": True, "EnterpriseWifiConfig": True, "NetworkConfig": True,
                    "TimeSyncConfig": True, "CertStore": True}

    def make(args, files=None, capabilities=None, name="hl_wifi"):
        return pack(name, hl_wifi_elf, list(args), files,
                    manifest={"Capabilities": default_caps if capabilities is None else capabilities})
    return make
