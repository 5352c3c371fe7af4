"""A bare MT3620 IO core (CortexM4 on a TCM-only bus) running small Thumb programs assembled with keystone.

Programs are written as Thumb assembly. Keystone assembles A-profile Thumb-2 and rejects the M-profile forms of
MSR/MRS, so `msr <sysreg>, rN` and `mrs rN, <sysreg>` are encoded here (ARMv7-M ARM DDI 0403E, A7.7.82/A7.7.83:
MRS = F3EF 8000 | Rd<<8 | SYSm, MSR = F380|Rn 8800 | SYSm; SYSm numbers from B5.1.1). Virtual time is stepped
explicitly by `run_*`.

Pseudo-instructions for what the tests do again and again (each is one line of the program; register names are
the SCS and SysTick models' own, so no offset is copied into a test):
  SAVE rX, n              store rX into result word n (clobbers r12)
  SET_RESULT n, value     store a constant (0..255) into result word n (clobbers r0, r12)
  LOAD_SAVE <where>, n    store the word at <where> into result word n (clobbers r0, r12)
  COUNT n                 add 1 to result word n (clobbers r0, r1)
  WRITE <where>, value    32-bit store (clobbers r0, r1); <where> is a register name (ICSR, SHCSR, SYST_RVR, ...) or
                          an address expression
  WRITEB <where>, value   8-bit store (clobbers r0, r1)
  ENABLE_IRQ a, b ...     ISER bits (clobbers r0, r1)
  IRQ_PRIORITY irq, p     the IPR byte of an interrupt (clobbers r0, r1)
  PEND_IRQ a, b ...       ISPR bits, then DSB and ISB (clobbers r0, r1)
  SET_PENDING kind        ICSR PENDSVSET, NMIPENDSET or PENDSTSET (kind pendsv, nmi, systick), then DSB and ISB
  SYSTICK reload, csr     SYST_RVR, then SYST_CSR (clobbers r0, r1)
  SKIP_FAULTING n         a fault handler's body: the stacked PC into result word n, then return past the 16-bit
                          faulting instruction (clobbers r0, r12)
  SAVE_FRAME word, n      a word of the exception frame on SP (r0 r1 r2 r3 r12 lr pc xpsr) into result word n
                          (clobbers r0, r12)
  SAVE_SP n / SAVE_SYSREG reg, n   SP, or a special register read with MRS, into result word n (clobbers r0, r12)
  PSP_THREAD sp, control  Thread mode on the process stack at `sp`, CONTROL = control (2: privileged, 3:
                          unprivileged), then ISB (clobbers r0)
  COPY_VECTORS to         copy the program's vector table (NUM_VECTORS words at TCM) to `to` (clobbers r0-r3)
  UNLESS_MULTIPLE rX, k, label   branch to label unless rX is a multiple of k (clobbers r0, r1; UDIV and MLS are
                          encoded here: keystone lacks the hardware divide)
The DSB + ISB after a pend make it take effect before the next instruction, as the architecture requires of software
(ARM AN321, "Memory barrier instructions", 4.9 / 4.13): the engine takes the interrupt at the end of the running
translation block, and ISB ends one.
"""
from __future__ import annotations

import hashlib
import itertools
import re
import struct

from keystone import KS_ARCH_ARM, KS_MODE_THUMB, Ks

from mt3620.engine.cortex_m import CortexM4
from mt3620.engine.cortex_m.scs import SystemControlSpace
from mt3620.engine.cortex_m.systick import SysTick
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

SYSTICK_OFFSET = 0x010          # SysTick's registers inside the SCS (SystemControlSpace.read dispatches there)
ICSR_SET = {"pendsv": "PENDSVSET", "nmi": "NMIPENDSET", "systick": "PENDSTSET"}


def scs_offset(name: str) -> int:
    """Offset in the SCS of a register, by the SCS or SysTick model's name ("ICSR", "ISER0", "SYST_CVR")."""
    if name.startswith("SYST_"):
        return SYSTICK_OFFSET + SysTick.offset(name)
    return SystemControlSpace.offset(name)


def scs_field(register: str, field: str) -> int:
    """Mask of a field of an SCS register, from the model's declaration."""
    for reg in SystemControlSpace.register_map():
        if reg.name == register:
            return next(f.mask for f in reg.fields if f.name == field)
    raise KeyError(f"no SCS register {register}")


def address(where: str) -> int:
    """A register name of the SCS or SysTick models, `NAME+n` (a byte of a register array), or a number."""
    name, _, plus = where.partition("+")
    if re.fullmatch(r"[A-Z][A-Z0-9_]*", name.strip()):
        return SCS + scs_offset(name.strip()) + (int(plus, 0) if plus else 0)
    return int(where, 0)


def _store(where: str, value: int, op: str = "str") -> list[str]:
    return [f" ldr r0, ={address(where)}", f" ldr r1, ={value}", f" {op} r1, [r0]"]


