"""A bare MT3620 IO core (CortexM4 on a TCM-only bus) running small Thumb programs assembled with keystone.

Programs are written as Thumb assembly. Keystone assembles A-profile Thumb-2 and rejects the M-profile forms of
MSR/MRS, so `msr <sysreg>, rN` and `mrs rN, <sysreg>` are encoded here (ARMv7-M ARM DDI 0403E, A7.7.82/A7.7.83:
MRS = F3EF 8000 | Rd<<8 | SYSm, MSR = F380|Rn 8800 | SYSm; SYSm numbers from B5.1.1).
`SAVE rX, n` stores rX into result word n (clobbers r12). Virtual time is stepped explicitly by `run_*`.
"""
from __future__ import annotations

import re
import struct

from keystone import KS_ARCH_ARM, KS_MODE_THUMB, Ks

from mt3620.engine.cortex_m import CortexM4
from mt3620.engine.simulation.bus import AddressSpace, Memory
from mt3620.engine.simulation.clock import VirtualClock, ps_for_cycles

TCM = 0x00100000
TCM_SIZE = 192 * 1024
STACK_TOP = 0x00130000
RESULTS = 0x00120000          # result words written by programs (SAVE)
UNEXPECTED = 0x0012FF00       # IPSR of an exception that had no handler in the program
NUM_VECTORS = 16 + 32
SCS = 0xE000E000

SYSM = {"apsr": 0, "iapsr": 1, "eapsr": 2, "xpsr": 3, "ipsr": 5, "epsr": 6, "iepsr": 7, "msp": 8, "psp": 9,
        "primask": 16, "basepri": 17, "basepri_max": 18, "faultmask": 19, "control": 20}

_ks = Ks(KS_ARCH_ARM, KS_MODE_THUMB)
_MSR = re.compile(r"^\s*msr\s+(\w+)\s*,\s*r(\d+)\s*$", re.I)
_MRS = re.compile(r"^\s*mrs\s+r(\d+)\s*,\s*(\w+)\s*$", re.I)
_SAVE = re.compile(r"^\s*SAVE\s+(r\d+|sp|lr)\s*,\s*(\d+)\s*$")
_LABEL = re.compile(r"^\s*([A-Za-z_]\w*):", re.M)


def _expand(line: str) -> str:
    m = _MSR.match(line)
    if m and m.group(1).lower() in SYSM:
        return f" .short 0x{0xF380 | int(m.group(2)):04x}, 0x{0x8800 | SYSM[m.group(1).lower()]:04x}"
    m = _MRS.match(line)
    if m and m.group(2).lower() in SYSM:
        return f" .short 0xf3ef, 0x{0x8000 | int(m.group(1)) << 8 | SYSM[m.group(2).lower()]:04x}"
    m = _SAVE.match(line)
    if m:
        reg = m.group(1)
        return f" ldr r12, ={RESULTS + 4 * int(m.group(2))}\n str {reg}, [r12]"
    return line


def assemble(source: str, base: int) -> bytes:
    text = "\n".join(_expand(line) for line in source.splitlines())
    encoding, _ = _ks.asm(text, base)
    return bytes(encoding or b"")


def build(body: str, handlers: dict[int, str] | None = None, *, sp: int = STACK_TOP,
          num_vectors: int = NUM_VECTORS) -> tuple[bytes, dict[str, int]]:
    """Vector table at TCM (word 0 = SP, word n = handler of exception n), then a label table, then the body."""
    handlers = {1: "reset", **(handlers or {})}
    labels = sorted(set(_LABEL.findall(body)))
    lines = [f" .word 0x{sp:08x}"]
    for n in range(1, num_vectors):
        lines.append(f" .word {handlers.get(n, '__unexpected')}+1")
    lines += [f" .word {name}" for name in labels]
    lines += [body, "__unexpected:", " mrs r0, ipsr", f" ldr r1, ={UNEXPECTED}", " str r0, [r1]",
              "__hang:", " b __hang", " .ltorg"]
    code = assemble("\n".join(lines), TCM)
    table = TCM + 4 * num_vectors
    addresses = {name: struct.unpack_from("<I", code, 4 * num_vectors + 4 * i)[0] for i, name in enumerate(labels)}
    assert table < min(addresses.values(), default=table + 1)
    return code, addresses


class Bare:
    """One IO core with 192 KB of TCM and nothing else on its bus, running `body`."""

    def __init__(self, body: str, handlers: dict[int, str] | None = None, *, hz: int = 26_000_000,
                 sp: int = STACK_TOP, stop_on_fault: bool = False) -> None:
        self.clock = VirtualClock()
        self.view = AddressSpace("io0")
        self.view.add_memory(TCM, Memory("tcm", TCM_SIZE))
        self.core = CortexM4("io0", self.clock, self.view, hz=hz, stop_on_fault=stop_on_fault)
        self.faults = []
        self.core.fault_listeners.append(self.faults.append)
        self.code, self.labels = build(body, handlers, sp=sp)
        self.view.write(TCM, self.code)
        self.core.reset(TCM)

    # ---- time -------------------------------------------------------------------------------------------------
    def run_until(self, t: int) -> None:
        """Advance the core and the clock to virtual time t (ps), firing events on the way."""
        core, clock = self.core, self.clock
        for _ in range(1_000_000):
            if core.time >= t or core.locked_up:
                break
            core.run_until(t)
            clock.advance_to(max(clock.now, min(core.time, t)))
        if clock.now < t:
            clock.advance_to(t)

    def run_cycles(self, cycles: int) -> None:
        self.run_until(self.core.time + ps_for_cycles(cycles, self.core.hz))

    def run_us(self, us: float) -> None:
        self.run_until(self.core.time + int(us * 1_000_000))

    # ---- memory -----------------------------------------------------------------------------------------------
    def word(self, address: int) -> int:
        return self.view.read_u32(address)

    def result(self, n: int) -> int:
        return self.view.read_u32(RESULTS + 4 * n)

    def results(self, count: int) -> list[int]:
        return list(struct.unpack(f"<{count}I", self.view.read(RESULTS, 4 * count)))

    def words(self, address: int, count: int) -> list[int]:
        return list(struct.unpack(f"<{count}I", self.view.read(address, 4 * count)))

    def unexpected(self) -> int:
        """IPSR of an exception taken with no handler in the program (0: none)."""
        return self.view.read_u32(UNEXPECTED)

    def scs(self, offset: int) -> int:
        return self.core.scs.read(offset, 4)

    def label(self, name: str) -> int:
        return self.labels[name]


def elf32(code: bytes, base: int = TCM) -> bytes:
    """A minimal ARM ELF executable: one PT_LOAD of `code` at `base`, e_entry = base (the vector table)."""
    header = struct.pack("<16sHHIIIIIHHHHHH", b"\x7fELF\x01\x01\x01" + bytes(9), 2, 40, 1, base, 52, 0,
                         0x05000400, 52, 32, 1, 40, 0, 0)
    phdr = struct.pack("<8I", 1, 0x100, base, base, len(code), len(code), 7, 4)
    return header + phdr + bytes(0x100 - 52 - 32) + code
