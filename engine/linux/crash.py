"""Crash reports of a process killed by a core-dumping signal (SIGSEGV, SIGBUS, SIGILL, SIGABRT, ...): the signal,
the faulting PC and address, the registers and a symbolised backtrace.

The backtrace unwinds with the DWARF call-frame information of each loaded object (.debug_frame or .eh_frame,
decoded by pyelftools), names frames from .symtab/.dynsym and source lines from .debug_line when the ELF has them.
Where an object has no CFI (Debian's musl is built without it) the unwinder falls back to the link register for
the innermost frame and then to a scan of the stack for return addresses (the preceding instruction is a BL or
BLX), marked "(scanned)": enough to get back into the app's own frames, whose CFI takes over again.
"""
from __future__ import annotations

import bisect
import io
import logging
import struct
from dataclasses import dataclass, field

from .abi import PROT_EXEC, signal_name

log = logging.getLogger("mt3620.linux")
MAX_FRAMES = 32
SCAN_BYTES = 4096
_objects_cache: dict[tuple[str, int, int], "_Object | None"] = {}

SIGNAL_CODES = {
    (11, 1): "SEGV_MAPERR: address not mapped", (11, 2): "SEGV_ACCERR: invalid permissions for mapped object",
    (7, 1): "BUS_ADRALN: invalid address alignment", (7, 2): "BUS_ADRERR: nonexistent physical address",
    (4, 1): "ILL_ILLOPC: illegal opcode", (5, 1): "TRAP_BRKPT: breakpoint", (6, -6): "SI_TKILL: abort()",
    (6, 0): "SI_USER",
}


@dataclass
class Frame:
    pc: int
    function: str | None = None
    offset: int = 0
    object: str | None = None
    source: str | None = None
    scanned: bool = False

    def describe(self, index: int) -> str:
        where = f"{self.function}+0x{self.offset:x}" if self.function else "??"
        extra = []
        if self.object:
            extra.append(self.object)
        if self.source:
            extra.append(self.source)
        text = f"  #{index:<2} 0x{self.pc:08x} {where}"
        if extra:
            text += f" ({', '.join(extra)})"
        if self.scanned:
            text += " (scanned)"
        return text


@dataclass
class CrashReport:
    process: str
    pid: int
    tid: int
    signal: int
    code: int
    pc: int
    address: int | None
    registers: list[int]
    cpsr: int
    frames: list[Frame] = field(default_factory=list)
    detail: str = ""

    @property
    def signal_name(self) -> str:
        return signal_name(self.signal)

    def headline(self) -> str:
        where = f" accessing 0x{self.address:08x}" if self.address is not None and self.signal in (7, 11) else ""
        return f"{self.signal_name} at PC 0x{self.pc:08x}{where}"

    def text(self) -> str:
        code = SIGNAL_CODES.get((self.signal, self.code), f"si_code {self.code}")
        lines = [f"process {self.pid} ({self.process}) thread {self.tid} killed by {self.signal_name} ({code})"
                 + (f": {self.detail}" if self.detail else ""),
                 f"  pc 0x{self.pc:08x}" + (f"  fault address 0x{self.address:08x}" if self.address is not None
                                             else "") + f"  cpsr 0x{self.cpsr:08x}"]
        r = self.registers
        for row in range(4):
            lines.append("  " + "  ".join(f"{_reg_name(i):>3} 0x{r[i]:08x}" for i in range(row * 4, row * 4 + 4)))
        lines.append("backtrace:")
        lines.extend(f.describe(i) for i, f in enumerate(self.frames))
        return "\n".join(lines)

    @classmethod
    def build(cls, kernel, thread, info) -> "CrashReport":
        ctx = kernel.context(thread)
        pc = info.pc if info.pc is not None else ctx.regs[15]
        address = info.address
        report = cls(thread.process.name, thread.process.pid, thread.tid, info.signo, info.code, pc, address,
                     list(ctx.regs), ctx.cpsr, detail=getattr(info, "detail", ""))
        try:
            report.frames = backtrace(kernel, thread.process, list(ctx.regs), pc)
        except Exception as exc:   # a corrupt stack or object never stops the report
            log.info("a7: backtrace stopped: %s", exc)
        return report


