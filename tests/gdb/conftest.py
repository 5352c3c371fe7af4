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


@pytest.fixture(scope="session")
def sysroot_loader(sysroot):
    """The musl dynamic loader the A7 app runs (the file behind /lib/ld-musl-armhf.so.1)."""
    return (sysroot / "lib" / "ld-musl-armhf.so.1").resolve()


@pytest.fixture(scope="session")
def applibs_symbols(sysroot):
    """Offsets of libapplibs.so.0's functions in the library (Thumb bit cleared)."""
    from elftools.elf.elffile import ELFFile
    out = {}
    with open(sysroot / "usr" / "lib" / "libapplibs.so.0", "rb") as f:
        for section in ("symtab", "dynsym"):
            table = ELFFile(f).get_section_by_name(f".{section}")
            for sym in table.iter_symbols() if table is not None else ():
                if sym["st_info"]["type"] == "STT_FUNC" and sym["st_value"]:
                    out.setdefault(sym.name, sym["st_value"] & ~1)
    return out
