"""System Control Space of an IO core (0xE000E000): NVIC, SCB, SysTick and FPU control registers.

Register layout and reset values from the ARMv7-M Architecture Reference Manual (DDI 0403E, B3.2, B3.4) and the
Cortex-M4 TRM (ID registers, CPUID r0p1 = 0x410FC241). The exception logic itself is the pure ExceptionState in
engine/nvic.py; this block only turns register accesses into edits of that state.

Emulator-defined: 128 interrupt lines (ICTR = 3); no MPU is modelled, so MPU_TYPE reads 0 (no regions) and the
MPU registers read as zero; CCR trap bits are stored but unaligned/divide-by-zero traps are not raised.
"""
from __future__ import annotations

from typing import Callable

from mt3620.engine.simulation.access import TEST_ACCESS, Access
from mt3620.engine.simulation.clock import VirtualClock
from mt3620.engine.simulation.peripheral import COLD, Field, Peripheral, Register, RegisterArray, ResetKind
from mt3620.engine.simulation.registers import LANE_BYTES

from .nvic import BUSFAULT, EXTERNAL_BASE, MEMMANAGE, NMI, PENDSV, SVCALL, SYSTICK, USAGEFAULT, ExceptionState
from .systick import SysTick

CPUID_CORTEX_M4 = 0x410FC241
AIRCR_VECTKEY = 0x05FA
AIRCR_VECTKEYSTAT = 0xFA05

# CFSR bits (B3.2.15)
MMFSR_IACCVIOL, MMFSR_DACCVIOL, MMFSR_MMARVALID = 1 << 0, 1 << 1, 1 << 7
BFSR_IBUSERR, BFSR_PRECISERR, BFSR_IMPRECISERR, BFSR_STKERR, BFSR_BFARVALID = (1 << 8, 1 << 9, 1 << 10,
                                                                                1 << 12, 1 << 15)
UFSR_UNDEFINSTR, UFSR_INVSTATE, UFSR_INVPC, UFSR_NOCP = 1 << 16, 1 << 17, 1 << 18, 1 << 19
UFSR_UNALIGNED, UFSR_DIVBYZERO = 1 << 24, 1 << 25
HFSR_VECTTBL, HFSR_FORCED = 1 << 1, 1 << 30

# Cortex-M4 feature registers (Cortex-M4 TRM r0p1, table 4-1 / 7-1)
ID_REGISTERS = {
    0xD40: ("ID_PFR0", 0x00000030), 0xD44: ("ID_PFR1", 0x00000200), 0xD48: ("ID_DFR0", 0x00100000),
    0xD4C: ("ID_AFR0", 0x00000000), 0xD50: ("ID_MMFR0", 0x00100030), 0xD54: ("ID_MMFR1", 0x00000000),
    0xD58: ("ID_MMFR2", 0x01000000), 0xD5C: ("ID_MMFR3", 0x00000000), 0xD60: ("ID_ISAR0", 0x01101110),
    0xD64: ("ID_ISAR1", 0x02111000), 0xD68: ("ID_ISAR2", 0x21112231), 0xD6C: ("ID_ISAR3", 0x01111110),
    0xD70: ("ID_ISAR4", 0x01310132), 0xF40: ("MVFR0", 0x10110021), 0xF44: ("MVFR1", 0x11000011),
}


# System handlers whose state SHCSR shows (ARMv7-M ARM B3.2.13), by exception number: (active field, pended field)
SHCSR_FIELDS = {MEMMANAGE: ("MEMFAULTACT", "MEMFAULTPENDED"), BUSFAULT: ("BUSFAULTACT", "BUSFAULTPENDED"),
                USAGEFAULT: ("USGFAULTACT", "USGFAULTPENDED"), SVCALL: ("SVCALLACT", "SVCALLPENDED"),
                12: ("MONITORACT", None), PENDSV: ("PENDSVACT", None), SYSTICK: ("SYSTICKACT", None)}
