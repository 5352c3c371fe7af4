"""Fixtures of the OS-service tests: the sysroot, and small C programs (tests/sphere_os/programs/*.c) built
against the project's Applibs headers and libapplibs, packed with a manifest the test gives."""
from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def sysroot():
    from mt3620.firmware import toolchain
    try:
        return toolchain.check_sysroot()
    except toolchain.ToolchainError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(str(exc))
        pytest.skip(str(exc))


def build_c(name: str) -> Path:
    from mt3620.firmware import toolchain
    src = HERE / "programs" / f"{name}.c"
    return toolchain.build_program(toolchain.DEFAULT_OUT / "tests" / "sphere_os" / f"{name}.elf", [src])


def pack_c(name: str, capabilities: dict, out_dir: Path, args=(), component_id: str | None = None,
           app_name: str | None = None) -> Path:
    from mt3620.imagepackage import SdkTestSigner, build_application
    root = out_dir / f"{name}-root"
    if root.exists():
        shutil.rmtree(root)
    (root / "bin").mkdir(parents=True)
    shutil.copyfile(build_c(name), root / "bin" / "app")
    cid = component_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"mt3620-emulator/tests/sphere_os/{name}"))
    manifest = {"SchemaVersion": 1, "Name": app_name or name, "ComponentId": cid, "EntryPoint": "/bin/app",
                "CmdArgs": list(args), "Capabilities": capabilities, "ApplicationType": "Default"}
    (root / "app_manifest.json").write_text(json.dumps(manifest))
    package = out_dir / f"{name}.imagepackage"
    package.write_bytes(build_application(root, SdkTestSigner(), build_time=0))
    return package


@pytest.fixture
def run_c(sysroot, tmp_path):
    """run_c(name, capabilities, args=(), timeout="2s") -> the program's Log_Debug lines after it exited 0."""
    from mt3620.testing.device import Device

    def _run(name: str, capabilities: dict, args=(), timeout: str = "2s", component_id: str | None = None,
             **boot):
        dev = Device.boot(hl=pack_c(name, capabilities, tmp_path, args, component_id=component_id), **boot)
        code = dev.wait_for_exit(timeout=timeout)
        lines = dev.lines(f"a7.{name}")
        assert code == 0, lines
        return lines

    return _run
