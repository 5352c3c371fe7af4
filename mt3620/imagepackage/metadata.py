"""Image metadata ("4X4M"): the trailer of every Azure Sphere image, capability file and package.

Layout (MT3620-FACTS.md "Image packages"; section layouts as read and written by Microsoft's MIT-licensed
`azuresphere-imagemetadata`, metadata_sections/*.py):

    image bytes || u32 magic 0x4D345834 | u32 section_count | sections {u16 tag, u16 length, data[length]}
                || u32 metadata_length (from the magic to the end of this field) || 64-byte signature

Unlike the reference library this parser checks every count and length against the bytes actually present
(the real Pluton once read out of bounds on an unchecked section count) and rejects trailing bytes, duplicate
singleton sections and fixed-size sections of the wrong length.
"""
from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass, field

MAGIC = 0x4D345834                 # "4X4M" little-endian
SIGNATURE_SIZE = 64                # ECDSA P-256 raw r||s: the only size on MT3620
HEADER_SIZE = 8
SECTION_HEADER_SIZE = 4
MAX_SECTIONS = 64                  # far above the 5-6 sections real packages carry

TAG_IDENTITY = 0x4449              # 'ID'
TAG_SIGNATURE = 0x4753             # 'SG'
TAG_DEBUG = 0x4244                 # 'DB'
TAG_TEMPORARY = 0x5054             # 'TP'
TAG_ABI_DEPENDS = 0x444E           # 'ND'
TAG_ABI_PROVIDES = 0x504E          # 'NP'
TAG_REVOCATION = 0x5652            # 'RV'
TAG_COMPRESSION = 0x4D43           # 'CM'
TAG_REQUIRED_OFFSET = 0x4F52       # 'RO'
TAG_IMAGE_POLICY = 0x5049          # 'IP'
TAG_LEGACY = 0x474C                # 'LG'

IMAGE_TYPES = {
    0: "Invalid", 1: "OneBL", 2: "PlutonRuntime", 3: "WifiFirmware", 4: "SecurityMonitor",
    5: "NormalWorldLoader", 6: "NormalWorldDTB", 7: "NormalWorldKernel", 8: "RootFs", 9: "Services",
    10: "Applications", 13: "FirmwareConfig", 16: "BootManifest", 17: "NormalWorldFileSystem",
    19: "TrustedKeystore", 20: "Policy", 21: "CustomerBoardConfig", 22: "UpdateCertStore",
    23: "BaseSystemUpdateManifest", 24: "FirmwareUpdateManifest", 25: "CustomerUpdateManifest",
    26: "RecoveryManifest", 27: "ManifestSet", 28: "Other",
}
IMAGE_TYPE_APPLICATIONS = 10
SIGNING_TYPE_ECDSA256 = 1
TEMP_REMOVE_AT_BOOT = 0x1
TEMP_UNDER_DEVELOPMENT = 0x2
ABI_TYPES = {0: "NoDependency", 1: "SecureWorldRuntime", 2: "OSRuntime", 3: "ApplicationRuntime"}
ABI_APPLICATION_RUNTIME = 3