def _irq_words(irqs: list[int], base: str) -> list[str]:
    lines = []
    for word in sorted({irq // 32 for irq in irqs}):
        mask = sum(1 << irq % 32 for irq in irqs if irq // 32 == word)
        lines += _store(f"{base}{word}", mask)
    return lines


BARRIERS = [" dsb", " isb"]
_unique = itertools.count()
FRAME_WORDS = ("r0", "r1", "r2", "r3", "r12", "lr", "pc", "xpsr")   # the basic exception frame (B1.5.6)


def _args(text: str) -> list[str]:
    return [a.strip() for a in text.split(",") if a.strip()]


def _macro(name: str, args: list[str]) -> list[str] | None:
    num = lambda a: int(a, 0)  # noqa: E731
    if name == "SAVE":
        return [f" ldr r12, ={RESULTS + 4 * num(args[1])}", f" str {args[0]}, [r12]"]
    if name == "SET_RESULT":
        return [f" movs r0, #{num(args[1])}", *_macro("SAVE", ["r0", args[0]])]
    if name == "LOAD_SAVE":
        return [f" ldr r0, ={address(args[0])}", " ldr r0, [r0]", *_macro("SAVE", ["r0", args[1]])]
    if name == "COUNT":
        return [f" ldr r0, ={RESULTS + 4 * num(args[0])}", " ldr r1, [r0]", " adds r1, #1", " str r1, [r0]"]
    if name == "WRITE":
        return _store(args[0], num(args[1]))
    if name == "WRITEB":
        return _store(args[0], num(args[1]), "strb")
    if name == "ENABLE_IRQ":
        return _irq_words([num(a) for a in args], "ISER")
    if name == "PEND_IRQ":
        return _irq_words([num(a) for a in args], "ISPR") + BARRIERS
    if name == "IRQ_PRIORITY":
        return _store(f"IPR0+{num(args[0])}", num(args[1]), "strb")
    if name == "SET_PENDING":
        return _store("ICSR", scs_field("ICSR", ICSR_SET[args[0].lower()])) + BARRIERS
    if name == "SYSTICK":
        return _store("SYST_RVR", num(args[0])) + _store("SYST_CSR", num(args[1]))
    if name == "SAVE_FRAME":
        return [f" ldr r0, [sp, #{4 * FRAME_WORDS.index(args[0])}]", *_macro("SAVE", ["r0", args[1]])]
    if name == "SAVE_SP":
        return [" mov r0, sp", *_macro("SAVE", ["r0", args[0]])]
    if name == "SAVE_SYSREG":
        return [f" mrs r0, {args[0]}", *_macro("SAVE", ["r0", args[1]])]
    if name == "PSP_THREAD":
        return [f" ldr r0, ={num(args[0])}", " msr psp, r0", f" movs r0, #{num(args[1])}", " msr control, r0", " isb"]
    if name == "COPY_VECTORS":
        loop = f"__copy_vectors_{next(_unique)}"     # keystone has no numeric local labels
        return [f" ldr r0, ={TCM}", f" ldr r1, ={num(args[0])}", f" movs r2, #{NUM_VECTORS}", f"{loop}:",
                " ldr r3, [r0], #4", " str r3, [r1], #4", " subs r2, #1", f" bne {loop}"]
    if name == "UNLESS_MULTIPLE":
        rx = int(args[0][1:])
        return [f" movs r0, #{num(args[1])}",
                f" .short 0x{0xFBB0 | rx:04x}, 0x{0xF1F0:04x}",       # udiv r1, rX, r0
                f" mls r1, r1, r0, r{rx}", f" cbnz r1, {args[2]}"]
    if name == "SKIP_FAULTING":
        return [" ldr r0, [sp, #24]", *_macro("SAVE", ["r0", args[0]]), " adds r0, #2", " str r0, [sp, #24]",
                " bx lr"]
    return None


_ks = Ks(KS_ARCH_ARM, KS_MODE_THUMB)
_MSR = re.compile(r"^\s*msr\s+(\w+)\s*,\s*r(\d+)\s*$", re.I)
_MRS = re.compile(r"^\s*mrs\s+r(\d+)\s*,\s*(\w+)\s*$", re.I)
_PSEUDO = re.compile(r"^\s*([A-Z][A-Z_]+)\b\s*(.*?)\s*$")
_LABEL = re.compile(r"^\s*([A-Za-z_]\w*):", re.M)


def _expand(line: str) -> str:
    m = _MSR.match(line)
    if m and m.group(1).lower() in SYSM:
        return f" .short 0x{0xF380 | int(m.group(2)):04x}, 0x{0x8800 | SYSM[m.group(1).lower()]:04x}"
    m = _MRS.match(line)
    if m and m.group(2).lower() in SYSM:
        return f" .short 0xf3ef, 0x{0x8000 | int(m.group(1)) << 8 | SYSM[m.group(2).lower()]:04x}"
    m = _PSEUDO.match(line.split("@", 1)[0])
    if m:
        lines = _macro(m.group(1), _args(m.group(2)))
        if lines is not None:
            return "\n".join(_expand(ln) for ln in lines)
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
            core.window_ends(t)
            clock.advance_to(max(clock.now, min(core.time, t)))
        if clock.now < t:
            clock.advance_to(t)

    def run_cycles(self, cycles: int) -> None:
        self.run_until(self.core.time + ps_for_cycles(cycles, self.core.hz))

    def run_us(self, us: float) -> None:
        self.run_until(self.core.time + int(us * 1_000_000))

    def pulse(self, irq: int, at: int, width: int = 1000) -> None:
        """A model's interrupt line high at virtual time `at` for `width` ps."""
        self.clock.schedule_at(at, lambda: self.core.set_irq(irq, True), "up")
        self.clock.schedule_at(at + width, lambda: self.core.set_irq(irq, False), "down")

    def start_systick(self, reload: int, csr: int) -> int:
        """SysTick from the Python side: RVR, CVR cleared, then CSR; returns the time it started counting."""
        scs = self.core.scs
        scs.write(scs_offset("SYST_RVR"), 4, reload)
        scs.write(scs_offset("SYST_CVR"), 4, 0)
        start = scs.systick.clock.now       # the core's own clock (CortexM4.private_clock)
        scs.write(scs_offset("SYST_CSR"), 4, csr)
        return start

    def cycles_after(self, start: int, cycles: int) -> int:
        """The time `cycles` of the core clock after `start`."""
        return start + ps_for_cycles(cycles, self.core.hz)

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

    def scs(self, register: int | str) -> int:
        """An SCS register by offset or by the model's name ("CFSR", "SYST_CSR")."""
        offset = scs_offset(register) if isinstance(register, str) else register
        return self.core.scs.read(offset, 4)

    def label(self, name: str) -> int:
        return self.labels[name]


def edited(program: str, old: str, new: str) -> str:
    """A variant of a test program (the text replaced must be there)."""
    assert old in program, f"{old!r} is not in the program"
    return program.replace(old, new)


def run_to_fault(instruction: str, vector: int = 3, *, us: float = 10) -> Bare:
    """Runs `instruction` (labelled `faulting`; more lines may follow) right after reset, with a handler for exception `vector` (HardFault
    by default) that records the stacked PC in result word 0 and stops there."""
    code = "\n".join(f" {line.strip()}" for line in instruction.strip().splitlines())
    body = f"reset:\nfaulting:\n{code}\n__fault:\n SAVE_FRAME pc, 0\n__stop: b __stop\n"
    return run_program(body, {vector: "__fault"}, us=us)


def run_program(body: str, handlers: dict[int, str] | None = None, *, us: float, **options) -> Bare:
    """A bare core running `body` for `us` microseconds of virtual time."""
    bare = Bare(body, handlers, **options)
    bare.run_us(us)
    return bare


def elf32(code: bytes, base: int = TCM) -> bytes:
    """A minimal ARM ELF executable: one PT_LOAD of `code` at `base`, e_entry = base (the vector table)."""
    header = struct.pack("<16sHHIIIIIHHHHHH", b"\x7fELF\x01\x01\x01" + bytes(9), 2, 40, 1, base, 52, 0,
                         0x05000400, 52, 32, 1, 40, 0, 0)
    phdr = struct.pack("<8I", 1, 0x100, base, base, len(code), len(code), 7, 4)
    return header + phdr + bytes(0x100 - 52 - 32) + code


# ---- comparing runs -------------------------------------------------------------------------------------------------
REGISTERS = ([f"r{i}" for i in range(13)] + ["sp", "lr", "pc", "xpsr", "msp", "psp", "primask", "basepri",
                                             "faultmask", "control", "fpscr"] + [f"s{i}" for i in range(32)])


def snapshot(core, memories) -> tuple:
    """What two runs of one program must agree on at a checkpoint: instructions, time, every register, the memory
    and the NVIC state."""
    regs = tuple(core.reg(r) for r in REGISTERS)
    digest = hashlib.sha256()
    for m in memories:
        digest.update(m.memory.read(0, m.memory.size))
    return (core.instructions, core.time, regs, digest.hexdigest(), tuple(core.state.active),
            tuple(sorted(core.state.pending)), core.sleeping)


def set_switch(monkeypatch, name: str, on: bool) -> None:
    """An engine switch in the environment (MT3620_PYTHON_EXCEPTIONS, MT3620_NO_DIRECT_REGS) on or off for this
    test: the engine reads it when a core is built."""
    if on:
        monkeypatch.setenv(name, "1")
    else:
        monkeypatch.delenv(name, raising=False)
