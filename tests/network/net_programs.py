"""C programs of the network tests (tests/network/programs/*.c), built with the project's toolchain and packed
into application packages (reusing tests/linux/linux_programs.py's packer)."""
from __future__ import annotations

from pathlib import Path

import pytest

from linux_programs import pack  # noqa: F401  (tests/linux, importable through tests/conftest.py)
from mt3620.firmware import toolchain

HERE = Path(__file__).resolve().parent
PROGRAMS = HERE / "programs"
OUT = toolchain.DEFAULT_OUT / "tests" / "network"


def build(name: str, *, sources: tuple[Path, ...] = (), extra: tuple[str, ...] = ()) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    try:
        return toolchain.build_program(OUT / f"{name}.elf", [PROGRAMS / f"{name}.c", *sources], extra=extra)
    except toolchain.ToolchainError as exc:
        if "build failed" in str(exc):
            pytest.fail(f"cannot build {name}: {exc}")
        pytest.skip(f"cannot build {name}: {exc}")
