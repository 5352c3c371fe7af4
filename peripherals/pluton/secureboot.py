"""Pluton secure boot: verify, version-check and measure each boot stage, falling back to the backup copy.

Public facts (MT3620-FACTS.md): images carry metadata (ID, SG thumbprint, RV security version) and an ECDSA
P-256 signature; flash holds a runtime and a backup copy of the firmware; anti-rollback uses e-fuses plus the
image's security version number; a device with no valid chain does not boot. Which stages exist and the exact
order of checks are emulator-defined (docs/pluton.md):

    for each stage: for copy in (primary, backup):
        parse (bounds-checked) -> image type must be the stage's -> SG thumbprint must be in the trusted keystore
        -> signature must verify under that key (on the ECDSA engine) -> RV security version >= fused minimum
        -> SHA-256 of the whole image is appended to the measurement log (at most 20 entries)
    the first copy that passes is booted; when neither passes the chain stops and the result says why.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from mt3620.attestation import MAX_MEASUREMENTS, Measurement
from mt3620.imagepackage import package as pkgmod
from mt3620.imagepackage.metadata import IMAGE_TYPES

from .efuse import EfuseBank
from .engines import Engines

# The MT3620 boot chain as the stage names appear in the public image-type list (emulator-defined order).
DEFAULT_CHAIN = (1, 2, 4, 5, 6, 7, 8)


@dataclass
class BootStage:
    image_type: int
    primary: bytes | None
    backup: bytes | None = None
    name: str = ""

    def __post_init__(self) -> None:
        if not self.name:
            self.name = IMAGE_TYPES.get(self.image_type, f"type{self.image_type}")


@dataclass
class StageResult:
    stage: str
    copy: str | None                     # "primary", "backup" or None when both failed
    failures: dict[str, str] = field(default_factory=dict)   # copy -> "reason: message"
    measurement: Measurement | None = None


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
                lines.append(f"{s.stage}: booted {s.copy} copy{extra}")
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
    def __init__(self, fuses: EfuseBank, keystore: TrustedKeystore, engines: Engines) -> None:
        self.fuses = fuses
        self.keystore = keystore
        self.engines = engines
        self.skip_signature_check = False      # fault injection (tests only)

    def check_image(self, data: bytes, image_type: int,
                    keystore: TrustedKeystore | None = None) -> tuple[pkgmod.ImagePackage, Measurement]:
        """One image through every check. Raises pkgmod.ImagePackageError with the failing reason."""
        keystore = keystore or self.keystore
        pkg = pkgmod.parse(data)
        if pkg.image_type != image_type:
            raise pkgmod.ImagePackageError("wrong-image-type", f"image type {pkg.image_type} where "
                                                               f"{IMAGE_TYPES.get(image_type, image_type)} belongs")
        pub = keystore.keys.get(pkg.thumbprint)
        if pub is None:
            raise pkgmod.ImagePackageError("untrusted-signer", f"signer {pkg.thumbprint.hex()} is not in the keystore")
        if not self.skip_signature_check and not self.engines.ecdsa.verify(pub, pkg.signed.signed_bytes,
                                                                           pkg.signed.signature):
            raise pkgmod.ImagePackageError("bad-signature", "image signature does not verify")
        minimum = self.fuses.min_security_version(image_type)
        if pkg.security_version < minimum:
            raise pkgmod.ImagePackageError("svn-rollback", f"security version {pkg.security_version} is below the "
                                                           f"fused minimum {minimum}")
        if image_type == KEYSTORE_IMAGE_TYPE:
            decode_keystore_payload(pkg.payload)        # a keystore that cannot be read is not booted
        digest = self.engines.sha256.digest(pkg.data)
        return pkg, Measurement(image_type, pkg.security_version, pkg.component_id, pkg.image_id, digest)

    def boot(self, stages: list[BootStage]) -> BootResult:
        results: list[StageResult] = []
        log: list[Measurement] = []
        active = self.keystore
        if self.keystore.digest() != self.fuses.read_bytes("KEYSTORE_HASH"):
            return BootResult(False, [], [], "keystore-mismatch: the ROM keystore does not match its fused hash")
        for stage in stages:
            result = StageResult(stage.name, None)
            results.append(result)
            for label, data in (("primary", stage.primary), ("backup", stage.backup)):
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
        return BootResult(True, results, log)
