"""Helpers for the Linux personality's tests: C programs in tests/linux/programs/ are built by the project's
toolchain (zig cc, armhf musl; dynamic PIE by default, or static) and packed into application packages that the
emulated OS launches on the A7 of a real Machine."""
from __future__ import annotations

import json
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest

from mt3620.firmware import toolchain

HERE = Path(__file__).resolve().parent
PROGRAMS = HERE / "programs"
OUT = toolchain.DEFAULT_OUT / "tests"


def component_id(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"mt3620-emulator/tests/{name}"))


def build(name: str, *, static: bool = False, extra: tuple[str, ...] = ()) -> Path:
    suffix = ("-static" if static else "") + ("-" + "-".join(e.strip("-") for e in extra) if extra else "")
    try:
        return toolchain.build_program(OUT / f"{name}{suffix}.elf", [PROGRAMS / f"{name}.c"], static=static,
                                       extra=extra)
    except toolchain.ToolchainError as exc:
        if "build failed" in str(exc):
            pytest.fail(f"cannot build {name}: {exc}")
        pytest.skip(f"cannot build {name}: {exc}")


def pack(name: str, elf: Path, args: list[str] | tuple[str, ...] = (), files: dict[str, bytes] | None = None,
         manifest: dict | None = None) -> Path:
    from mt3620.imagepackage import SdkTestSigner, build_application
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=OUT) as tmp:
        root = Path(tmp)
        (root / "bin").mkdir()
        shutil.copyfile(elf, root / "bin" / "app")
        for rel, data in (files or {}).items():
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        doc = {"SchemaVersion": 1, "Name": name, "ComponentId": component_id(name), "EntryPoint": "/bin/app",
               "CmdArgs": list(args), "Capabilities": {}, "ApplicationType": "Default"}
        doc.update(manifest or {})
        (root / "app_manifest.json").write_text(json.dumps(doc))
        data = build_application(root, SdkTestSigner(), build_time=0)
    path = OUT / f"{name}-{uuid.uuid5(uuid.NAMESPACE_URL, repr((args, sorted((files or {}).items()))))}.imagepackage"
    path.write_bytes(data)
    return path


@pytest.fixture(scope="session")
def sysroot():
    try:
        return toolchain.check_sysroot()
    except toolchain.ToolchainError as exc:
        import os
        if os.environ.get("CI") == "true":
            pytest.fail(str(exc))
        pytest.skip(str(exc))


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
