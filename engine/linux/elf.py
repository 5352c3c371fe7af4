"""Loading ARM ELF programs into a process the way Linux's binfmt_elf does (fs/binfmt_elf.c): every PT_LOAD mapped
with its protection, the bytes past p_filesz zeroed, position-independent objects (ET_DYN) placed at a load base,
and the program interpreter (PT_INTERP, the dynamic loader) loaded beside the program.

Headers are parsed here with explicit bounds checks, so a malformed file gives one ExecError line.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field

from mt3620.engine.simulation.elf_header import arm_elf_refusal

from .abi import PROT_EXEC, PROT_READ, PROT_WRITE
from .errors import ExecError
from .memory import PIE_BASE, ProcessMemory, page_down, page_up

ET_EXEC, ET_DYN = 2, 3
PT_LOAD, PT_INTERP, PT_PHDR, PT_GNU_STACK = 1, 3, 6, 0x6474E551
PF_X, PF_W, PF_R = 1, 2, 4
EF_ARM_ABI_FLOAT_SOFT, EF_ARM_ABI_FLOAT_HARD = 0x200, 0x400
MAX_PHNUM = 128


@dataclass(frozen=True)
class ProgramHeader:
    type: int
    offset: int
    vaddr: int
    filesz: int
    memsz: int
    flags: int
    align: int


@dataclass
class ElfImage:
    """A parsed (not yet loaded) ELF file."""
    name: str
    data: bytes
    type: int
    entry: int
    flags: int
    phoff: int
    phentsize: int
    phdrs: list[ProgramHeader] = field(default_factory=list)
    interpreter: str | None = None

    @property
    def loads(self) -> list[ProgramHeader]:
        return [p for p in self.phdrs if p.type == PT_LOAD and p.memsz]


@dataclass
class LoadedElf:
    """Where an ELF went in a process: its load bias, entry point and program headers' address."""
    name: str
    base: int                 # load bias (0 for ET_EXEC)
    entry: int
    phdr: int                 # address of the program headers in memory (AT_PHDR)
    phent: int
    phnum: int
    start: int                # lowest mapped address
    end: int                  # highest mapped address (exclusive)
    image: ElfImage


def parse(data: bytes, name: str) -> ElfImage:
    data = bytes(data)
    refusal = arm_elf_refusal(data, "the A7 runs")
    if refusal:
        raise ExecError(f"{name}: {refusal}")
    (e_type, _machine, _version, e_entry, e_phoff, _shoff, e_flags, _ehsize, e_phentsize, e_phnum, _shentsize,
     _shnum, _shstrndx) = struct.unpack_from("<HHIIIIIHHHHHH", data, 16)
    if e_type not in (ET_EXEC, ET_DYN):
        raise ExecError(f"{name}: ELF type {e_type} is neither an executable nor a shared object")
    if e_phentsize != 32 or not 0 < e_phnum <= MAX_PHNUM or e_phoff + 32 * e_phnum > len(data):
        raise ExecError(f"{name}: malformed ELF: program headers (offset {e_phoff}, {e_phnum} x {e_phentsize} "
                        f"bytes) do not fit in the {len(data)}-byte file")
    if e_flags & EF_ARM_ABI_FLOAT_SOFT:
        raise ExecError(f"{name}: built for the soft-float ABI; Azure Sphere apps are hard-float (armhf)")
    image = ElfImage(name, data, e_type, e_entry, e_flags, e_phoff, e_phentsize)
    for i in range(e_phnum):
        p_type, p_offset, p_vaddr, _paddr, p_filesz, p_memsz, p_flags, p_align = struct.unpack_from(
            "<IIIIIIII", data, e_phoff + 32 * i)
        ph = ProgramHeader(p_type, p_offset, p_vaddr, p_filesz, p_memsz, p_flags, p_align)
        if p_type == PT_LOAD and p_memsz:
            if p_filesz > p_memsz:
                raise ExecError(f"{name}: malformed ELF: segment at 0x{p_vaddr:08x} has p_filesz > p_memsz")
            if p_offset + p_filesz > len(data):
                raise ExecError(f"{name}: truncated ELF: segment at 0x{p_vaddr:08x} needs file bytes "
                                f"{p_offset}..{p_offset + p_filesz}, the file has {len(data)}")
            if (p_vaddr - p_offset) % 4096:
                raise ExecError(f"{name}: malformed ELF: segment at 0x{p_vaddr:08x} is not page-congruent with its "
                                f"file offset 0x{p_offset:x}")
            if p_vaddr + p_memsz > 0xC0000000:
                raise ExecError(f"{name}: segment at 0x{p_vaddr:08x}+0x{p_memsz:x} is above user space")
        if p_type == PT_INTERP:
            if p_offset + p_filesz > len(data) or not 1 < p_filesz <= 4096:
                raise ExecError(f"{name}: malformed ELF: PT_INTERP out of the file")
            image.interpreter = data[p_offset:p_offset + p_filesz].split(b"\0")[0].decode("utf-8", "replace")
            if not image.interpreter:
                raise ExecError(f"{name}: malformed ELF: PT_INTERP names no interpreter")
        image.phdrs.append(ph)
    if not image.loads:
        raise ExecError(f"{name}: no PT_LOAD segments: nothing to run")
    return image


