"""The boot images in flash: a runtime (primary) and a backup copy of every stage, as Pluton ROM finds them.

Public fact (MT3620-FACTS.md "Chip"): 16 MB flash, 8 MB runtime + 8 MB backup firmware. Emulator-defined
(docs/pluton.md "Boot flash"): the flash is kept per image type and slot rather than as a 16 MB byte image;
persisted, each copy is one file `<dir>/<slot>/<type>.img` written durably (fsync + atomic replace), so a power
cut while a copy is rewritten leaves the old or the new copy, never a torn one. A factory-fresh device holds the
same release in both slots.
"""
from __future__ import annotations

import os
from pathlib import Path

from .durable import REAL_DISK, Disk, write_atomic
from .secureboot import SLOTS, BootStage


class BootFlash:
    def __init__(self, directory: str | os.PathLike | None = None, disk: Disk = REAL_DISK) -> None:
        self.directory = Path(directory) if directory is not None else None
        self.disk = disk
        self._images: dict[tuple[int, str], bytes] = {}

    @classmethod
    def open(cls, directory: str | os.PathLike | None, factory_images: dict[int, bytes],
             disk: Disk = REAL_DISK) -> "BootFlash":
        """The flash of one emulated device: loaded from `directory`, or provisioned there (and in memory when
        `directory` is None) with `factory_images` in both slots."""
        flash = cls(directory, disk)
        marker = flash.directory / "provisioned" if flash.directory is not None else None
        if marker is not None and disk.exists(marker):
            for slot in SLOTS:
                for image_type in factory_images:
                    path = flash._path(image_type, slot)
                    if disk.exists(path):
                        flash._images[(image_type, slot)] = disk.read(path)
            return flash
        for image_type, data in factory_images.items():
            for slot in SLOTS:
                flash.write(image_type, slot, data)
        if marker is not None:
            write_atomic(marker, b"factory release written to both slots\n", disk)
        return flash

    def _path(self, image_type: int, slot: str) -> Path:
        return self.directory / slot / f"{image_type:02d}.img"

    def read(self, image_type: int, slot: str) -> bytes | None:
        return self._images.get((image_type, slot))

    def write(self, image_type: int, slot: str, data: bytes) -> None:
        """Replace one copy (durably when persisted)."""
        if slot not in SLOTS:
            raise ValueError(f"flash slot {slot!r} is not one of {SLOTS}")
        if self.directory is not None:
            write_atomic(self._path(image_type, slot), bytes(data), self.disk)
        self._images[(image_type, slot)] = bytes(data)

    def stages(self, chain: tuple[int, ...]) -> list[BootStage]:
        return [BootStage(t, self.read(t, "primary"), self.read(t, "backup")) for t in chain]


__all__ = ["BootFlash"]
