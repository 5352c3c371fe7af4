"""Pure ARMv7-M exception state: what is pending, active, enabled, at which priority, and what runs next.

No CPU and no bus here: the SCS register block (engine/scs.py) edits this state and the core (engine/cortex_m.py)
asks it which exception to take. Rules follow the ARMv7-M Architecture Reference Manual (DDI 0403E, B1.5):
- exception numbers: 1 Reset, 2 NMI, 3 HardFault, 4 MemManage, 5 BusFault, 6 UsageFault, 11 SVCall,
  12 DebugMonitor, 14 PendSV, 15 SysTick, 16+n external interrupt n;
- Reset, NMI, HardFault have fixed priorities -3, -2, -1; the others are programmable, with only the top
  PRIORITY_BITS bits of each 8-bit priority field implemented (MT3620 IO cores: 3 bits, values p << 5);
- pre-emption compares group priorities (AIRCR.PRIGROUP splits group from subpriority); among pending exceptions
  the lowest group priority wins, then the lowest subpriority, then the lowest exception number;
- execution priority = the highest-priority active exception, boosted by PRIMASK (0), FAULTMASK (-1) and
  BASEPRI (when non-zero).
"""
from __future__ import annotations

from dataclasses import dataclass, field

RESET, NMI, HARDFAULT, MEMMANAGE, BUSFAULT, USAGEFAULT = 1, 2, 3, 4, 5, 6
SVCALL, DEBUGMONITOR, PENDSV, SYSTICK = 11, 12, 14, 15
EXTERNAL_BASE = 16

EXCEPTION_NAMES = {RESET: "Reset", NMI: "NMI", HARDFAULT: "HardFault", MEMMANAGE: "MemManage",
                   BUSFAULT: "BusFault", USAGEFAULT: "UsageFault", SVCALL: "SVCall",
                   DEBUGMONITOR: "DebugMonitor", PENDSV: "PendSV", SYSTICK: "SysTick"}
FIXED_PRIORITY = {RESET: -3, NMI: -2, HARDFAULT: -1}
THREAD_PRIORITY = 256  # lower than any exception: thread mode


def exception_name(number: int) -> str:
    if number >= EXTERNAL_BASE:
        return f"IRQ{number - EXTERNAL_BASE}"
    return EXCEPTION_NAMES.get(number, f"exception {number}")


@dataclass
class ExceptionState:
    num_irqs: int = 128
    priority_bits: int = 3
    prigroup: int = 0
    priority: dict[int, int] = field(default_factory=dict)  # exception number -> 8-bit priority field
    enabled: set[int] = field(default_factory=set)           # external IRQ numbers (0-based)
    pending: set[int] = field(default_factory=set)           # exception numbers
    active: list[int] = field(default_factory=list)          # exception numbers, in activation order
    line_level: dict[int, bool] = field(default_factory=dict)  # external IRQ input levels

    def reset(self) -> None:
        self.prigroup = 0
        self.priority.clear()
        self.enabled.clear()
        self.pending.clear()
        self.active.clear()
        for irq, level in self.line_level.items():
            if level:
                self.pending.add(EXTERNAL_BASE + irq)

    # ---- priorities ---------------------------------------------------------------------------------------------
    @property
    def implemented_mask(self) -> int:
        return (0xFF << (8 - self.priority_bits)) & 0xFF

    def set_priority(self, number: int, value: int) -> None:
        if number in FIXED_PRIORITY:
            return
        self.priority[number] = value & self.implemented_mask

    def get_priority(self, number: int) -> int:
        return FIXED_PRIORITY.get(number, self.priority.get(number, 0))

    def group_priority(self, priority: int) -> int:
        if priority < 0:
            return priority
        sub_bits = self.prigroup + 1  # PRIGROUP n: bits [n:0] are subpriority
        return (priority >> sub_bits) << sub_bits

    def sort_key(self, number: int) -> tuple[int, int, int]:
        p = self.get_priority(number)
        return (self.group_priority(p), p, number)

    # ---- external inputs ----------------------------------------------------------------------------------------
    def set_line(self, irq: int, level: bool) -> None:
        """An interrupt input changed level. A rising level (or a level held while not active) pends the IRQ."""
        if not 0 <= irq < self.num_irqs:
            return
        self.line_level[irq] = level
        if level:
            self.pending.add(EXTERNAL_BASE + irq)

    def is_enabled(self, number: int) -> bool:
        if number >= EXTERNAL_BASE:
            return (number - EXTERNAL_BASE) in self.enabled
        return True  # system exceptions: enable bits for faults are checked by the core (SHCSR)

    # ---- decisions ----------------------------------------------------------------------------------------------
    def execution_priority(self, primask: int, faultmask: int, basepri: int) -> int:
        prio = THREAD_PRIORITY
        for number in self.active:
            prio = min(prio, self.group_priority(self.get_priority(number)))
        basepri &= self.implemented_mask
        if basepri:
            prio = min(prio, self.group_priority(basepri))
        if primask & 1:
            prio = min(prio, 0)
        if faultmask & 1:
            prio = min(prio, -1)
        return prio

    def highest_pending(self) -> int | None:
        """The pending, enabled exception that would be taken next, regardless of masking."""
        best = None
        for number in self.pending:
            if not self.is_enabled(number):
                continue
            if best is None or self.sort_key(number) < self.sort_key(best):
                best = number
        return best

    def preempting(self, primask: int, faultmask: int, basepri: int) -> int | None:
        """The exception to take now, or None."""
        number = self.highest_pending()
        if number is None:
            return None
        if self.group_priority(self.get_priority(number)) < self.execution_priority(primask, faultmask, basepri):
            return number
        return None

    def activate(self, number: int) -> None:
        self.pending.discard(number)
        self.active.append(number)

    def deactivate(self, number: int) -> None:
        if number in self.active:
            self.active.remove(number)
        # A level-sensitive line still asserted pends its IRQ again on return (ARMv7-M B3.4.1).
        if number >= EXTERNAL_BASE and self.line_level.get(number - EXTERNAL_BASE):
            self.pending.add(number)

    def vectpending(self) -> int:
        n = self.highest_pending()
        return n or 0

    def rettobase(self) -> bool:
        return len(self.active) <= 1
