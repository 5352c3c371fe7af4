"""Pluton e-fuse bank: one-time-programmable words, partitions that lock, a read-protected device secret.

Public facts (MT3620-FACTS.md "Pluton"): private keys live in e-fuses and are never readable; a fuse write may
only set bits; anti-rollback uses fuses plus a per-image security version number. The layout below is
emulator-defined (docs/pluton.md): 32 words of 32 bits.

    words 0-7    DEVICE_SECRET    256-bit seed of every device key; read-protected (reads as zero)
    words 8-15   KEYSTORE_HASH    SHA-256 of the ROM trusted keystore (thumbprint || X||Y per key, sorted)
    words 16-23  ANTI_ROLLBACK    8 thermometer counters, one 32-bit word each: the minimum security version of a
                                  boot stage is the number of set bits, so a counter holds 0..32 (ARB_COUNTER_MAX)
    word  24     MANUFACTURING    thermometer: manufacturing completion state
    word  25     CONFIG           bit0 secure boot enforced, bit1 test keys allowed
    words 26-30  (unused)
    word  31     LOCKS            bit i set = partition i locked (no further programming)

The bank persists per emulated device as JSON ({"words": [...]}) and is reproducible from a seed. Every burn
is written with fsync and an atomic replace (durable.py): a power cut during a burn leaves the old or the new
fuse image, never a torn one. Reads on security decisions pass through the glitch model (glitch.py), which can
corrupt one of them.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from .durable import REAL_DISK, Disk, write_atomic
from .glitch import Glitches

WORDS = 32


@dataclass(frozen=True)
class Partition:
    index: int
    name: str
    first: int
    count: int
    read_protected: bool = False


PARTITIONS = (
    Partition(0, "DEVICE_SECRET", 0, 8, read_protected=True),
    Partition(1, "KEYSTORE_HASH", 8, 8),
    Partition(2, "ANTI_ROLLBACK", 16, 8),
    Partition(3, "MANUFACTURING", 24, 1),
    Partition(4, "CONFIG", 25, 1),
    Partition(5, "SPARE", 26, 5),
    Partition(6, "LOCKS", 31, 1),
)
BY_NAME = {p.name: p for p in PARTITIONS}
LOCK_WORD = 31
CONFIG_SECURE_BOOT = 0x1
CONFIG_ALLOW_TEST_KEYS = 0x2

# Anti-rollback slot of each image type that has one (image types from MT3620-FACTS.md).
ARB_SLOTS = {1: 0, 2: 1, 3: 2, 4: 3, 5: 4, 7: 5, 8: 6, 19: 7}
# The width of a boot-stage counter: one 32-bit fuse word as a thermometer, so versions 0..32. An image whose
# security version does not fit could never be committed (and would leave its predecessors bootable after it),
# so secure boot refuses it (`svn-out-of-range`).
ARB_COUNTER_MAX = 32


class EfuseError(Exception):
    """A refused fuse operation. `.reason`: fuse-clear, locked, read-protected, bad-word, bad-value."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def partition_of(word: int) -> Partition:
    for p in PARTITIONS:
        if p.first <= word < p.first + p.count:
            return p
    raise EfuseError("bad-word", f"no e-fuse word {word} (bank has {WORDS})")


