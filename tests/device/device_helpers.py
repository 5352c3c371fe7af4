"""Helpers of the device tests: app packages built from any ELF and manifest, RTApp manifests, waiting for lines."""
from __future__ import annotations

import json
import uuid
from pathlib import Path

from mt3620.engine.simulation.clock import parse_duration


def pack(elf: bytes, manifest: dict, signer=None, **kwargs) -> bytes:
    """An application image package holding `elf` as bin/app and `manifest`, signed with the SDK test key (or
    `signer`)."""
    import tempfile
    from mt3620.imagepackage import SdkTestSigner, build_application
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "bin").mkdir()
        (root / "bin" / "app").write_bytes(elf)
        (root / "app_manifest.json").write_text(json.dumps(manifest))
        return build_application(root, signer or SdkTestSigner(), build_time=0, **kwargs)


def rt_manifest(name: str, caps: dict | None = None, component: str | None = None) -> dict:
    return {"SchemaVersion": 1, "Name": name, "ComponentId": component or str(uuid.uuid5(uuid.NAMESPACE_DNS, name)),
            "EntryPoint": "/bin/app", "CmdArgs": [], "Capabilities": caps or {}, "ApplicationType": "RealTimeCapable"}


def run_until(dev, pattern: str, within: str = "1s", uart: str | None = None):
    import re
    regex = re.compile(pattern)
    taps = dev.machine.uarts
    result = dev.machine.run(duration_ps=parse_duration(within),
                             until=lambda: any(regex.search(line) for label, tap in taps.items()
                                               if uart is None or label == uart for line in tap.lines))
    assert result.reason == "condition", f"/{pattern}/ not seen within {within}: " + \
        "\n".join(f"[{label}] {line}" for label, tap in taps.items() for line in tap.lines[-20:])
    return result