def _reg_name(i: int) -> str:
    return {13: "sp", 14: "lr", 15: "pc"}.get(i, f"r{i}")


# ---- objects: symbols, CFI and lines of each mapped ELF ------------------------------------------------------------
class _Object:
    def __init__(self, path: str, data: bytes) -> None:
        from elftools.elf.elffile import ELFFile
        self.path = path
        self.elf = ELFFile(io.BytesIO(data))
        self.symbols: list[tuple[int, int, str]] = []
        for name in (".symtab", ".dynsym"):
            section = self.elf.get_section_by_name(name)
            if section is None or not hasattr(section, "iter_symbols"):
                continue
            for sym in section.iter_symbols():
                if sym["st_info"]["type"] == "STT_FUNC" and sym.name and sym["st_value"]:
                    self.symbols.append((sym["st_value"] & ~1, sym["st_size"], sym.name))
        self.symbols.sort()
        self._starts = [s[0] for s in self.symbols]
        self.min_vaddr = min((seg["p_vaddr"] for seg in self.elf.iter_segments() if seg["p_type"] == "PT_LOAD"),
                             default=0) & ~0xFFF
        self._fdes = None
        self._lines = None

    def symbol(self, address: int) -> tuple[str, int] | None:
        i = bisect.bisect_right(self._starts, address) - 1
        if i < 0:
            return None
        start, size, name = self.symbols[i]
        if size and address >= start + size:
            return None
        return name, address - start

    def fdes(self):
        if self._fdes is None:
            self._fdes = []
            try:
                if self.elf.has_dwarf_info():
                    dwarf = self.elf.get_dwarf_info()
                    entries = []
                    if dwarf.has_CFI():
                        entries += dwarf.CFI_entries()
                    if dwarf.has_EH_CFI():
                        entries += dwarf.EH_CFI_entries()
                    for entry in entries:
                        if "initial_location" in entry.header:
                            start = entry.header["initial_location"]
                            self._fdes.append((start, start + entry.header["address_range"], entry))
                    self._fdes.sort(key=lambda x: x[0])
            except Exception as exc:
                log.debug("no CFI in %s: %s", self.path, exc)
        return self._fdes

    def cfi_row(self, address: int):
        for start, end, fde in self.fdes():
            if start <= address < end:
                table = fde.get_decoded().table
                row = None
                for candidate in table:
                    if candidate["pc"] <= address:
                        row = candidate
                    else:
                        break
                return row
        return None

    def line(self, address: int) -> str | None:
        if self._lines is None:
            self._lines = []
            try:
                if self.elf.has_dwarf_info():
                    dwarf = self.elf.get_dwarf_info()
                    for cu in dwarf.iter_CUs():
                        program = dwarf.line_program_for_CU(cu)
                        if program is None:
                            continue
                        files = program["file_entry"]
                        version = program.header["version"]
                        for entry in program.get_entries():
                            state = entry.state
                            if state is None or state.end_sequence:
                                continue
                            index = state.file - (0 if version >= 5 else 1)
                            name = files[index].name.decode("utf-8", "replace") if 0 <= index < len(files) else "?"
                            self._lines.append((state.address, f"{name}:{state.line}"))
                    self._lines.sort()
            except Exception as exc:
                log.debug("no line table in %s: %s", self.path, exc)
        i = bisect.bisect_right([a for a, _ in self._lines], address) - 1
        return self._lines[i][1] if i >= 0 else None


def _load_object(kernel, path: str) -> _Object | None:
    try:
        f = kernel.vfs.open(path, 0, 0, "/", None)
        data = f.pread(64 << 20, 0)
    except Exception:
        return None
    key = (path, len(data), hash(data[:4096]))
    if key not in _objects_cache:
        try:
            _objects_cache[key] = _Object(path, data)
        except Exception as exc:
            log.debug("cannot read %s for symbols: %s", path, exc)
            _objects_cache[key] = None
    return _objects_cache[key]