class EfuseBank:
    """32 OTP words. `program()` only sets bits, refuses locked partitions, and persists when a path is set."""

    def __init__(self, words: list[int] | None = None, path: str | os.PathLike | None = None,
                 disk: Disk = REAL_DISK) -> None:
        self._words = [0] * WORDS
        if words is not None:
            if len(words) != WORDS or any(not isinstance(w, int) or not 0 <= w <= 0xFFFFFFFF for w in words):
                raise EfuseError("bad-value", f"an e-fuse image is {WORDS} 32-bit words")
            self._words = list(words)
        self.path = Path(path) if path is not None else None
        self.disk = disk
        self.glitches = Glitches()          # replaced by the core's, so one attacker model covers every read

    # ---- provisioning ----------------------------------------------------------------------------------------
    @classmethod
    def provision(cls, seed: bytes, keystore_hash: bytes = b"\0" * 32, config: int = CONFIG_SECURE_BOOT,
                  path: str | os.PathLike | None = None, disk: Disk = REAL_DISK) -> "EfuseBank":
        """A factory-fresh device, reproducible from `seed`: secret, keystore hash and config burnt and locked."""
        bank = cls(path=None, disk=disk)
        secret = hashlib.sha256(b"MT3620-EMU-EFUSE-SEED" + bytes(seed)).digest()
        bank.program_bytes("DEVICE_SECRET", secret)
        bank.program_bytes("KEYSTORE_HASH", keystore_hash)
        bank.program(BY_NAME["CONFIG"].first, config)
        for name in ("DEVICE_SECRET", "KEYSTORE_HASH", "CONFIG"):
            bank.lock(name)
        bank.path = Path(path) if path is not None else None
        bank.save()
        return bank

    @classmethod
    def load(cls, path: str | os.PathLike, disk: Disk = REAL_DISK) -> "EfuseBank":
        path = Path(path)
        try:
            doc = json.loads(disk.read(path).decode("utf-8"))
            words = [int(w, 16) if isinstance(w, str) else w for w in doc["words"]]
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise EfuseError("bad-value", f"cannot load e-fuses from {path}: {exc}") from None
        return cls(words, path, disk)

    @classmethod
    def open(cls, path: str | os.PathLike, seed: bytes, disk: Disk = REAL_DISK, **provision_args) -> "EfuseBank":
        """The persisted bank of one emulated device: load it, or provision it from `seed` the first time."""
        path = Path(path)
        if disk.exists(path):
            return cls.load(path, disk)
        return cls.provision(seed, path=path, disk=disk, **provision_args)

    def save(self) -> None:
        if self.path is None:
            return
        doc = {"format": "mt3620-efuse-v1", "words": [f"0x{w:08x}" for w in self._words]}
        write_atomic(self.path, json.dumps(doc).encode(), self.disk)

    # ---- reads ------------------------------------------------------------------------------------------------
    def read(self, word: int) -> int:
        """What software sees: read-protected words read as zero."""
        p = partition_of(word)
        return 0 if p.read_protected else self._words[word]

    def read_bytes(self, name: str) -> bytes:
        """A partition as the security logic reads it (each word through the glitch model)."""
        p = BY_NAME[name]
        if p.read_protected:
            raise EfuseError("read-protected", f"e-fuse partition {name} is read-protected")
        return b"".join(self._sense(i).to_bytes(4, "little") for i in range(p.first, p.first + p.count))

    def _sense(self, word: int) -> int:
        """One read of a fuse word by the security logic: a glitch may corrupt it."""
        return self.glitches.fuse_read(word, self._words[word])

    def _secret_for_kdf(self) -> bytes:
        """The key-derivation hardware path: the only consumer of DEVICE_SECRET (Pluton core internals)."""
        p = BY_NAME["DEVICE_SECRET"]
        return b"".join(self._words[i].to_bytes(4, "little") for i in range(p.first, p.first + p.count))

    def is_locked(self, name: str) -> bool:
        return bool(self._words[LOCK_WORD] >> BY_NAME[name].index & 1)

    # ---- programming ------------------------------------------------------------------------------------------
    def program(self, word: int, value: int) -> None:
        """Burn `value` into `word`. Every 1 in the current word must stay 1 (OTP): a clear is refused whole."""
        p = partition_of(word)
        if not 0 <= value <= 0xFFFFFFFF:
            raise EfuseError("bad-value", f"e-fuse value 0x{value:x} is not 32 bits")
        if word != LOCK_WORD and self._words[LOCK_WORD] >> p.index & 1:
            raise EfuseError("locked", f"e-fuse partition {p.name} is locked")
        current = self._words[word]
        if current & ~value:
            raise EfuseError("fuse-clear", f"e-fuse word {word} ({p.name}): 0x{value:08x} would clear burnt bits "
                                           f"0x{current & ~value:08x}; fuses can only be set")
        if value != current:
            self._words[word] = value
            self.save()

    def program_bytes(self, name: str, data: bytes) -> None:
        p = BY_NAME[name]
        if len(data) != 4 * p.count:
            raise EfuseError("bad-value", f"{name} takes {4 * p.count} bytes")
        for i in range(p.count):
            self.program(p.first + i, int.from_bytes(data[4 * i:4 * i + 4], "little"))

    def lock(self, name: str) -> None:
        self.program(LOCK_WORD, self._words[LOCK_WORD] | 1 << BY_NAME[name].index)

    # ---- anti-rollback and thermometer counters ---------------------------------------------------------------
    def min_security_version(self, image_type: int) -> int:
        """The fused minimum security version of a boot stage (each call reads the fuse word again)."""
        slot = ARB_SLOTS.get(image_type)
        if slot is None:
            return 0
        return bin(self._sense(BY_NAME["ANTI_ROLLBACK"].first + slot)).count("1")

    @staticmethod
    def counter_capacity(image_type: int) -> int | None:
        """The highest security version the counter of `image_type` can hold (None: the type has no counter)."""
        return ARB_COUNTER_MAX if image_type in ARB_SLOTS else None

    def raise_security_version(self, image_type: int, version: int) -> None:
        """Burn the counter of `image_type` up to `version` (a thermometer of 32 steps). Never lowers it."""
        slot = ARB_SLOTS.get(image_type)
        if slot is None:
            raise EfuseError("bad-word", f"image type {image_type} has no anti-rollback counter")
        if not 0 <= version <= ARB_COUNTER_MAX:
            raise EfuseError("bad-value", f"anti-rollback counters hold versions 0..{ARB_COUNTER_MAX}, "
                                          f"not {version}")
        word = BY_NAME["ANTI_ROLLBACK"].first + slot
        self.program(word, self._words[word] | ((1 << version) - 1))

    def thermometer(self, name: str) -> int:
        return bin(self._words[BY_NAME[name].first]).count("1")

    def set_thermometer(self, name: str, value: int) -> None:
        if not 0 <= value <= 32:
            raise EfuseError("bad-value", "a thermometer word holds 0..32")
        word = BY_NAME[name].first
        self.program(word, self._words[word] | ((1 << value) - 1))

    @property
    def config(self) -> int:
        return self._words[BY_NAME["CONFIG"].first]
