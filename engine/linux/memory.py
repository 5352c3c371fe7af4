"""A process's address space: the mappings (VMAs) Linux would keep, mirrored into the A7's Unicorn instance.

The A7 runs with the MMU off, so a process's virtual addresses are Unicorn addresses. Every mapping is a Unicorn
region with the process's protection (PROT_READ/WRITE/EXEC are Unicorn's UC_PROT bits), so the CPU faults exactly
where Linux would (an unmapped page, a write to read-only memory, a fetch from a non-executable page). The kernel's
own accesses to guest memory (syscall arguments) check the same protections and give EFAULT instead.

Layout (emulator-defined, docs/a7.md): nothing below 0x10000; a position-independent main program at 0x00400000
(fixed ELF programs where they are linked); brk above the program; mmap() allocations bottom-up from 0x40000000
(the dynamic loader first); the main stack below 0xBF000000 (Linux's TASK_SIZE on ARM), 8 MiB; the vectors page at
0xFFFF0000 with the kuser helpers and the signal-return trampolines.
"""
from __future__ import annotations

import bisect
import struct
from dataclasses import dataclass

import unicorn

from .abi import ENOMEM, PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_WRITE
from .errors import GuestFault, LinuxError

MMAP_MIN_ADDR = 0x00010000
PIE_BASE = 0x00400000
MMAP_BASE = 0x40000000
STACK_TOP = 0xBF000000
STACK_SIZE = 8 << 20
TASK_SIZE = 0xBF000000
VECTORS = 0xFFFF0000


def page_down(address: int) -> int:
    return address & ~(PAGE_SIZE - 1)


def page_up(address: int) -> int:
    return (address + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1)


@dataclass
class Vma:
    start: int
    end: int           # exclusive
    prot: int
    name: str = ""     # the mapped file's path, "[heap]", "[stack]", "[vectors]" or "" (anonymous)
    offset: int = 0    # file offset of `start`
    eof: int | None = None   # a file mapping longer than its file: pages from here on raise SIGBUS when touched

    def __contains__(self, address: int) -> bool:
        return self.start <= address < self.end


