"""C test programs for the A7 (tests/linux/programs/*.c), built by the project's toolchain (zig cc, armhf musl;
dynamic PIE by default, or static) and packed into application packages the emulated OS launches."""
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
               "CmdArgs": list(args), "Capabilities": {"MutableStorage": {"SizeKB": 64}},
               "ApplicationType": "Default"}
        doc.update(manifest or {})
        (root / "app_manifest.json").write_text(json.dumps(doc))
        data = build_application(root, SdkTestSigner(), build_time=0)
    path = OUT / f"{name}-{uuid.uuid5(uuid.NAMESPACE_URL, repr((args, sorted((files or {}).items()))))}.imagepackage"
    path.write_bytes(data)
    return path
