"""Fixtures of the hostile-input tests (the sysroot is the mt3620 plugin's): the hostile C program (tests/hostile/programs/hostile.c)
built by the project's toolchain, and the helpers of tests/linux and tests/gdb on the import path."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
for folder in (HERE, HERE.parent / "linux", HERE.parent / "gdb"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))


def _build(static: bool) -> Path:
    from mt3620.firmware import toolchain
    name = "hostile-static.elf" if static else "hostile.elf"
    try:
        return toolchain.build_program(toolchain.DEFAULT_OUT / "tests" / name, [HERE / "programs" / "hostile.c"],
                                       static=static)
    except toolchain.ToolchainError as exc:
        if "build failed" in str(exc):
            pytest.fail(f"cannot build hostile.c: {exc}")
        pytest.skip(f"cannot build hostile.c: {exc}")


@pytest.fixture(scope="session")
def hostile_elf(sysroot) -> Path:
    """The hostile program, dynamic PIE (the musl loader, libapplibs)."""
    return _build(static=False)


@pytest.fixture(scope="session")
def hostile_static_elf(sysroot) -> Path:
    return _build(static=True)


@pytest.fixture(scope="session")
def hostile_package(hostile_elf):
    """hostile_package(mode) -> an application package running the program in `mode`."""
    from linux_programs import pack

    def _package(mode: str) -> Path:
        return pack("hostile", hostile_elf, [mode])
    return _package
