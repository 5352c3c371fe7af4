"""System Control Space of an IO core (0xE000E000): NVIC, SCB, SysTick and FPU control registers.

Register layout and reset values from the ARMv7-M Architecture Reference Manual (DDI 0403E, B3.2, B3.4) and the
Cortex-M4 TRM (ID registers, CPUID r0p1 = 0x410FC241). The exception logic itself is the pure ExceptionState in
engine/nvic.py; this block only turns register accesses into edits of that state.

Emulator-defined: 128 interrupt lines (ICTR = 3); no MPU is modelled, so MPU_TYPE reads 0 (no regions) and the
MPU registers read as zero; CCR trap bits are stored but unaligned/divide-by-zero traps are not raised.
"""
from __future__ import annotations

from typing import Callable

from mt3620.engine.simulation.access import Access, TEST_ACCESS
from mt3620.engine.simulation.clock import VirtualClock
from mt3620.engine.simulation.peripheral import Field, Peripheral, Register

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

SHCSR_MEMFAULTENA, SHCSR_BUSFAULTENA, SHCSR_USGFAULTENA = 1 << 16, 1 << 17, 1 << 18

# Cortex-M4 feature registers (Cortex-M4 TRM r0p1, table 4-1 / 7-1)
ID_REGISTERS = {
    0xD40: ("ID_PFR0", 0x00000030), 0xD44: ("ID_PFR1", 0x00000200), 0xD48: ("ID_DFR0", 0x00100000),
    0xD4C: ("ID_AFR0", 0x00000000), 0xD50: ("ID_MMFR0", 0x00100030), 0xD54: ("ID_MMFR1", 0x00000000),
    0xD58: ("ID_MMFR2", 0x01000000), 0xD5C: ("ID_MMFR3", 0x00000000), 0xD60: ("ID_ISAR0", 0x01101110),
    0xD64: ("ID_ISAR1", 0x02111000), 0xD68: ("ID_ISAR2", 0x21112231), 0xD6C: ("ID_ISAR3", 0x01111110),
    0xD70: ("ID_ISAR4", 0x01310132), 0xF40: ("MVFR0", 0x10110021), 0xF44: ("MVFR1", 0x11000011),
}