FAULT_ENABLES = {MEMMANAGE: "MEMFAULTENA", BUSFAULT: "BUSFAULTENA", USAGEFAULT: "USGFAULTENA"}
NVIC_WORDS = 16                 # ISER..IABR: 16 words each (496 interrupts) in the ARMv7-M map
IPR_WORDS = 124


def _nvic_array(name: str, offset: int, read: str, write: str | None) -> RegisterArray:
    return RegisterArray(name, offset, count=NVIC_WORDS, stride=4, registers=Register(0, name, read=read, write=write))


class SystemControlSpace(Peripheral):
    SIZE = 0x1000
    REGISTERS = (
        Register(0x004, "ICTR", fields=(Field("INTLINESNUM", 0, 4, access="ro", reset=3),)),
        Register(0x008, "ACTLR"),
        # SysTick (0x010..0x01F) is its own block (systick.py); reads and writes there go to it.
        _nvic_array("ISER", 0x100, "_read_enabled", "_write_iser"),
        _nvic_array("ICER", 0x180, "_read_enabled", "_write_icer"),
        _nvic_array("ISPR", 0x200, "_read_pending", "_write_ispr"),
        _nvic_array("ICPR", 0x280, "_read_pending", "_write_icpr"),
        _nvic_array("IABR", 0x300, "_read_active", None),
        RegisterArray("IPR", 0x400, count=IPR_WORDS, stride=4, doc="one priority byte per interrupt",
                      registers=Register(0, "IPR", read="_read_ipr", write="_write_ipr")),
        Register(0xD00, "CPUID", access="ro", reset=CPUID_CORTEX_M4),
        Register(0xD04, "ICSR", read="_read_icsr", write="_write_icsr", fields=(
            Field("VECTACTIVE", 0, 9, access="ro"), Field("RETTOBASE", 11, access="ro"),
            Field("VECTPENDING", 12, 9, access="ro"), Field("ISRPENDING", 22, access="ro"),
            Field("PENDSTCLR", 25, access="wo"), Field("PENDSTSET", 26), Field("PENDSVCLR", 27, access="wo"),
            Field("PENDSVSET", 28), Field("NMIPENDSET", 31))),
        Register(0xD08, "VTOR", fields=(Field("TBLOFF", 7, 25),), write="_write_vtor"),
        Register(0xD0C, "AIRCR", read="_read_aircr", write="_write_aircr", fields=(
            Field("VECTRESET", 0, access="wo"), Field("VECTCLRACTIVE", 1, access="wo"),
            Field("SYSRESETREQ", 2, access="wo"), Field("PRIGROUP", 8, 3), Field("ENDIANNESS", 15, access="ro"),
            Field("VECTKEY", 16, 16, doc="0x05FA to write; reads 0xFA05"))),
        Register(0xD10, "SCR", fields=(Field("SLEEPONEXIT", 1), Field("SLEEPDEEP", 2), Field("SEVONPEND", 4))),
        Register(0xD14, "CCR", reset=0x200, fields=(
            Field("NONBASETHRDENA", 0), Field("USERSETMPEND", 1), Field("UNALIGN_TRP", 3),
            Field("DIV_0_TRP", 4), Field("BFHFNMIGN", 8), Field("STKALIGN", 9, reset=1))),
        RegisterArray("SHPR", 0xD18, count=3, stride=4, first=1, doc="one priority byte per system handler",
                      registers=Register(0, "SHPR", read="_read_shpr", write="_write_shpr")),
        Register(0xD24, "SHCSR", read="_read_shcsr", write="_write_shcsr", fields=(
            Field("MEMFAULTACT", 0, access="ro"), Field("BUSFAULTACT", 1, access="ro"),
            Field("USGFAULTACT", 3, access="ro"), Field("SVCALLACT", 7, access="ro"),
            Field("MONITORACT", 8, access="ro"), Field("PENDSVACT", 10, access="ro"),
            Field("SYSTICKACT", 11, access="ro"), Field("USGFAULTPENDED", 12), Field("MEMFAULTPENDED", 13),
            Field("BUSFAULTPENDED", 14), Field("SVCALLPENDED", 15), Field("MEMFAULTENA", 16),
            Field("BUSFAULTENA", 17), Field("USGFAULTENA", 18))),
        Register(0xD28, "CFSR", access="w1c"),
        Register(0xD2C, "HFSR", access="w1c"),
        Register(0xD30, "DFSR", access="w1c"),
        Register(0xD34, "MMFAR"),
        Register(0xD38, "BFAR"),
        Register(0xD3C, "AFSR", access="w1c"),
        *(Register(off, name, access="ro", reset=value) for off, (name, value) in ID_REGISTERS.items()),
        # CoreDebug (ARMv7-M ARM C1.6): no debugger is attached from the guest's point of view (DHCSR.C_DEBUGEN
        # reads 0); DEMCR.TRCENA gates the DWT and ITM on silicon and is stored here.
        Register(0xDF0, "DHCSR", access="ro"),
        Register(0xDF4, "DCRSR", access="wo"),
        Register(0xDF8, "DCRDR"),
        Register(0xDFC, "DEMCR", fields=(Field("VC_CORERESET", 0), Field("VC_MMERR", 4), Field("VC_NOCPERR", 5),
                                         Field("VC_CHKERR", 6), Field("VC_STATERR", 7), Field("VC_BUSERR", 8),
                                         Field("VC_INTERR", 9), Field("VC_HARDERR", 10), Field("MON_EN", 16),
                                         Field("MON_PEND", 17), Field("MON_STEP", 18), Field("MON_REQ", 19),
                                         Field("TRCENA", 24))),
        Register(0xD88, "CPACR", fields=(Field("CP10", 20, 2), Field("CP11", 22, 2))),
        # No MPU is modelled (MPU_TYPE = 0 regions): its registers read as zero and ignore writes.
        Register(0xD90, "MPU_TYPE", access="ro"),
        *(Register(0xD94 + 4 * k, name, access="ro") for k, name in enumerate((
            "MPU_CTRL", "MPU_RNR", "MPU_RBAR", "MPU_RASR", "MPU_RBAR_A1", "MPU_RASR_A1", "MPU_RBAR_A2",
            "MPU_RASR_A2", "MPU_RBAR_A3", "MPU_RASR_A3"))),
        Register(0xF00, "STIR", fields=(Field("INTID", 0, 9, access="wo"),), write="_write_stir"),
        Register(0xF34, "FPCCR", reset=0xC0000000, fields=(
            Field("LSPACT", 0), Field("USER", 1), Field("THREAD", 3), Field("HFRDY", 4), Field("MMRDY", 5),
            Field("BFRDY", 6), Field("MONRDY", 8), Field("LSPEN", 30, reset=1), Field("ASPEN", 31, reset=1))),
        Register(0xF38, "FPCAR", fields=(Field("ADDRESS", 3, 29),)),
        Register(0xF3C, "FPDSCR", fields=(Field("RMode", 22, 2), Field("FZ", 24), Field("DN", 25),
                                          Field("AHP", 26))),
    )

    def __init__(self, name: str | None = None, clock: VirtualClock | None = None, *,
                 state: ExceptionState | None = None, hz: int = 26_000_000,
                 on_change: Callable[[], None] = lambda: None,
                 on_reset_request: Callable[[], None] = lambda: None,
                 on_vtor_change: Callable[[int], None] = lambda v: None, **attributes) -> None:
        self.state = state or ExceptionState()
        self._on_change = on_change
        self._on_reset_request = on_reset_request
        self._on_vtor_change = on_vtor_change
        clock = clock or VirtualClock()
        self.systick = SysTick(f"{name or 'scs'}.systick", clock, hz=hz, pend=self._pend_systick)
        super().__init__(name or "scs", clock, **attributes)

    def reset(self, kind: ResetKind = COLD) -> None:
        super().reset(kind)
        self.state.reset()
        self.regs.ICTR.INTLINESNUM = self.state.num_irqs // 32 - 1
        self.systick.reset(kind)

    def attach_clock(self, clock: VirtualClock) -> None:
        super().attach_clock(clock)
        self.systick.attach_clock(clock)

    # ---- dispatch: SysTick is a block of its own inside the SCS ----------------------------------------------------
    def read(self, offset: int, size: int = 4, access: Access = TEST_ACCESS) -> int:
        if 0x010 <= offset < 0x020:
            return self.systick.read(offset - 0x010, size, access)
        return Peripheral.read(self, offset, size, access)

    def write(self, offset: int, size: int, value: int, access: Access = TEST_ACCESS) -> None:
        if 0x010 <= offset < 0x020:
            self.systick.write(offset - 0x010, size, value, access)
            return
        Peripheral.write(self, offset, size, value, access)

    def is_volatile(self, offset: int) -> bool:
        if 0x010 <= offset < 0x020:
            return self.systick.is_volatile(offset - 0x010)
        return super().is_volatile(offset)

    # ---- NVIC: a bit per interrupt in ISER..IABR, a byte per interrupt in IPR ---------------------------------------
    def _irq_word(self, index: int, member: Callable[[int], bool]) -> int:
        first = index * 32
        return sum(1 << bit for bit in range(min(32, self.state.num_irqs - first)) if member(first + bit))

    def _read_enabled(self, index: int) -> int:
        return self._irq_word(index, self.state.enabled.__contains__)

    def _read_pending(self, index: int) -> int:
        return self._irq_word(index, lambda irq: EXTERNAL_BASE + irq in self.state.pending)

    def _read_active(self, index: int) -> int:
        return self._irq_word(index, lambda irq: EXTERNAL_BASE + irq in self.state.active)

    def _irqs_written(self, index: int, value: int, lanes: int) -> list[int]:
        """The interrupts whose bit was written as 1 (only the bytes the access wrote, only lines that exist)."""
        first = index * 32
        bits = value & lanes & ((1 << max(0, min(32, self.state.num_irqs - first))) - 1)
        irqs = []
        while bits:
            low = bits & -bits
            irqs.append(first + low.bit_length() - 1)
            bits ^= low
        return irqs

    def _write_iser(self, index: int, value: int, lanes: int) -> None:
        self.state.enabled.update(self._irqs_written(index, value, lanes))
        self._on_change()

    def _write_icer(self, index: int, value: int, lanes: int) -> None:
        self.state.enabled.difference_update(self._irqs_written(index, value, lanes))
        self._on_change()

    def _write_ispr(self, index: int, value: int, lanes: int) -> None:
        self.state.pending.update(EXTERNAL_BASE + irq for irq in self._irqs_written(index, value, lanes))
        self._on_change()

    def _write_icpr(self, index: int, value: int, lanes: int) -> None:
        st = self.state
        for irq in self._irqs_written(index, value, lanes):
            number = EXTERNAL_BASE + irq
            st.pending.discard(number)
            if st.line_level.get(irq) and number not in st.active:
                st.pending.add(number)  # a level still asserted pends again at once
        self._on_change()

    def _priority_word(self, first: int, count: int) -> int:
        return sum((self.state.get_priority(first + k) & 0xFF) << (8 * k) for k in range(count))

    def _read_ipr(self, index: int) -> int:
        return self._priority_word(EXTERNAL_BASE + 4 * index, max(0, min(4, self.state.num_irqs - 4 * index)))

    def _write_ipr(self, index: int, value: int, lanes: int) -> None:
        for k in LANE_BYTES[lanes]:
            irq = 4 * index + k
            if irq < self.state.num_irqs:
                self.state.set_priority(EXTERNAL_BASE + irq, (value >> (8 * k)) & 0xFF)
        self._on_change()

    # ---- SCB --------------------------------------------------------------------------------------------------
    def _read_icsr(self) -> int:
        st = self.state
        return self.regs.ICSR.encode(
            NMIPENDSET=NMI in st.pending, PENDSVSET=PENDSV in st.pending, PENDSTSET=SYSTICK in st.pending,
            ISRPENDING=any(n >= EXTERNAL_BASE and st.is_enabled(n) for n in st.pending),
            VECTPENDING=st.vectpending() & 0x1FF, RETTOBASE=st.rettobase(),
            VECTACTIVE=(st.active[-1] if st.active else 0) & 0x1FF)

    def _write_icsr(self, value: int) -> None:
        st, icsr = self.state, self.regs.ICSR
        if icsr.NMIPENDSET:
            st.pending.add(NMI)
        if icsr.PENDSVSET:
            st.pending.add(PENDSV)
        if icsr.PENDSVCLR:
            st.pending.discard(PENDSV)
        if icsr.PENDSTSET:
            st.pending.add(SYSTICK)
        if icsr.PENDSTCLR:
            st.pending.discard(SYSTICK)
        icsr.value = 0                          # the set/clear bits act once; reads show the live state
        self._on_change()

    def _write_vtor(self, value: int) -> None:
        self._on_vtor_change(self.regs.VTOR.value)

    def _read_aircr(self) -> int:
        return self.regs.AIRCR.encode(VECTKEY=AIRCR_VECTKEYSTAT, PRIGROUP=self.state.prigroup)

    def _write_aircr(self, value: int) -> None:
        aircr = self.regs.AIRCR
        if aircr.VECTKEY == AIRCR_VECTKEY:      # writes without the key are ignored (B3.2.6)
            self.state.prigroup = aircr.PRIGROUP
            if aircr.VECTCLRACTIVE:
                self.state.active.clear()
            if aircr.SYSRESETREQ:
                self._on_reset_request()
            self._on_change()
        aircr.value = 0                         # PRIGROUP lives in the exception state; the rest acts once

    def _read_shpr(self, index: int) -> int:
        return self._priority_word(4 * (index + 1), 4)

    def _write_shpr(self, index: int, value: int, lanes: int) -> None:
        for k in LANE_BYTES[lanes]:
            number = 4 * (index + 1) + k
            if number in (MEMMANAGE, BUSFAULT, USAGEFAULT, SVCALL, 12, PENDSV, SYSTICK):
                self.state.set_priority(number, (value >> (8 * k)) & 0xFF)
        self._on_change()

    def _read_shcsr(self) -> int:
        shcsr = self.regs.SHCSR.detached(self.regs.SHCSR.value)
        for number, (active, pended) in SHCSR_FIELDS.items():
            setattr(shcsr, active, number in self.state.active)
            if pended:
                setattr(shcsr, pended, number in self.state.pending)
        return shcsr.value

    def _write_shcsr(self, value: int, lanes: int) -> None:
        shcsr = self.regs.SHCSR
        for number, (_, pended) in SHCSR_FIELDS.items():
            if pended is None or not lanes & 0xFF00:     # the PENDED bits are all in byte 1
                continue
            if getattr(shcsr, pended):
                self.state.pending.add(number)
            else:
                self.state.pending.discard(number)
            setattr(shcsr, pended, 0)           # pended state lives in the exception state; enables stay stored
        self._on_change()

    def _write_stir(self, value: int) -> None:
        irq = self.regs.STIR.INTID
        if irq < self.state.num_irqs:
            self.state.pending.add(EXTERNAL_BASE + irq)
            self._on_change()

    def _pend_systick(self) -> None:
        self.state.pending.add(SYSTICK)
        self._on_change()

    # ---- used by the core -------------------------------------------------------------------------------------
    def fault_enabled(self, number: int) -> bool:
        return bool(getattr(self.regs.SHCSR, FAULT_ENABLES[number]))

    def record_fault(self, cfsr_bits: int = 0, hfsr_bits: int = 0, bfar: int | None = None,
                     mmfar: int | None = None) -> None:
        self.regs.CFSR.value |= cfsr_bits
        self.regs.HFSR.value |= hfsr_bits
        if bfar is not None:
            self.regs.BFAR.value = bfar & 0xFFFFFFFF
        if mmfar is not None:
            self.regs.MMFAR.value = mmfar & 0xFFFFFFFF
