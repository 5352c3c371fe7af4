"""The project's own boot chain: one small signed image per stage, built and signed by the project.

The real MT3620 boots Pluton ROM -> first-stage loader (OneBL) -> Pluton runtime -> security monitor -> normal
world loader -> device tree -> kernel -> root file system, each image signed by Microsoft. Those images are not
public, so the emulated device boots the project's own (release.json beside this file): each payload is a short
text that says which stage it is; its job is to be verified, measured and counted by the emulated Pluton
(peripherals/pluton/secureboot.py), so that attestation evidence carries real measurements of real signed
images and the security service can check them against the releases it knows.

Signing key (emulator-defined): a P-256 key derived from a fixed, public seed (ROOT_KEY_SEED) at build time, so
every checkout builds the same images byte for byte (RFC 6979 signatures) and no private key is committed. The
key is public knowledge, like the SDK test key: it proves nothing outside the emulator. The emulated device's
ROM keystore holds its public half (engine/machine/models.py make_pluton).

    python -m mt3620.firmware.boot [--out DIR]      writes DIR/<NN>-<stage>.imagepackage and release-manifest.json
(scripts/build_firmware runs it into firmware/build/boot/.)
"""
from __future__ import annotations

import argparse
import functools
import hashlib
import json
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from mt3620.attestation import Measurement, public_key_to_raw
from mt3620.imagepackage import KeySigner, build_image, content_digest, parse

HERE = Path(__file__).resolve().parent
RELEASE_FILE = HERE / "release.json"
DEFAULT_OUT = HERE.parent / "build" / "boot"
ROOT_KEY_SEED = b"MT3620-EMU project root signing key v1 (a public seed: this key signs emulator images only)"
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


@functools.lru_cache(maxsize=None)
def root_signer() -> KeySigner:
    scalar = int.from_bytes(hashlib.sha256(ROOT_KEY_SEED).digest(), "big") % (P256_ORDER - 1) + 1
    return KeySigner(ec.derive_private_key(scalar, ec.SECP256R1()))


def rom_keys() -> dict[bytes, bytes]:
    """The ROM keystore of the emulated device: thumbprint -> X||Y of the project's root key."""
    signer = root_signer()
    return {signer.thumbprint: public_key_to_raw(signer.public_key)}


@dataclass(frozen=True)
class Release:
    os_version: str
    chain: tuple[int, ...]                 # image types in boot order
    images: dict                           # image type -> signed image bytes
    names: dict                            # image type -> stage name

    def measurements(self) -> list[Measurement]:
        """What a device that booted this release measures (secureboot.py: SHA-256 of payload || metadata)."""
        out = []
        for image_type in self.chain:
            pkg = parse(self.images[image_type])
            out.append(Measurement(image_type, pkg.security_version, pkg.component_id, pkg.image_id,
                                   content_digest(pkg.signed)))
        return out


def _stage_payload(stage: dict, os_version: str, build: str) -> bytes:
    lines = ["MT3620-EMU BOOT STAGE v1", f"stage: {stage['name']}", f"image-type: {stage['image_type']}",
             f"os-version: {os_version}", f"security-version: {stage['security_version']}", f"build: {build}",
             f"role: {stage['role']}"]
    return ("\n".join(lines) + "\n").encode()


@functools.lru_cache(maxsize=16)
def release(security_versions: tuple[tuple[int, int], ...] = (), build: str = "1",
            os_version: str | None = None) -> Release:
    """The project's boot images, signed. `security_versions` ((image type, version), ...) and `build` make
    another release of the same stages (tests of OS updates and rollback); the default is release.json as is."""
    spec = json.loads(RELEASE_FILE.read_text())
    overrides = dict(security_versions)
    version = os_version or spec["os_version"]
    images, names = {}, {}
    for stage in spec["stages"]:
        stage = dict(stage, security_version=overrides.get(stage["image_type"], stage["security_version"]))
        images[stage["image_type"]] = build_image(
            _stage_payload(stage, version, build), stage["image_type"], uuid.UUID(stage["component"]),
            root_signer(), name=stage["name"], build_time=int(spec["build_time"]),
            security_version=stage["security_version"])
        names[stage["image_type"]] = stage["name"]
    return Release(version, tuple(s["image_type"] for s in spec["stages"]), images, names)


def os_version_of(rootfs_image: bytes) -> str | None:
    """The os-version line of a RootFs stage image (what the booted device reports to the service)."""
    try:
        text = parse(rootfs_image).payload.rstrip(b"\0").decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    for line in text.splitlines():
        if line.startswith("os-version: "):
            return line.split(": ", 1)[1].strip()
    return None


def write_release(out_dir: str | Path = DEFAULT_OUT) -> list[Path]:
    """Write the default release's images and a manifest of their measurements into `out_dir`."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rel = release()
    written = []
    for index, image_type in enumerate(rel.chain):
        path = out / f"{index:02d}-{rel.names[image_type]}.imagepackage"
        if not path.is_file() or path.read_bytes() != rel.images[image_type]:
            path.write_bytes(rel.images[image_type])
        written.append(path)
    manifest = {"os_version": rel.os_version, "signer_thumbprint": root_signer().thumbprint.hex(),
                "stages": [{"image_type": m.image_type, "name": rel.names[m.image_type], "image_id": str(m.image_id),
                            "component_id": str(m.component_id), "security_version": m.security_version,
                            "measurement": m.sha256.hex(), "file": written[i].name}
                           for i, m in enumerate(rel.measurements())]}
    (out / "release-manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mt3620.firmware.boot", description="build and sign the "
                                     "project's boot chain images")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help=f"output folder (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    try:
        paths = write_release(args.out)
    except OSError as exc:
        print(f"boot images: error: {exc}", file=sys.stderr)
        return 2
    for path in paths:
        print(f"{path.stem:<28} signed     {path} ({path.stat().st_size} bytes)")
    print(f"boot images: {len(paths)} stages of OS {release().os_version}, signer {root_signer().thumbprint.hex()}")
    return 0


__all__ = ["Release", "os_version_of", "release", "rom_keys", "root_signer", "write_release"]
