"""Malformed and bit-flipped application packages through `mt3620 run --hl` (in-process, as the console script
runs it): truncated files, flipped bits anywhere, flips inside the ASXipFS headers with the CRC made right again,
garbage metadata, and app manifests that are not JSON, the wrong types, or nested thousands deep. Every run
exits 0..3 with no traceback; bad input is exit 2 with one line."""
import contextlib
import io
import json
import random
import struct
import uuid
import zlib

import pytest

from mt3620.cli import main
from mt3620.imagepackage import SdkTestSigner, asxipfs
from mt3620.imagepackage.metadata import IMAGE_TYPE_APPLICATIONS
from mt3620.imagepackage.package import build_image

COMPONENT = "2bd8b7a6-6b3e-4ac1-8a47-bb3c3fd1a5ff"
GOOD_MANIFEST = {"SchemaVersion": 1, "Name": "hostile", "ComponentId": COMPONENT, "EntryPoint": "/bin/app",
                 "CmdArgs": ["fork"], "ApplicationType": "Default",
                 "Capabilities": {"Gpio": [8], "Uart": ["ISU0"], "MutableStorage": {"SizeKB": 8},
                                  "AllowedApplicationConnections": []}}
VALUES = [None, True, 0, -1, 2**64, 1.5, "", "x", "/", "/bin/app\0x", "../../../etc/passwd", "/bin", "/bin/app/",
          "/app_manifest.json", [], [1], ["a" * 5000], {}, {"a": 1}, "$SAMPLE_LED", ["ISU99"], [-1, 1e300]]
FIELDS = list(GOOD_MANIFEST) + ["Capabilities.Gpio", "Capabilities.Uart", "Capabilities.MutableStorage",
                                "Capabilities.MutableStorage.SizeKB", "Capabilities.AllowedApplicationConnections",
                                "TargetApplicationRuntimeVersion"]


def run_hl(tmp_path, data: bytes, name: str) -> tuple[int, str]:
    path = tmp_path / f"{name}.imagepackage"
    path.write_bytes(data)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["run", "--hl", str(path), "--for", "30ms", "--quiet"])
    text = err.getvalue()
    assert "Traceback" not in text and "raised inside the emulator" not in text, text
    assert code in (0, 1, 2, 3), text
    if code == 2:
        errors = [line for line in text.splitlines() if "error" in line]
        assert len(errors) == 1, text
    return code, text


def package(manifest: bytes, elf: bytes) -> bytes:
    fs = asxipfs.build({"/app_manifest.json": (manifest, 0o644), "/bin/app": (elf, 0o755)})
    return build_image(fs, IMAGE_TYPE_APPLICATIONS, uuid.UUID(COMPONENT), SdkTestSigner())


def flipped(data: bytes, rng: random.Random) -> bytes:
    d = bytearray(data)
    fs_size, = struct.unpack_from("<I", d, 4)
    kind = rng.randrange(4)
    if kind == 0:
        return bytes(d[:rng.randrange(len(d))])
    if kind == 1:
        for _ in range(rng.randrange(1, 4)):
            d[rng.randrange(len(d))] ^= 1 << rng.randrange(8)
    elif kind == 2:        # inside the file system's inodes, the CRC recomputed so the parser looks deeper
        for _ in range(rng.randrange(1, 4)):
            d[rng.randrange(0x40, 0x200)] ^= 1 << rng.randrange(8)
        d[asxipfs.CRC_OFFSET:asxipfs.CRC_OFFSET + 4] = bytes(4)
        struct.pack_into("<I", d, asxipfs.CRC_OFFSET, zlib.crc32(bytes(d[:fs_size])))
    else:                  # the metadata sections after the file system
        for _ in range(rng.randrange(1, 4)):
            d[rng.randrange(fs_size, len(d))] = rng.getrandbits(8)
    return bytes(d)


@pytest.mark.parametrize("batch", range(3))
def test_bit_flipped_packages(tmp_path, hostile_elf, batch):
    good = package(json.dumps(GOOD_MANIFEST).encode(), hostile_elf.read_bytes())
    codes = set()
    for seed in range(batch * 15, batch * 15 + 15):
        codes.add(run_hl(tmp_path, flipped(good, random.Random(seed)), f"flip{seed}")[0])
    assert 2 in codes


@pytest.mark.parametrize("batch", range(3))
def test_malformed_manifests(tmp_path, hostile_elf, batch):
    elf = hostile_elf.read_bytes()
    for seed in range(batch * 15, batch * 15 + 15):
        rng = random.Random(seed)
        doc = json.loads(json.dumps(GOOD_MANIFEST))
        for _ in range(rng.randrange(1, 4)):
            *parents, last = rng.choice(FIELDS).split(".")
            node = doc
            for key in parents:
                node = node.get(key) if isinstance(node, dict) else None
            if isinstance(node, dict):
                if rng.random() < 0.2:
                    node.pop(last, None)
                else:
                    node[last] = rng.choice(VALUES)
        text = json.dumps(doc).encode()
        if seed % 5 == 4:
            text = text[:rng.randrange(1, len(text))]            # cut short: not JSON
        run_hl(tmp_path, package(text, elf), f"manifest{seed}")


def test_deeply_nested_manifest_is_one_line(tmp_path, hostile_elf):
    """json.loads gave up with RecursionError, which went through `mt3620 run` as a traceback."""
    code, text = run_hl(tmp_path, package(b"[" * 100_000 + b"]" * 100_000, hostile_elf.read_bytes()), "deep")
    assert code == 2 and "app_manifest.json is nested too deeply" in text
