"""Small C programs for the OS-service tests (tests/sphere_os/programs/*.c), built against the project's Applibs
headers and libapplibs and packed with the manifest a test gives."""
from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent


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
