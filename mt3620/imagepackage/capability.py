"""Device capability files: signed grants of capabilities (appDevelopment, fieldServicing ...) to one device.

Body layout (azuresphere-imagemetadata metadata_sections/internal/capabilities.py; MT3620-FACTS.md):
    u32 magic 0x5CFD5CFD | u32 version | u32 data_length | device_id (64 bytes) | capabilities (64 bytes:
    one capability ID per byte, 0 = none)
followed by the usual metadata (4X4M) and a 64-byte ECDSA P-256 signature over everything before it.

Emulator-defined (no public source): version = 1, data_length = 128 (device ID + capability bytes), and the
metadata carries ID (image type 28 "Other", component and image GUIDs derived from the device ID), SG and DB.
The parser checks every length; a capability byte list with gaps or duplicates is rejected.
"""
from __future__ import annotations

import hashlib
import struct
import uuid
from dataclasses import dataclass

from .keys import Keystore, Signer
from .metadata import Debug, Identity, MetadataError, SignedImage, split_signed
from .package import ImagePackageError, sign_image, verify_signed

MAGIC = 0x5CFD5CFD
VERSION = 1
BODY_SIZE = 140
DATA_LENGTH = 128
IMAGE_TYPE_OTHER = 28

# Capability IDs (azuresphere-imagemetadata Capability / UserFacingCapability).
CAPABILITIES = {
    1: "AllowTestKeySignedSoftware", 2: "EnablePlutonDebugging", 3: "EnableA7Debugging", 4: "EnableN9Debugging",
    5: "EnableA7GdbDebugging", 6: "EnableIoM41Debugging", 7: "EnableIoM42Debugging", 8: "EnableA7Console",
    9: "EnableSltLoader", 10: "EnableSystemSoftwareDevelopment", 11: "EnableAppDevelopment",
    12: "EnableRfTestMode", 13: "EnableFieldServicing",
}
APP_DEVELOPMENT = 11
RF_TEST = 12
FIELD_SERVICING = 13
BY_NAME = {"appDevelopment": APP_DEVELOPMENT, "fieldServicing": FIELD_SERVICING, "rfTest": RF_TEST}
BY_NAME.update({v: k for k, v in CAPABILITIES.items()})


class CapabilityError(ValueError):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class CapabilityFile:
    device_id: bytes
    capabilities: tuple[int, ...]
    version: int
    data_length: int
    signed: SignedImage

    @property
    def names(self) -> list[str]:
        return [CAPABILITIES.get(c, f"Unknown({c})") for c in self.capabilities]

    def verify(self, keystore: Keystore, device_id: bytes | None = None, strict_thumbprint: bool = True):
        """Signature by a trusted key, and (when given) bound to `device_id`. Returns the verifying key."""
        if device_id is not None and bytes(device_id) != self.device_id:
            raise CapabilityError("wrong-device", "capability file is bound to device "
                                                  f"{self.device_id.hex()[:16]}..., not {bytes(device_id).hex()[:16]}...")
        try:
            return verify_signed(self.signed, keystore, strict_thumbprint)
        except ImagePackageError as exc:
            raise CapabilityError(exc.reason, f"capability file: {exc}") from None


def parse(data: bytes) -> CapabilityFile:
    data = bytes(data)
    try:
        signed = split_signed(data)
    except MetadataError as exc:
        raise CapabilityError(exc.reason, f"capability metadata: {exc}") from None
    body = signed.payload
    if len(body) != BODY_SIZE:
        raise CapabilityError("bad-length", f"capability body is {len(body)} bytes, expected {BODY_SIZE}")
    magic, version, data_length = struct.unpack_from("<III", body, 0)
    if magic != MAGIC:
        raise CapabilityError("bad-magic", f"capability magic is 0x{magic:08x}, expected 0x{MAGIC:08x}")
    if data_length != DATA_LENGTH:
        raise CapabilityError("bad-length", f"capability data_length is {data_length}, expected {DATA_LENGTH}")
    device_id = body[12:76]
    raw = body[76:140]
    caps = []
    ended = False
    for b in raw:
        if b == 0:
            ended = True
            continue
        if ended:
            raise CapabilityError("bad-capabilities", "capability list has a gap (non-zero after zero)")
        if b in caps:
            raise CapabilityError("bad-capabilities", f"capability {b} listed twice")
        caps.append(b)
    if signed.metadata.signature is None:
        raise CapabilityError("no-signature-section", "capability metadata has no SG section")
    return CapabilityFile(device_id, tuple(caps), version, data_length, signed)


def build(device_id: bytes, capabilities: list[int], signer: Signer, build_time: int = 0) -> bytes:
    device_id = bytes(device_id)
    if len(device_id) != 64:
        raise ValueError(f"a device ID is 64 bytes, got {len(device_id)}")
    if len(capabilities) > 64 or len(set(capabilities)) != len(capabilities) or any(not 0 < c < 256 for c in capabilities):
        raise ValueError("capabilities must be up to 64 distinct IDs in 1..255")
    body = struct.pack("<III", MAGIC, VERSION, DATA_LENGTH) + device_id + bytes(capabilities).ljust(64, b"\0")
    digest = hashlib.sha256(device_id).digest()
    identity = Identity(IMAGE_TYPE_OTHER, uuid.UUID(bytes=digest[:16], version=4),
                        uuid.UUID(bytes=hashlib.sha256(body).digest()[:16], version=4))
    return sign_image(body, [identity, Debug(build_time, "capability")], signer)