def _mapped_objects(kernel, process) -> list[tuple[int, int, int, _Object]]:
    """(start, end, bias, object) for each ELF file mapped with code."""
    out = []
    by_name: dict[str, list] = {}
    for vma in process.memory.vmas:
        if vma.name and vma.name.startswith("/"):
            by_name.setdefault(vma.name, []).append(vma)
    for name, vmas in by_name.items():
        obj = _load_object(kernel, name)
        if obj is None:
            continue
        first = min(vmas, key=lambda v: v.start - v.offset)
        bias = first.start - first.offset
        if obj.elf.header["e_type"] == "ET_EXEC":
            bias = 0
        for vma in vmas:
            if vma.prot & PROT_EXEC:
                out.append((vma.start, vma.end, bias, obj))
    return out


def backtrace(kernel, process, regs: list[int], pc: int) -> list[Frame]:
    memory = process.memory
    objects = _mapped_objects(kernel, process)

    def find(address: int):
        for start, end, bias, obj in objects:
            if start <= address < end:
                return bias, obj
        return None

    def describe(address: int, scanned: bool = False) -> Frame:
        hit = find(address)
        frame = Frame(address, scanned=scanned)
        if hit:
            bias, obj = hit
            frame.object = obj.path
            sym = obj.symbol(address - bias)
            if sym:
                frame.function, frame.offset = sym
            frame.source = obj.line(address - bias)
        return frame

    def read_word(address: int) -> int | None:
        try:
            return struct.unpack("<I", memory.read(address, 4))[0]
        except Exception:
            return None

    frames: list[Frame] = []
    regs = list(regs)
    regs[15] = pc
    lookup_pc = pc
    scanned = False
    seen = set()
    while len(frames) < MAX_FRAMES:
        current = regs[15] & ~1
        if (current, regs[13]) in seen or current == 0:
            break
        seen.add((current, regs[13]))
        frames.append(describe(current, scanned))
        hit = find(lookup_pc & ~1)
        row = hit[1].cfi_row((lookup_pc & ~1) - hit[0]) if hit else None
        if row is not None and "cfa" in row and row["cfa"].reg is not None:
            cfa = (regs[row["cfa"].reg] + row["cfa"].offset) & 0xFFFFFFFF
            new = list(regs)
            for reg, rule in row.items():
                if isinstance(reg, int) and rule.type == "OFFSET":
                    value = read_word(cfa + rule.arg)
                    if value is None:
                        return frames
                    new[reg] = value
            ret = new[14] if 14 in row else regs[14]
            new[13] = cfa
            new[15] = ret
            if ret & ~1 == 0 or (ret & ~1, cfa) == (current, regs[13]):
                break
            regs = new
            lookup_pc = (ret & ~1) - 2
            scanned = False
            continue
        # No CFI here: the innermost frame returns to LR; deeper ones are found by scanning the stack.
        if len(frames) == 1 and find(regs[14] & ~1) and regs[14] & ~1 != current:
            regs[15] = regs[14]
            lookup_pc = (regs[14] & ~1) - 2
            scanned = False
            continue
        found = _scan(memory, regs[13], find)
        if found is None:
            break
        slot, ret = found
        regs = list(regs)
        regs[13] = slot + 4
        regs[15] = ret
        lookup_pc = (ret & ~1) - 2
        scanned = True
    return frames


def _scan(memory, sp: int, find) -> tuple[int, int] | None:
    """The first stack word above `sp` that is a return address (just after a BL/BLX)."""
    for slot in range(sp, sp + SCAN_BYTES, 4):
        try:
            value = struct.unpack("<I", memory.read(slot, 4))[0]
        except Exception:
            return None
        if not find(value & ~1):
            continue
        if _after_call(memory, value):
            return slot, value
    return None


def _after_call(memory, ret: int) -> bool:
    try:
        if ret & 1:      # Thumb: BL/BLX imm is 32 bits (F000 D000 family); BLX reg is 16 bits (0x4780)
            before4 = memory.read((ret & ~1) - 4, 4)
            hw1, hw2 = struct.unpack("<HH", before4)
            if hw1 >> 11 == 0x1E and hw2 >> 14 == 0x3 and (hw2 >> 12) & 1 in (0, 1):
                return True
            return hw2 & 0xFF87 == 0x4780
        word = struct.unpack("<I", memory.read(ret - 4, 4))[0]
        return (word >> 24) & 0xF == 0xB or word & 0x0FFFFFF0 == 0x012FFF30 or word >> 25 == 0x7D
    except Exception:
        return False