def span(image: ElfImage) -> tuple[int, int]:
    loads = image.loads
    return page_down(min(p.vaddr for p in loads)), page_up(max(p.vaddr + p.memsz for p in loads))


def load(memory: ProcessMemory, image: ElfImage, base: int | None = None) -> LoadedElf:
    """Map `image` into `memory`. ET_DYN goes at `base` (or the first free range); ET_EXEC where it is linked."""
    lo, hi = span(image)
    if image.type == ET_DYN:
        if base is None:
            base = memory.find_free(hi - lo)
        bias = base - lo
    else:
        bias = 0
        if lo < 0x10000:
            raise ExecError(f"{image.name}: linked at 0x{lo:08x}, below the lowest mappable address 0x00010000")
    if not memory.is_free(lo + bias, hi + bias):
        raise ExecError(f"{image.name}: 0x{lo + bias:08x}-0x{hi + bias:08x} is already in use")
    for ph in image.loads:
        prot = (PROT_READ if ph.flags & PF_R else 0) | (PROT_WRITE if ph.flags & PF_W else 0) | \
               (PROT_EXEC if ph.flags & PF_X else 0)
        start = page_down(bias + ph.vaddr)
        end = page_up(bias + ph.vaddr + ph.memsz)
        # Segments may share a page at their edges: that page gets both protections.
        shared = memory.overlapping(start, end)
        for vma in shared:
            prot |= vma.prot
        if shared:
            first_free = max(v.end for v in shared)
            memory.protect(start, first_free - start, prot) if first_free > start else None
            if end > first_free:
                memory.map(first_free, end - first_free, prot, image.name, ph.offset + (first_free - bias - ph.vaddr))
        else:
            memory.map(start, end - start, prot, image.name, page_down(ph.offset))
        if ph.filesz:
            memory.write_code(bias + ph.vaddr, image.data[ph.offset:ph.offset + ph.filesz])
        # The rest of the last file-backed page is zeroed (fresh mappings are zero already).
        tail = page_up(bias + ph.vaddr + ph.filesz) - (bias + ph.vaddr + ph.filesz)
        if ph.memsz > ph.filesz and tail:
            memory.write_code(bias + ph.vaddr + ph.filesz, bytes(min(tail, ph.memsz - ph.filesz)))
    phdr = None
    for ph in image.phdrs:
        if ph.type == PT_PHDR:
            phdr = bias + ph.vaddr
    if phdr is None:
        for ph in image.loads:
            if ph.offset <= image.phoff < ph.offset + ph.filesz:
                phdr = bias + ph.vaddr + (image.phoff - ph.offset)
    return LoadedElf(image.name, bias, bias + image.entry, phdr or 0, 32, len(image.phdrs), lo + bias, hi + bias,
                     image)


def default_base(image: ElfImage) -> int | None:
    """The main program's load address: PIE programs at PIE_BASE, fixed ones where linked."""
    return PIE_BASE if image.type == ET_DYN else None
