"""Pluton secure boot: verify, version-check and measure each boot stage, falling back to the backup copy.

Public facts (MT3620-FACTS.md): images carry metadata (ID, SG thumbprint, RV security version) and an ECDSA
P-256 signature; flash holds a runtime and a backup copy of the firmware; anti-rollback uses e-fuses plus the
image's security version number; a device with no valid chain does not boot. Which stages exist and the exact
order of checks are emulator-defined (docs/pluton.md "Boot chain"):

    ROM keystore == fused KEYSTORE_HASH (checked twice, the fuse read twice)
    for each stage: for copy in (primary, backup):
        parse (bounds-checked) -> image type is the stage's (twice) -> SG thumbprint names a trusted key
        -> ECDSA P-256 signature over payload || metadata verifies (twice, on the ECDSA engine)
        -> security version fits the stage's fuse counter (twice) and is >= the fused minimum (twice, the fuse
           read each time)
        -> the measurement (SHA-256 of payload || metadata on the SHA engine, with the declared type, component,
           image ID and version) is appended to the log (at most 20 entries)
    the first copy that passes is booted; when neither passes the chain stops and the result says why.

Every check that matters runs twice on independent evaluations (glitch.py): one skipped evaluation is caught
by the other. The measurement is computed from the bytes that boot, whatever a glitch skipped, so a forged
image that gets through shows its own digest in attestation evidence.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Callable

from mt3620.attestation import MAX_MEASUREMENTS, Measurement
from mt3620.imagepackage import package as pkgmod
from mt3620.imagepackage.metadata import IMAGE_TYPES

from .efuse import EfuseBank
from .engines import Engines
from .glitch import Glitches

# The MT3620 boot chain as the stage names appear in the public image-type list (emulator-defined order):
# OneBL (first-stage loader), PlutonRuntime, SecurityMonitor, NormalWorldLoader, NormalWorldDTB,
# NormalWorldKernel, RootFs.
DEFAULT_CHAIN = (1, 2, 4, 5, 6, 7, 8)
SLOTS = ("primary", "backup")


@dataclass
class BootStage:
    image_type: int
    primary: bytes | None
    backup: bytes | None = None
    name: str = ""

    def __post_init__(self) -> None:
        if not self.name:
            self.name = IMAGE_TYPES.get(self.image_type, f"type{self.image_type}")

    def copy(self, slot: str) -> bytes | None:
        return self.primary if slot == "primary" else self.backup


@dataclass
class StageResult:
    stage: str
    copy: str | None                     # "primary", "backup" or None when both failed
    failures: dict[str, str] = field(default_factory=dict)   # copy -> "reason: message"
    measurement: Measurement | None = None
    image_type: int = 0


@dataclass
class BootResult:
    booted: bool
    stages: list[StageResult]
    measurements: list[Measurement]
    reason: str = ""
    cycles: int = 0            # Pluton cycles the checks took (engines' modelled latency)

    def describe(self) -> list[str]:
        lines = []
        for s in self.stages:
            if s.copy:
                extra = f" (primary failed: {s.failures['primary']})" if "primary" in s.failures else ""
                m = s.measurement
                lines.append(f"{s.stage}: booted {s.copy} copy, security version {m.security_version}, "
                             f"measured {m.sha256.hex()[:16]}...{extra}")
            else:
                lines.append(f"{s.stage}: FAILED: " + "; ".join(f"{k}: {v}" for k, v in s.failures.items()))
        lines.append("boot complete" if self.booted else f"device does not boot: {self.reason}")
        return lines


class TrustedKeystore:
    """The ROM keystore: signer thumbprint -> 64-byte X||Y public key. Its hash is fused at provisioning."""

    def __init__(self, keys: dict[bytes, bytes]) -> None:
        for thumb, pub in keys.items():
            if len(thumb) != 20 or len(pub) != 64:
                raise ValueError("keystore entries are 20-byte thumbprint -> 64-byte public key")
        self.keys = dict(keys)

    def digest(self) -> bytes:
        return hashlib.sha256(b"".join(t + self.keys[t] for t in sorted(self.keys))).digest()


KEYSTORE_IMAGE_TYPE = 19
KEYSTORE_MAGIC = b"MTKS"


def encode_keystore_payload(keys: dict[bytes, bytes]) -> bytes:
    """Payload of a TrustedKeystore (type 19) image, emulator-defined: b"MTKS" | u32 count | count x
    (20-byte thumbprint | 64-byte X||Y), sorted by thumbprint."""
    return KEYSTORE_MAGIC + len(keys).to_bytes(4, "little") + b"".join(t + keys[t] for t in sorted(keys))


def decode_keystore_payload(payload: bytes) -> dict[bytes, bytes]:
    if len(payload) < 8 or payload[:4] != KEYSTORE_MAGIC:
        raise pkgmod.ImagePackageError("bad-keystore", "TrustedKeystore payload has no MTKS header")
    count = int.from_bytes(payload[4:8], "little")
    body = payload[8:]
    # The image payload is padded to 4 bytes, so allow up to 3 trailing zero bytes and nothing else.
    if count > 64 or not 84 * count <= len(body) <= 84 * count + 3 or any(body[84 * count:]):
        raise pkgmod.ImagePackageError("bad-keystore", f"TrustedKeystore claims {count} keys in {len(body)} bytes")
    return {body[84 * i:84 * i + 20]: body[84 * i + 20:84 * i + 84] for i in range(count)}


class SecureBoot:
    def __init__(self, fuses: EfuseBank, keystore: TrustedKeystore, engines: Engines,
                 glitches: Glitches | None = None) -> None:
        self.fuses = fuses
        self.keystore = keystore
        self.engines = engines
        self.glitches = glitches or Glitches()

    def require(self, point: str, holds: Callable[[], bool], reason: str, message: str, twice: bool = True) -> None:
        """A security check, evaluated twice (`point`, then `point#2`) unless `twice` is False. `holds` is called
        afresh for each evaluation, so it re-reads fuses or recomputes a signature check. A glitch on one point
        skips that evaluation only."""
        for where in (point, point + "#2") if twice else (point,):
            if self.glitches.skip(where):
                continue
            if not holds():
                raise pkgmod.ImagePackageError(reason, message)

    def check_signature(self, pkg: pkgmod.ImagePackage, keystore: TrustedKeystore, point: str) -> None:
        pub = keystore.keys.get(pkg.thumbprint)
        self.require(f"{point}.signer", lambda: pub is not None,
                     "untrusted-signer", f"signer {pkg.thumbprint.hex()} is not in the keystore", twice=False)
        self.require(f"{point}.signature", lambda: pub is not None and self.engines.ecdsa.verify(
            pub, pkg.signed.signed_bytes, pkg.signed.signature), "bad-signature", "image signature does not verify")

    def measure(self, pkg: pkgmod.ImagePackage) -> Measurement:
        """The measurement of an image: its declared identity and the SHA-256 (on the SHA engine) of the bytes
        its signature covers, i.e. of its content (mt3620.imagepackage.package.content_digest)."""
        digest = self.engines.sha256.digest(pkg.signed.signed_bytes)
        return Measurement(pkg.image_type, pkg.security_version, pkg.component_id, pkg.image_id, digest)

    def check_image(self, data: bytes, image_type: int, keystore: TrustedKeystore | None = None,
                    enforce_svn: bool = True) -> tuple[pkgmod.ImagePackage, Measurement]:
        """One boot image through every check. Raises pkgmod.ImagePackageError with the failing reason."""
        keystore = keystore or self.keystore
        pkg = pkgmod.parse(data)
        self.require("boot.image-type", lambda: pkg.image_type == image_type, "wrong-image-type",
                     f"image type {pkg.image_type} where {IMAGE_TYPES.get(image_type, image_type)} belongs")
        self.check_signature(pkg, keystore, "boot")
        capacity = self.fuses.counter_capacity(image_type)
        if capacity is not None:
            self.require("boot.svn-width", lambda: pkg.security_version <= capacity, "svn-out-of-range",
                         f"security version {pkg.security_version} does not fit the {capacity}-step anti-rollback "
                         f"counter of {IMAGE_TYPES.get(image_type, image_type)}")
        if enforce_svn:
            self.require("boot.svn", lambda: pkg.security_version >= self.fuses.min_security_version(image_type),
                         "svn-rollback", f"security version {pkg.security_version} is below the fused minimum "
                                         f"{self.fuses.min_security_version(image_type)}")
        if image_type == KEYSTORE_IMAGE_TYPE:
            decode_keystore_payload(pkg.payload)        # a keystore that cannot be read is not booted
        return pkg, self.measure(pkg)

    def boot(self, stages: list[BootStage]) -> BootResult:
        results: list[StageResult] = []
        log: list[Measurement] = []
        active = self.keystore
        expected = self.keystore.digest()
        try:
            self.require("boot.keystore-hash", lambda: self.fuses.read_bytes("KEYSTORE_HASH") == expected,
                         "keystore-mismatch", "the ROM keystore does not match its fused hash")
        except pkgmod.ImagePackageError as exc:
            return BootResult(False, [], [], f"{exc.reason}: {exc}")
        for stage in stages:
            result = StageResult(stage.name, None, image_type=stage.image_type)
            results.append(result)
            for label in SLOTS:
                data = stage.copy(label)
                if data is None:
                    result.failures[label] = "missing: no image in flash"
                    continue
                try:
                    pkg, measurement = self.check_image(data, stage.image_type, active)
                except pkgmod.ImagePackageError as exc:
                    result.failures[label] = f"{exc.reason}: {exc}"
                    continue
                if len(log) >= MAX_MEASUREMENTS:
                    result.failures[label] = f"measurement-log-full: more than {MAX_MEASUREMENTS} stages"
                    break
                result.copy, result.measurement = label, measurement
                log.append(measurement)
                if stage.image_type == KEYSTORE_IMAGE_TYPE:
                    # A staged keystore (signed by a ROM key, its version checked against its fuse counter like
                    # any stage) adds keys for the later stages; the ROM keys stay trusted.
                    active = TrustedKeystore({**self.keystore.keys, **decode_keystore_payload(pkg.payload)})
                break
            if result.copy is None:
                first = next(iter(result.failures.values()), "no image")
                return BootResult(False, results, log, f"stage {stage.name} has no valid image ({first})")
        self.active_keystore = active
        return BootResult(True, results, log)

    active_keystore: TrustedKeystore | None = None