class SystemControlSpace(Peripheral):
    SIZE = 0x1000
    REGISTERS = (
        Register(0x004, "ICTR", access="ro", reset=3),
        Register(0x008, "ACTLR"),
        Register(0xD00, "CPUID", access="ro", reset=CPUID_CORTEX_M4),
        Register(0xD04, "ICSR", read="_read_icsr", write="_write_icsr"),
        Register(0xD08, "VTOR", fields=(Field("TBLOFF", 7, 25),), write="_write_vtor"),
        Register(0xD0C, "AIRCR", read="_read_aircr", write="_write_aircr"),
        Register(0xD10, "SCR", fields=(Field("SLEEPONEXIT", 1), Field("SLEEPDEEP", 2), Field("SEVONPEND", 4))),
        Register(0xD14, "CCR", reset=0x200, fields=(
            Field("NONBASETHRDENA", 0), Field("USERSETMPEND", 1), Field("UNALIGN_TRP", 3),
            Field("DIV_0_TRP", 4), Field("BFHFNMIGN", 8), Field("STKALIGN", 9, reset=1))),
        Register(0xD18, "SHPR1", read="_read_shpr1", write="_write_shpr1"),
        Register(0xD1C, "SHPR2", read="_read_shpr2", write="_write_shpr2"),
        Register(0xD20, "SHPR3", read="_read_shpr3", write="_write_shpr3"),
        Register(0xD24, "SHCSR", read="_read_shcsr", write="_write_shcsr"),
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
        Register(0xD90, "MPU_TYPE", access="ro"),
        Register(0xF00, "STIR", access="wo", write="_write_stir"),
        Register(0xF34, "FPCCR", reset=0xC0000000, fields=(
            Field("LSPACT", 0), Field("USER", 1), Field("THREAD", 3), Field("HFRDY", 4), Field("MMRDY", 5),
            Field("BFRDY", 6), Field("MONRDY", 8), Field("LSPEN", 30, reset=1), Field("ASPEN", 31, reset=1))),
        Register(0xF38, "FPCAR", fields=(Field("ADDRESS", 3, 29),)),
        Register(0xF3C, "FPDSCR", fields=(Field("RMode", 22, 2), Field("FZ", 24), Field("DN", 25),
                                          Field("AHP", 26))),
    )
    TIME_VARYING_OFFSETS = frozenset({0x018})  # SYST_CVR counts with virtual time, without events
    NVIC_ARRAYS = {0x100: "ISER", 0x180: "ICER", 0x200: "ISPR", 0x280: "ICPR", 0x300: "IABR"}

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
        ictr = self.state.num_irqs // 32 - 1
        self.regs["ICTR"] = ictr
        self.shcsr_enables = 0

    def reset(self) -> None:
        super().reset()
        self.state.reset()
        self.shcsr_enables = 0
        if hasattr(self, "systick"):
            self.systick.reset()

    def attach_clock(self, clock: VirtualClock) -> None:
        super().attach_clock(clock)
        self.systick.attach_clock(clock)

    # ---- dispatch: SysTick and the NVIC arrays are not single registers ---------------------------------------
    def read(self, offset: int, size: int = 4, access: Access = TEST_ACCESS) -> int:
        if 0x010 <= offset < 0x020:
            return self.systick.read(offset - 0x010, size, access)
        if 0x100 <= offset < 0x380:
            return self._read_nvic_array(offset, size)
        if 0x400 <= offset < 0x400 + self.state.num_irqs:
            return self._read_bytes(offset, size, lambda i: self.state.get_priority(EXTERNAL_BASE + i - 0x400))
        if 0xD90 < offset < 0xDC0:
            return 0  # MPU not modelled (MPU_TYPE = 0): region registers read as zero
        return super().read(offset, size, access)

    def write(self, offset: int, size: int, value: int, access: Access = TEST_ACCESS) -> None:
        if 0x010 <= offset < 0x020:
            self.systick.write(offset - 0x010, size, value, access)
            return
        if 0x100 <= offset < 0x380:
            self._write_nvic_array(offset, size, value)
            return
        if 0x400 <= offset < 0x400 + self.state.num_irqs:
            for k in range(size):
                self.state.set_priority(EXTERNAL_BASE + offset - 0x400 + k, (value >> (8 * k)) & 0xFF)
            self._on_change()
            return
        if 0xD90 < offset < 0xDC0:
            return
        super().write(offset, size, value, access)

    @staticmethod
    def _read_bytes(offset: int, size: int, get: Callable[[int], int]) -> int:
        return sum((get(offset + k) & 0xFF) << (8 * k) for k in range(size))

    def _nvic_word(self, kind: str, index: int) -> int:
        st = self.state
        word = 0
        for bit in range(32):
            irq = index * 32 + bit
            if irq >= st.num_irqs:
                break
            number = EXTERNAL_BASE + irq
            on = {"ISER": irq in st.enabled, "ICER": irq in st.enabled, "ISPR": number in st.pending,
                  "ICPR": number in st.pending, "IABR": number in st.active}[kind]
            word |= on << bit
        return word

    def _read_nvic_array(self, offset: int, size: int) -> int:
        base = offset & ~0x7F
        index = (offset - base) // 4
        if (offset - base) // 4 >= (self.state.num_irqs + 31) // 32:
            return 0
        word = self._nvic_word(self.NVIC_ARRAYS[base], index)
        return (word >> ((offset & 3) * 8)) & ((1 << (8 * size)) - 1)

    def _write_nvic_array(self, offset: int, size: int, value: int) -> None:
        base = offset & ~0x7F
        kind = self.NVIC_ARRAYS[base]
        value = (value << ((offset & 3) * 8)) & 0xFFFFFFFF
        index = (offset - base) // 4
        st = self.state
        for bit in range(32):
            if not value >> bit & 1:
                continue
            irq = index * 32 + bit
            if irq >= st.num_irqs:
                break
            number = EXTERNAL_BASE + irq
            if kind == "ISER":
                st.enabled.add(irq)
            elif kind == "ICER":
                st.enabled.discard(irq)
            elif kind == "ISPR":
                st.pending.add(number)
            elif kind == "ICPR":
                st.pending.discard(number)
                if st.line_level.get(irq) and number not in st.active:
                    st.pending.add(number)  # a level still asserted pends again at once
        self._on_change()

    # ---- SCB --------------------------------------------------------------------------------------------------
    def _read_icsr(self) -> int:
        st = self.state
        value = 0
        if NMI in st.pending:
            value |= 1 << 31
        if PENDSV in st.pending:
            value |= 1 << 28
        if SYSTICK in st.pending:
            value |= 1 << 26
        pending_ext = any(n >= EXTERNAL_BASE and st.is_enabled(n) for n in st.pending)
        value |= pending_ext << 22
        value |= (st.vectpending() & 0x1FF) << 12
        value |= st.rettobase() << 11
        value |= (st.active[-1] if st.active else 0) & 0x1FF
        return value

    def _write_icsr(self, value: int) -> None:
        st = self.state
        if value & (1 << 31):
            st.pending.add(NMI)
        if value & (1 << 28):
            st.pending.add(PENDSV)
        if value & (1 << 27):
            st.pending.discard(PENDSV)
        if value & (1 << 26):
            st.pending.add(SYSTICK)
        if value & (1 << 25):
            st.pending.discard(SYSTICK)
        self._on_change()

    def _write_vtor(self, value: int) -> None:
        self._on_vtor_change(self.regs["VTOR"])

    def _read_aircr(self) -> int:
        return (AIRCR_VECTKEYSTAT << 16) | (self.state.prigroup << 8)

    def _write_aircr(self, value: int) -> None:
        if value >> 16 != AIRCR_VECTKEY:
            return  # writes without the key are ignored (B3.2.6)
        self.state.prigroup = (value >> 8) & 7
        if value & (1 << 1):  # VECTCLRACTIVE
            self.state.active.clear()
        if value & (1 << 2):  # SYSRESETREQ
            self._on_reset_request()
        self._on_change()

    def _shpr_read(self, first: int) -> int:
        return sum(self.state.get_priority(first + k) << (8 * k) for k in range(4))

    def _shpr_write(self, first: int, value: int) -> None:
        for k in range(4):
            number = first + k
            if number in (MEMMANAGE, BUSFAULT, USAGEFAULT, SVCALL, 12, PENDSV, SYSTICK):
                self.state.set_priority(number, (value >> (8 * k)) & 0xFF)
        self._on_change()

    def _read_shpr1(self) -> int:
        return self._shpr_read(4)

    def _write_shpr1(self, value: int) -> None:
        self._shpr_write(4, value)

    def _read_shpr2(self) -> int:
        return self._shpr_read(8)

    def _write_shpr2(self, value: int) -> None:
        self._shpr_write(8, value)

    def _read_shpr3(self) -> int:
        return self._shpr_read(12)

    def _write_shpr3(self, value: int) -> None:
        self._shpr_write(12, value)

    _SHCSR_ACTIVE = {MEMMANAGE: 0, BUSFAULT: 1, USAGEFAULT: 3, SVCALL: 7, 12: 8, PENDSV: 10, SYSTICK: 11}
    _SHCSR_PENDED = {USAGEFAULT: 12, MEMMANAGE: 13, BUSFAULT: 14, SVCALL: 15}

    def _read_shcsr(self) -> int:
        value = self.shcsr_enables
        for number, bit in self._SHCSR_ACTIVE.items():
            value |= (number in self.state.active) << bit
        for number, bit in self._SHCSR_PENDED.items():
            value |= (number in self.state.pending) << bit
        return value

    def _write_shcsr(self, value: int) -> None:
        self.shcsr_enables = value & (SHCSR_MEMFAULTENA | SHCSR_BUSFAULTENA | SHCSR_USGFAULTENA)
        for number, bit in self._SHCSR_PENDED.items():
            if value >> bit & 1:
                self.state.pending.add(number)
            else:
                self.state.pending.discard(number)
        self._on_change()

    def _write_stir(self, value: int) -> None:
        irq = value & 0x1FF
        if irq < self.state.num_irqs:
            self.state.pending.add(EXTERNAL_BASE + irq)
            self._on_change()

    def _pend_systick(self) -> None:
        self.state.pending.add(SYSTICK)
        self._on_change()

    # ---- used by the core -------------------------------------------------------------------------------------
    def fault_enabled(self, number: int) -> bool:
        bit = {MEMMANAGE: SHCSR_MEMFAULTENA, BUSFAULT: SHCSR_BUSFAULTENA, USAGEFAULT: SHCSR_USGFAULTENA}[number]
        return bool(self.shcsr_enables & bit)

    def record_fault(self, cfsr_bits: int = 0, hfsr_bits: int = 0, bfar: int | None = None,
                     mmfar: int | None = None) -> None:
        self.regs["CFSR"] |= cfsr_bits
        self.regs["HFSR"] |= hfsr_bits
        if bfar is not None:
            self.regs["BFAR"] = bfar & 0xFFFFFFFF
        if mmfar is not None:
            self.regs["MMFAR"] = mmfar & 0xFFFFFFFF