class ProcessMemory:
    def __init__(self, uc: unicorn.Uc, on_code: callable = None) -> None:
        self.uc = uc
        self.vmas: list[Vma] = []
        self._starts: list[int] = []
        self.on_code = on_code            # (start, end) of memory that was (re)written as code
        self.brk_start = 0
        self.brk = 0
        self.mapped_bytes = 0
        self.peak_bytes = 0

    # ---- lookup -------------------------------------------------------------------------------------------------------
    def find(self, address: int) -> Vma | None:
        i = bisect.bisect_right(self._starts, address) - 1
        if i >= 0 and address < self.vmas[i].end:
            return self.vmas[i]
        return None

    def overlapping(self, start: int, end: int) -> list[Vma]:
        i = max(0, bisect.bisect_right(self._starts, start) - 1)
        out = []
        while i < len(self.vmas) and self.vmas[i].start < end:
            if self.vmas[i].end > start:
                out.append(self.vmas[i])
            i += 1
        return out

    def is_free(self, start: int, end: int) -> bool:
        return not self.overlapping(start, end)

    def find_free(self, size: int, hint: int = 0, floor: int = MMAP_BASE, ceiling: int = STACK_TOP - STACK_SIZE
                  ) -> int:
        """Lowest free page-aligned range of `size` bytes at or above `floor` (the hint first, if it fits)."""
        size = page_up(size)
        if hint and MMAP_MIN_ADDR <= hint and hint + size <= TASK_SIZE and self.is_free(page_down(hint),
                                                                                          page_down(hint) + size):
            return page_down(hint)
        candidate = floor
        for vma in self.vmas:
            if vma.end <= candidate:
                continue
            if vma.start >= candidate + size:
                break
            candidate = page_up(vma.end)
        if candidate + size > ceiling:
            raise LinuxError(ENOMEM, f"no room for {size} bytes of mappings")
        return candidate

    # ---- changes -------------------------------------------------------------------------------------------------
    def _insert(self, vma: Vma) -> None:
        i = bisect.bisect_left(self._starts, vma.start)
        self.vmas.insert(i, vma)
        self._starts.insert(i, vma.start)

    def _merge_around(self, start: int, end: int) -> None:
        """Join neighbouring mappings that became alike (same protection, same file, contiguous offsets), as
        Linux merges VMAs: mremap and /proc/self/maps see one mapping again."""
        i = max(0, bisect.bisect_right(self._starts, start) - 2)
        while i + 1 < len(self.vmas) and self.vmas[i].start <= end:
            a, b = self.vmas[i], self.vmas[i + 1]
            if a.end == b.start and a.prot == b.prot and a.name == b.name and a.eof == b.eof and \
                    (not a.name or a.offset + (a.end - a.start) == b.offset):
                a.end = b.end
                del self.vmas[i + 1]
                del self._starts[i + 1]
                continue
            i += 1

    def _remove_range(self, start: int, end: int) -> list[Vma]:
        """Cut [start, end) out of the VMA list (splitting at the edges); returns the removed pieces."""
        removed = []
        for vma in self.overlapping(start, end):
            i = self.vmas.index(vma)
            del self.vmas[i]
            del self._starts[i]
            if vma.start < start:
                self._insert(Vma(vma.start, start, vma.prot, vma.name, vma.offset, vma.eof))
            if vma.end > end:
                self._insert(Vma(end, vma.end, vma.prot, vma.name, vma.offset + (end - vma.start), vma.eof))
            lo, hi = max(vma.start, start), min(vma.end, end)
            removed.append(Vma(lo, hi, vma.prot, vma.name, vma.offset + (lo - vma.start), vma.eof))
        return removed

    def _apply_protection(self, vma: Vma) -> None:
        """Unicorn's protection for a VMA: its own, except pages past a mapped file's end, which fault (SIGBUS)."""
        beyond = vma.end if vma.eof is None else min(vma.end, max(vma.start, vma.eof))
        if beyond > vma.start:
            self.uc.mem_protect(vma.start, beyond - vma.start, vma.prot & 7)
        if beyond < vma.end:
            self.uc.mem_protect(beyond, vma.end - beyond, 0)

    def map(self, start: int, size: int, prot: int, name: str = "", offset: int = 0, data: bytes | None = None,
            replace: bool = True, eof: int | None = None) -> int:
        """Map [start, start+size) (page-rounded) with `prot`, zero-filled, then `data` copied at `start`. With
        `replace`, whatever was mapped there goes first (MAP_FIXED semantics). `eof`: where a mapped file ends
        (page-rounded); touching the pages after it raises SIGBUS, as on Linux."""
        start = page_down(start)
        end = page_up(start + max(size, 1))
        if start < MMAP_MIN_ADDR or end > 0x100000000:
            raise LinuxError(ENOMEM, f"mapping 0x{start:08x}-0x{end:08x} outside user space")
        if self.overlapping(start, end):
            if not replace:
                raise LinuxError(17, "range already mapped")  # EEXIST (MAP_FIXED_NOREPLACE)
            self.unmap(start, end - start)
        try:
            self.uc.mem_map(start, end - start, prot & 7)
        except unicorn.UcError as exc:
            raise LinuxError(ENOMEM, f"cannot map 0x{start:08x}-0x{end:08x}: {exc}") from None
        vma = Vma(start, end, prot & 7, name, offset, eof if eof is not None and eof < end else None)
        self._insert(vma)
        self.mapped_bytes += end - start
        self.peak_bytes = max(self.peak_bytes, self.mapped_bytes)
        if data:
            self.uc.mem_write(start, bytes(data))
        if vma.eof is not None:
            self._apply_protection(vma)
        if prot & PROT_EXEC and self.on_code:
            self.on_code(start, end)
        return start

    def unmap(self, start: int, size: int) -> None:
        start = page_down(start)
        end = page_up(start + size)
        for piece in self._remove_range(start, end):
            self.uc.mem_unmap(piece.start, piece.end - piece.start)
            self.mapped_bytes -= piece.end - piece.start
            if piece.prot & PROT_EXEC and self.on_code:
                self.on_code(piece.start, piece.end)

    def protect(self, start: int, size: int, prot: int) -> None:
        start = page_down(start)
        end = page_up(start + size)
        covered = sum(min(v.end, end) - max(v.start, start) for v in self.overlapping(start, end))
        if covered != end - start:
            raise LinuxError(ENOMEM, "mprotect of unmapped memory")
        for piece in self._remove_range(start, end):
            piece.prot = prot & 7
            self._insert(piece)
            self._apply_protection(piece)
        self._merge_around(start, end)
        if prot & PROT_EXEC and self.on_code:
            self.on_code(start, end)

    def write_code(self, address: int, data: bytes) -> None:
        """A host-side write into mapped memory regardless of protection (the loader filling a segment)."""
        self.uc.mem_write(address, bytes(data))
        if self.on_code:
            self.on_code(page_down(address), page_up(address + len(data)))

    # ---- brk -----------------------------------------------------------------------------------------------------------
    def set_brk(self, requested: int) -> int:
        """brk(2): grow or shrink the heap; returns the (possibly unchanged) break."""
        if requested < self.brk_start:
            return self.brk
        old_top, new_top = page_up(self.brk), page_up(requested)
        if new_top > old_top:
            if not self.is_free(old_top, new_top) or new_top > MMAP_BASE:
                return self.brk
            self.map(old_top, new_top - old_top, PROT_READ | PROT_WRITE, "[heap]")
        elif new_top < old_top:
            self.unmap(new_top, old_top - new_top)
        self.brk = requested
        return self.brk

    # ---- kernel access to user memory ---------------------------------------------------------------------------
    def _check(self, address: int, length: int, need: int) -> None:
        if length <= 0:
            return
        end = address + length
        if address < 0 or end > 0x100000000:
            raise GuestFault(address, length, need == PROT_WRITE)
        at = address
        while at < end:
            vma = self.find(at)
            if vma is None or not vma.prot & need or (vma.eof is not None and min(end, vma.end) > vma.eof):
                raise GuestFault(address, length, need == PROT_WRITE)
            at = vma.end

    def read(self, address: int, length: int) -> bytes:
        self._check(address, length, PROT_READ)
        return bytes(self.uc.mem_read(address, length)) if length > 0 else b""

    def write(self, address: int, data: bytes) -> None:
        self._check(address, len(data), PROT_WRITE)
        if data:
            self.uc.mem_write(address, bytes(data))

    def read_u32(self, address: int) -> int:
        return struct.unpack("<I", self.read(address, 4))[0]

    def read_i32(self, address: int) -> int:
        return struct.unpack("<i", self.read(address, 4))[0]

    def write_u32(self, address: int, value: int) -> None:
        self.write(address, struct.pack("<I", value & 0xFFFFFFFF))

    def read_cstr(self, address: int, limit: int = 4096) -> bytes:
        """A NUL-terminated string (ENAMETOOLONG past `limit`)."""
        out = bytearray()
        while len(out) < limit:
            vma = self.find(address + len(out))
            if vma is None or not vma.prot & PROT_READ:
                raise GuestFault(address + len(out))
            chunk_end = min(vma.end, address + limit)
            chunk = bytes(self.uc.mem_read(address + len(out), min(256, chunk_end - address - len(out))))
            nul = chunk.find(b"\0")
            if nul >= 0:
                out += chunk[:nul]
                return bytes(out)
            out += chunk
        raise LinuxError(36, "string too long")  # ENAMETOOLONG

    def read_path(self, address: int) -> str:
        raw = self.read_cstr(address, 4096)
        return raw.decode("utf-8", "surrogateescape")

    def maps_text(self) -> str:
        """/proc/self/maps."""
        lines = []
        for v in self.vmas:
            perms = ("r" if v.prot & PROT_READ else "-") + ("w" if v.prot & PROT_WRITE else "-") + \
                    ("x" if v.prot & PROT_EXEC else "-") + "p"
            lines.append(f"{v.start:08x}-{v.end:08x} {perms} {v.offset:08x} 00:00 0          {v.name}".rstrip())
        return "\n".join(lines) + "\n"
