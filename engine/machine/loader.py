"""ELF loader for IO-core apps (RTApps).

An RTApp's e_entry is its vector table (0x00100000 in the Azure Sphere samples), not code: word 0 is the initial
MSP and word 1 the reset handler (Azure/azure-sphere-samples HelloWorld_RTApp_MT3620_BareMetal linker.ld). The
samples have no C runtime, so the loader does its work: every PT_LOAD segment is copied to p_vaddr and the bytes
from p_filesz to p_memsz are zero-filled (.bss). Segments may go to TCM, SYSRAM or the XIP flash window.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from mt3620.engine.simulation.elf_header import arm_elf_refusal
from mt3620.engine.simulation.access import BusError
from mt3620.engine.simulation.bus import AddressSpace

PT_LOAD = 1


class LoadError(ValueError):
    """The file is not an ELF this core can run; the message says why."""


@dataclass(frozen=True)
class Segment:
    address: int
    file_size: int
    mem_size: int
    flags: int


@dataclass(frozen=True)
class LoadedImage:
    path: str
    entry: int
    segments: tuple[Segment, ...]
    initial_sp: int
    reset_handler: int
    symbols: dict[str, int]


def read_elf(data: bytes, name: str = "<elf>") -> tuple[int, list[tuple[Segment, bytes]], dict[str, int]]:
    """Validate and parse an ARM ELF image: (entry, [(segment, file bytes)], symbols)."""
    refusal = arm_elf_refusal(data, "IO cores run")
    if refusal:
        raise LoadError(f"{name}: {refusal}")
    e_type = int.from_bytes(data[16:18], "little")
    try:
        elf = ELFFile(io.BytesIO(data))
        interpreter = next((seg for seg in elf.iter_segments() if seg["p_type"] == "PT_INTERP"), None)
        if interpreter is not None or e_type == 3:  # ET_DYN
            what = f"interpreter {interpreter.get_interp_name()}" if interpreter is not None else "position independent"
            raise LoadError(f"{name}: a high-level application for the A7 (dynamically linked, {what}); the A7 does "
                            f"not execute yet: give --rt0/--rt1 a real-time app (a static ELF with its vector table "
                            f"at e_entry)")
        loads = []
        for seg in elf.iter_segments():
            if seg["p_type"] != "PT_LOAD" or seg["p_memsz"] == 0:
                continue
            offset, filesz, memsz = seg["p_offset"], seg["p_filesz"], seg["p_memsz"]
            if filesz > memsz:
                raise LoadError(f"{name}: segment at 0x{seg['p_vaddr']:08x} has p_filesz > p_memsz")
            if offset + filesz > len(data):
                raise LoadError(f"{name}: truncated: segment at 0x{seg['p_vaddr']:08x} needs bytes "
                                f"{offset}..{offset + filesz} but the file has {len(data)}")
            loads.append((Segment(seg["p_vaddr"], filesz, memsz, seg["p_flags"]), data[offset:offset + filesz]))
        symbols: dict[str, int] = {}
        symtab = elf.get_section_by_name(".symtab")
        if symtab is not None and hasattr(symtab, "iter_symbols"):
            for sym in symtab.iter_symbols():
                if sym.name and sym["st_info"]["type"] in ("STT_FUNC", "STT_OBJECT", "STT_NOTYPE"):
                    symbols.setdefault(sym.name, sym["st_value"])
        entry = elf.header["e_entry"]
    except LoadError:
        raise
    except (ELFError, ValueError, KeyError, IndexError, EOFError, OSError) as exc:
        raise LoadError(f"{name}: malformed ELF: {exc}") from None
    except Exception as exc:  # construct's StreamError and friends: still a malformed file
        raise LoadError(f"{name}: malformed ELF: {type(exc).__name__}: {exc}") from None
    if not loads:
        raise LoadError(f"{name}: no PT_LOAD segments: nothing to load")
    ordered = sorted(loads, key=lambda item: item[0].address)
    for (a, _), (b, _) in zip(ordered, ordered[1:]):
        if a.address + a.mem_size > b.address:
            raise LoadError(f"{name}: segments overlap: 0x{a.address:08x}+0x{a.mem_size:x} and 0x{b.address:08x}")
    return entry, loads, symbols


def load_elf(view: AddressSpace, path: str | Path | None = None, data: bytes | None = None) -> LoadedImage:
    """Copy an RTApp into a core's address space; returns where it went and its vector table entries."""
    if data is None:
        if path is None:
            raise ValueError("load_elf needs a path or data")
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise LoadError(f"{path}: cannot read: {exc.strerror or exc}") from None
    name = str(path) if path is not None else "<elf>"
    entry, loads, symbols = read_elf(data, name)
    for seg, content in loads:
        end = seg.address + seg.mem_size
        for probe in (seg.address, end - 1):
            m = view.find(probe)
            if m is None or m.memory is None:
                raise LoadError(f"{name}: segment 0x{seg.address:08x}-0x{end - 1:08x} is outside the memory of "
                                f"{view.name} (TCM 0x00100000, SYSRAM 0x22000000, XIP 0x10000000)")
        first = view.find(seg.address)
        if view.find(end - 1) is not first:
            raise LoadError(f"{name}: segment 0x{seg.address:08x}-0x{end - 1:08x} spans two memories")
        try:
            view.write(seg.address, content + bytes(seg.mem_size - seg.file_size))
        except BusError as exc:
            raise LoadError(f"{name}: {exc}") from None
    try:
        sp = view.read_u32(entry)
        reset = view.read_u32(entry + 4)
    except BusError:
        raise LoadError(f"{name}: e_entry 0x{entry:08x} (the vector table) is not in loaded memory") from None
    if not reset & 1:
        raise LoadError(f"{name}: reset vector 0x{reset:08x} at e_entry+4 is not a Thumb address "
                        f"(is e_entry the vector table?)")
    return LoadedImage(name, entry, tuple(s for s, _ in loads), sp, reset, symbols)