class MetadataError(ValueError):
    """Malformed metadata. `.reason` is a short machine-readable cause."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def tag_name(tag: int) -> str:
    raw = tag.to_bytes(2, "little")
    return raw.decode("latin-1") if all(0x20 < b < 0x7F for b in raw) else f"0x{tag:04x}"


@dataclass
class Identity:
    image_type: int
    component_id: uuid.UUID
    image_id: uuid.UUID
    reserved: int = 0
    TAG = TAG_IDENTITY
    SIZE = 36

    def encode(self) -> bytes:
        return struct.pack("<HH16s16s", self.image_type, self.reserved, self.component_id.bytes_le,
                           self.image_id.bytes_le)

    @classmethod
    def decode(cls, raw: bytes) -> "Identity":
        image_type, reserved, comp, image = struct.unpack("<HH16s16s", raw)
        return cls(image_type, uuid.UUID(bytes_le=comp), uuid.UUID(bytes_le=image), reserved)

    def describe(self) -> list[str]:
        return [f"Image Type: {IMAGE_TYPES.get(self.image_type, 'Unknown')} ({self.image_type})",
                f"Component ID: {self.component_id}", f"Image ID: {self.image_id}"]


@dataclass
class Signature:
    thumbprint: bytes
    signing_type: int = SIGNING_TYPE_ECDSA256
    TAG = TAG_SIGNATURE
    SIZE = 24

    def encode(self) -> bytes:
        if len(self.thumbprint) != 20:
            raise ValueError("a signing certificate thumbprint is 20 bytes (SHA-1)")
        return struct.pack("<20sI", self.thumbprint, self.signing_type)

    @classmethod
    def decode(cls, raw: bytes) -> "Signature":
        thumb, signing_type = struct.unpack("<20sI", raw)
        return cls(thumb, signing_type)

    def describe(self) -> list[str]:
        kind = {0: "Invalid", 1: "ECDsa256", 2: "ECDsa384"}.get(self.signing_type, f"Unknown ({self.signing_type})")
        return [f"Signing Type: {kind}", f"Cert Thumbprint: {self.thumbprint.hex()}"]


@dataclass
class Debug:
    build_time: int
    name: str
    TAG = TAG_DEBUG
    SIZE = 40

    def encode(self) -> bytes:
        raw = self.name.encode("utf-8")
        if len(raw) > 32:
            raise ValueError(f"image name longer than 32 bytes: {self.name!r}")
        return struct.pack("<Q32s", self.build_time, raw)

    @classmethod
    def decode(cls, raw: bytes) -> "Debug":
        when, name = struct.unpack("<Q32s", raw)
        return cls(when, name.split(b"\0", 1)[0].decode("utf-8", "replace"))

    def describe(self) -> list[str]:
        import datetime
        try:
            text = datetime.datetime.fromtimestamp(self.build_time, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        except (OverflowError, OSError, ValueError):
            text = f"{self.build_time} (out of range)"
        return [f"Name: {self.name}", f"Built On: {text}"]


@dataclass
class TemporaryImage:
    flags: int
    TAG = TAG_TEMPORARY
    SIZE = 4

    def encode(self) -> bytes:
        return struct.pack("<I", self.flags)

    @classmethod
    def decode(cls, raw: bytes) -> "TemporaryImage":
        return cls(struct.unpack("<I", raw)[0])

    def describe(self) -> list[str]:
        return [f"Remove image at boot: {bool(self.flags & TEMP_REMOVE_AT_BOOT)}",
                f"Under development: {bool(self.flags & TEMP_UNDER_DEVELOPMENT)}"]


@dataclass
class Revocation:
    security_version: int
    TAG = TAG_REVOCATION
    SIZE = 4

    def encode(self) -> bytes:
        return struct.pack("<I", self.security_version)

    @classmethod
    def decode(cls, raw: bytes) -> "Revocation":
        return cls(struct.unpack("<I", raw)[0])

    def describe(self) -> list[str]:
        return [f"Security Version: {self.security_version}"]


@dataclass
class Abi:
    """ND (depends) or NP (provides): u32 count, then count x {u32 version, u32 type}."""
    tag: int
    versions: list[tuple[int, int]] = field(default_factory=list)

    @property
    def TAG(self) -> int:  # noqa: N802 - same interface as the fixed-tag sections
        return self.tag

    def encode(self) -> bytes:
        return struct.pack("<I", len(self.versions)) + b"".join(struct.pack("<II", v, t) for v, t in self.versions)

    @classmethod
    def decode(cls, tag: int, raw: bytes) -> "Abi":
        if len(raw) < 4:
            raise MetadataError("bad-section-length", f"{tag_name(tag)} section shorter than its count field")
        (count,) = struct.unpack_from("<I", raw, 0)
        if len(raw) != 4 + 8 * count:
            raise MetadataError("bad-section-length", f"{tag_name(tag)} section claims {count} entries "
                                                      f"but holds {len(raw) - 4} bytes of them")
        return cls(tag, [struct.unpack_from("<II", raw, 4 + 8 * i) for i in range(count)])

    def describe(self) -> list[str]:
        word = "Depends" if self.tag == TAG_ABI_DEPENDS else "Provides"
        return [f"{word}: {ABI_TYPES.get(t, f'type {t}')}@{v}" for v, t in self.versions] or [f"{word}: (none)"]


@dataclass
class Unknown:
    tag: int
    raw: bytes

    @property
    def TAG(self) -> int:  # noqa: N802
        return self.tag

    def encode(self) -> bytes:
        return self.raw

    def describe(self) -> list[str]:
        return [f"{len(self.raw)} bytes: {self.raw[:32].hex()}{'...' if len(self.raw) > 32 else ''}"]


FIXED = {cls.TAG: cls for cls in (Identity, Signature, Debug, TemporaryImage, Revocation)}
SINGLETONS = {TAG_IDENTITY, TAG_SIGNATURE, TAG_DEBUG, TAG_TEMPORARY, TAG_REVOCATION, TAG_ABI_DEPENDS,
              TAG_ABI_PROVIDES, TAG_COMPRESSION}
SECTION_NAMES = {TAG_IDENTITY: "Identity", TAG_SIGNATURE: "Signature", TAG_DEBUG: "Debug",
                 TAG_TEMPORARY: "Temporary Image", TAG_ABI_DEPENDS: "ABI Depends", TAG_ABI_PROVIDES: "ABI Provides",
                 TAG_REVOCATION: "Revocation", TAG_COMPRESSION: "Compression", TAG_REQUIRED_OFFSET: "Required Offset",
                 TAG_IMAGE_POLICY: "Image Policy", TAG_LEGACY: "Legacy"}


@dataclass
class Metadata:
    sections: list = field(default_factory=list)

    def find(self, tag: int):
        for s in self.sections:
            if s.TAG == tag:
                return s
        return None

    @property
    def identity(self) -> Identity | None:
        return self.find(TAG_IDENTITY)

    @property
    def signature(self) -> Signature | None:
        return self.find(TAG_SIGNATURE)

    @property
    def debug(self) -> Debug | None:
        return self.find(TAG_DEBUG)

    @property
    def revocation(self) -> Revocation | None:
        return self.find(TAG_REVOCATION)

    @property
    def temporary(self) -> TemporaryImage | None:
        return self.find(TAG_TEMPORARY)

    def encode(self) -> bytes:
        out = [struct.pack("<II", MAGIC, len(self.sections))]
        for s in self.sections:
            body = s.encode()
            if len(body) > 0xFFFF:
                raise ValueError(f"section {tag_name(s.TAG)} too long")
            out.append(struct.pack("<HH", s.TAG, len(body)) + body)
        body = b"".join(out)
        return body + struct.pack("<I", len(body) + 4)

    def describe(self) -> list[str]:
        lines = []
        for s in self.sections:
            lines.append(f"Section: {SECTION_NAMES.get(s.TAG, tag_name(s.TAG))}")
            lines += [f"  {line}" for line in s.describe()]
        return lines


def decode_sections(blob: bytes) -> Metadata:
    """Decode `magic | count | sections | length` (the exact metadata bytes, length field included)."""
    if len(blob) < HEADER_SIZE + 4:
        raise MetadataError("truncated", f"metadata of {len(blob)} bytes is shorter than its header")
    magic, count = struct.unpack_from("<II", blob, 0)
    if magic != MAGIC:
        raise MetadataError("bad-magic", f"metadata magic is 0x{magic:08x}, expected 0x{MAGIC:08x} (4X4M)")
    end = len(blob) - 4
    if count > MAX_SECTIONS or count * SECTION_HEADER_SIZE > end - HEADER_SIZE:
        raise MetadataError("bad-section-count",
                            f"metadata claims {count} sections but only {end - HEADER_SIZE} bytes follow the header")
    at, seen, sections = HEADER_SIZE, set(), []
    for index in range(count):
        if at + SECTION_HEADER_SIZE > end:
            raise MetadataError("bad-section-count", f"section {index} of {count} starts past the end of the metadata")
        tag, length = struct.unpack_from("<HH", blob, at)
        at += SECTION_HEADER_SIZE
        if at + length > end:
            raise MetadataError("bad-section-length",
                                f"section {tag_name(tag)} ({length} bytes) runs past the end of the metadata")
        raw = blob[at:at + length]
        at += length
        if tag in SINGLETONS:
            if tag in seen:
                raise MetadataError("duplicate-section", f"metadata has two {tag_name(tag)} sections")
            seen.add(tag)
        if tag in FIXED:
            cls = FIXED[tag]
            if length != cls.SIZE:
                raise MetadataError("bad-section-length",
                                    f"section {tag_name(tag)} is {length} bytes, expected {cls.SIZE}")
            sections.append(cls.decode(raw))
        elif tag in (TAG_ABI_DEPENDS, TAG_ABI_PROVIDES):
            sections.append(Abi.decode(tag, raw))
        else:
            sections.append(Unknown(tag, bytes(raw)))
    if at != end:
        raise MetadataError("trailing-bytes", f"{end - at} unexplained bytes after the last metadata section")
    return Metadata(sections)


@dataclass
class SignedImage:
    """Any signed Azure Sphere blob split into its parts."""
    payload: bytes          # image bytes before the metadata
    metadata: Metadata
    metadata_bytes: bytes
    signature: bytes        # 64-byte raw r||s
    signed_bytes: bytes     # payload || metadata_bytes: what the signature covers


def split_signed(data: bytes) -> SignedImage:
    """Split `payload || metadata || signature`, checking the metadata length field before using it."""
    data = bytes(data)
    minimum = HEADER_SIZE + 4 + SIGNATURE_SIZE
    if len(data) < minimum:
        raise MetadataError("truncated", f"{len(data)} bytes is too short for metadata and a signature")
    length_at = len(data) - SIGNATURE_SIZE - 4
    (length,) = struct.unpack_from("<I", data, length_at)
    if length < HEADER_SIZE + 4 or length > len(data) - SIGNATURE_SIZE:
        raise MetadataError("bad-metadata-length",
                            f"metadata length field {length} is impossible for a {len(data)}-byte file")
    start = len(data) - SIGNATURE_SIZE - length
    blob = data[start:len(data) - SIGNATURE_SIZE]
    metadata = decode_sections(blob)
    return SignedImage(data[:start], metadata, blob, data[-SIGNATURE_SIZE:], data[:-SIGNATURE_SIZE])
