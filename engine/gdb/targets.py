"""Target descriptions (target.xml) and memory maps for GDB.

Register sets follow GDB's standard ARM features (GDB manual, "ARM Features"):
- IO cores (Cortex-M4F): `org.gnu.gdb.arm.m-profile` (r0-r12, sp, lr, pc, xpsr), `org.gnu.gdb.arm.m-system`
  (msp, psp; GDB requires both), the mask and control registers in the same feature (GDB shows extra registers
  of a known feature as raw registers), and `org.gnu.gdb.arm.vfp` with d0-d15 and fpscr: FPv4-SP-D16, whose
  single-precision registers s0-s31 GDB derives as pseudo registers from the d registers (s2n = low half of dn).
- The A7 (Cortex-A7, ARMv7-A with VFPv4-D32 and NEON): `org.gnu.gdb.arm.core` (r0-r12, sp, lr, pc, cpsr),
  `org.gnu.gdb.arm.vfp` (d0-d31, fpscr) and `org.gnu.gdb.arm.neon` (empty: GDB then derives q0-q15). It runs a
  Linux process, so its description names the OS ABI `GNU/Linux` as gdbserver's does: GDB then uses its
  arm-linux support (SVR4 shared libraries, signals, software single-step) whatever the ELF's own note says.
The remote register numbers (`p`/`P` and the order of `g`) are the `regnum` attributes below, counted from 0.
"""
from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape as xml_escape

from mt3620.engine.simulation.bus import AddressSpace


@dataclass(frozen=True)
class Register:
    name: str
    bits: int
    type: str           # GDB predefined type: uint32, code_ptr, data_ptr, ieee_double, int
    feature: str
    group: str = ""
    # how the CortexM4 reads it: a name of cortex_m.REGISTER_IDS, or "d<n>" (two single-precision halves)
    source: str = ""

    @property
    def size(self) -> int:
        return self.bits // 8


M_PROFILE = "org.gnu.gdb.arm.m-profile"
M_SYSTEM = "org.gnu.gdb.arm.m-system"
VFP = "org.gnu.gdb.arm.vfp"
A_CORE = "org.gnu.gdb.arm.core"
NEON = "org.gnu.gdb.arm.neon"


def _core_registers(feature: str, status: str) -> list[Register]:
    regs = [Register(f"r{i}", 32, "uint32", feature, source=f"r{i}") for i in range(13)]
    regs += [Register("sp", 32, "data_ptr", feature, source="sp"), Register("lr", 32, "uint32", feature, source="lr"),
             Register("pc", 32, "code_ptr", feature, source="pc"),
             Register(status, 32, "uint32", feature, source="xpsr" if status == "xpsr" else "cpsr")]
    return regs


M4F_REGISTERS: tuple[Register, ...] = tuple(
    _core_registers(M_PROFILE, "xpsr")
    + [Register(n, 32, "uint32", M_SYSTEM, "system", source=n)
       for n in ("msp", "psp", "primask", "basepri", "faultmask", "control")]
    + [Register(f"d{i}", 64, "ieee_double", VFP, "float", source=f"d{i}") for i in range(16)]
    + [Register("fpscr", 32, "uint32", VFP, "float", source="fpscr")])

A7_REGISTERS: tuple[Register, ...] = tuple(
    _core_registers(A_CORE, "cpsr")
    + [Register(f"d{i}", 64, "ieee_double", VFP, "float", source=f"d{i}") for i in range(32)]
    + [Register("fpscr", 32, "uint32", VFP, "float", source="fpscr")])

A7_FEATURES = (A_CORE, VFP, NEON)
A7_OSABI = "GNU/Linux"
M4F_FEATURES = (M_PROFILE, M_SYSTEM, VFP)


def target_xml(registers: tuple[Register, ...], features: tuple[str, ...], architecture: str = "arm",
               osabi: str | None = None) -> str:
    out = ['<?xml version="1.0"?>', '<!DOCTYPE target SYSTEM "gdb-target.dtd">', '<target version="1.0">',
           f"  <architecture>{xml_escape(architecture)}</architecture>"]
    if osabi:
        out.append(f"  <osabi>{xml_escape(osabi)}</osabi>")
    for feature in features:
        out.append(f'  <feature name="{feature}">')
        for num, reg in enumerate(registers):
            if reg.feature != feature:
                continue
            group = f' group="{reg.group}"' if reg.group else ""
            out.append(f'    <reg name="{reg.name}" bitsize="{reg.bits}" regnum="{num}" type="{reg.type}"{group}/>')
        out.append("  </feature>")
    out.append("</target>")
    return "\n".join(out) + "\n"


def m4f_target_xml() -> str:
    return target_xml(M4F_REGISTERS, M4F_FEATURES)


def a7_target_xml() -> str:
    return target_xml(A7_REGISTERS, A7_FEATURES, osabi=A7_OSABI)


def memory_map_xml(view: AddressSpace) -> str:
    """The regions a core can reach: memories as RAM (or ROM when read-only), device windows as RAM too (GDB's
    memory-map DTD has no I/O type; listing them keeps peripheral registers readable under GDB's default
    `mem inaccessible-by-default on`). Unlisted addresses are a bus fault on the chip, and GDB refuses them."""
    regions: list[list] = []  # [start, end, type]
    for m in view.mappings():
        kind = "rom" if m.memory is not None and m.memory.read_only else "ram"
        if regions and regions[-1][1] == m.start and regions[-1][2] == kind and m.memory is None \
                and regions[-1][3] is None:
            regions[-1][1] = m.end
            continue
        regions.append([m.start, m.end, kind, m.memory])
    out = ['<?xml version="1.0"?>',
           '<!DOCTYPE memory-map PUBLIC "+//IDN gnu.org//DTD GDB Memory Map V1.0//EN" '
           '"http://sourceware.org/gdb/gdb-memory-map.dtd">', "<memory-map>"]
    for start, end, kind, _ in regions:
        out.append(f'  <memory type="{kind}" start="0x{start:x}" length="0x{end - start:x}"/>')
    out.append("</memory-map>")
    return "\n".join(out) + "\n"
