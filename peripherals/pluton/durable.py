"""Durable files for the emulated silicon's non-volatile state (e-fuses, Pluton's counters, the boot flash).

A write must survive a power cut at any instant: either the old content or the new one is found afterwards,
never a torn or empty file. POSIX gives that with: write a temporary file in the same folder, fsync it, rename
it over the target (atomic), then fsync the folder so the rename itself is on disk. Without the first fsync a
crash after the rename can leave the new name pointing at data that never reached the disk; without the second
the rename can be lost.

Every file operation goes through a `Disk` so tests can replay a commit with the power cut after each single
operation (tests/pluton/test_pluton_power_cut.py uses a simulated disk with POSIX crash semantics).
"""
from __future__ import annotations

import os
from pathlib import Path


class Disk:
    """The real file system (the operations a durable write needs, nothing else)."""

    def read(self, path: Path) -> bytes:
        return Path(path).read_bytes()

    def exists(self, path: Path) -> bool:
        return Path(path).exists()

    def makedirs(self, path: Path) -> None:
        Path(path).mkdir(parents=True, exist_ok=True)

    def write_synced(self, path: Path, data: bytes) -> None:
        """Create or truncate `path`, write `data` and fsync it before returning."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)

    def replace(self, src: Path, dst: Path) -> None:
        os.replace(src, dst)

    def fsync_dir(self, path: Path) -> None:
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        except OSError:          # platforms without directory handles (the rename is still atomic there)
            return
        try:
            os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)


REAL_DISK = Disk()


def write_atomic(path: str | os.PathLike, data: bytes, disk: Disk = REAL_DISK) -> None:
    """Replace `path` with `data` so that a power cut at any point leaves either the old or the new content."""
    path = Path(path)
    disk.makedirs(path.parent)
    tmp = path.with_name(path.name + ".tmp")
    disk.write_synced(tmp, bytes(data))       # 1. the new bytes are on disk under a temporary name
    disk.replace(tmp, path)                   # 2. atomic switch of the name
    disk.fsync_dir(path.parent)               # 3. the switch itself is on disk


__all__ = ["Disk", "REAL_DISK", "write_atomic"]
