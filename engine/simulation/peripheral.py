"""Base of every peripheral model: registers declared as data, side effects in named callbacks.

A model subclasses `Peripheral`, declares `REGISTERS` (offset, name as in the manual, fields, reset value), the
names of its IRQ outputs in `IRQS`, and the attributes that make up its state beyond register values in `STATE`.
Reads and writes arrive as (offset, size, value, access); everything else (clock, IRQ wiring) is attached by
whoever builds the machine: the embedded engine, the Renode bridge, or a unit test.

Field access kinds:
  rw   read/write            ro   read-only (writes ignored)       wo   write-only (reads as 0)
  w1c  write 1 to clear      w1s  write 1 to set                   rc   cleared by a read
"""
from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Iterable

from .access import Access, TEST_ACCESS
from .clock import VirtualClock

log = logging.getLogger("mt3620.peripheral")

ACCESS_KINDS = {"rw", "ro", "wo", "w1c", "w1s", "rc"}


@dataclass(frozen=True)
class Field:
    name: str
    lsb: int
    width: int = 1
    access: str = "rw"
    reset: int = 0
    doc: str = ""

    def __post_init__(self) -> None:
        if self.access not in ACCESS_KINDS:
            raise ValueError(f"field {self.name}: unknown access {self.access!r}")

    @property
    def mask(self) -> int:
        return ((1 << self.width) - 1) << self.lsb

    def get(self, value: int) -> int:
        return (value >> self.lsb) & ((1 << self.width) - 1)


@dataclass(frozen=True)
class Register:
    """One register. Without `fields` the whole register has access kind `access`.

    `read`: name of a method `() -> int` that computes the value (for live counters, FIFOs).
    `write`: name of a method `(value: int) -> None` called after the stored value was updated with `value`.
    """
    offset: int
    name: str
    reset: int = 0
    access: str = "rw"
    fields: tuple[Field, ...] = ()
    read: str | None = None
    write: str | None = None
    doc: str = ""

    def __post_init__(self) -> None:
        if self.access not in ACCESS_KINDS:
            raise ValueError(f"register {self.name}: unknown access {self.access!r}")
        if self.fields:
            reset = 0
            for f in self.fields:
                reset |= (f.reset << f.lsb) & f.mask
            if self.reset == 0 and reset:
                object.__setattr__(self, "reset", reset)

    def masks(self) -> dict[str, int]:
        """Bit masks by access kind; bits with no field are rw when there are no fields, else reserved (RAZ/WI)."""
        out = {k: 0 for k in ACCESS_KINDS}
        if not self.fields:
            out[self.access] = 0xFFFFFFFF
        for f in self.fields:
            out[f.access] |= f.mask
        return out


class IrqLine:
    """A level-sensitive signal from a model to whatever it is wired to (NVIC input, reset, another model)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.level = False
        self._sinks: list[Callable[[bool], None]] = []

    def connect(self, sink: Callable[[bool], None]) -> None:
        self._sinks.append(sink)
        if self.level:
            sink(True)

    def set(self, level: bool) -> None:
        level = bool(level)
        if level == self.level:
            return
        self.level = level
        for sink in self._sinks:
            sink(level)

    def pulse(self) -> None:
        self.set(True)
        self.set(False)

    def __bool__(self) -> bool:
        return self.level

    def __repr__(self) -> str:
        return f"IrqLine({self.name}={'1' if self.level else '0'})"


class Peripheral:
    """A memory-mapped block. Subclasses declare REGISTERS, IRQS, STATE, SIZE."""

    REGISTERS: ClassVar[tuple[Register, ...]] = ()
    IRQS: ClassVar[tuple[str, ...]] = ()
    STATE: ClassVar[tuple[str, ...]] = ()
    SIZE: ClassVar[int] = 0x1000

    def __init__(self, name: str | None = None, clock: VirtualClock | None = None, **attributes: Any) -> None:
        self.name = name or type(self).__name__
        self.clock = clock or VirtualClock()
        self.attributes = attributes
        self.irq = [IrqLine(f"{self.name}.{n}") for n in self.IRQS]
        self._by_offset: dict[int, Register] = {}
        self._by_name: dict[str, Register] = {}
        for reg in self.REGISTERS:
            if reg.offset in self._by_offset:
                raise ValueError(f"{type(self).__name__}: two registers at offset 0x{reg.offset:x}")
            self._by_offset[reg.offset] = reg
            self._by_name[reg.name] = reg
        self._masks = {reg.offset: reg.masks() for reg in self.REGISTERS}
        self._warned: set[int] = set()
        self.regs: dict[str, int] = {}
        self.reset()

    # ---- life cycle -------------------------------------------------------------------------------------------
    def reset(self) -> None:
        """Cold reset: every register to its declared reset value; subclasses reset their own state after super()."""
        self.regs = {reg.name: reg.reset for reg in self.REGISTERS}
        for line in self.irq:
            line.set(False)

    def attach_clock(self, clock: VirtualClock) -> None:
        self.clock = clock

    # ---- bus side -----------------------------------------------------------------------------------------------
    def read(self, offset: int, size: int = 4, access: Access = TEST_ACCESS) -> int:
        base = offset & ~3
        reg = self._by_offset.get(base)
        if reg is None:
            self._unknown(offset, size, None)
            return 0
        if reg.read:
            value = getattr(self, reg.read)()
        else:
            masks = self._masks[base]
            value = self.regs[reg.name] & ~(masks["wo"])
            if masks["rc"]:
                self.regs[reg.name] &= ~masks["rc"]
        shift = (offset & 3) * 8
        return (value >> shift) & ((1 << (8 * size)) - 1)

    def write(self, offset: int, size: int, value: int, access: Access = TEST_ACCESS) -> None:
        base = offset & ~3
        reg = self._by_offset.get(base)
        if reg is None:
            self._unknown(offset, size, value)
            return
        shift = (offset & 3) * 8
        lane = ((1 << (8 * size)) - 1) << shift
        value = (value << shift) & lane
        old = self.regs[reg.name]
        masks = self._masks[base]
        writable = (masks["rw"] | masks["wo"]) & lane
        new = (old & ~writable) | (value & writable)
        new &= ~(value & masks["w1c"])
        new |= value & masks["w1s"]
        self.regs[reg.name] = new & 0xFFFFFFFF
        if reg.write:
            # Partial writes hand the callback the merged register value.
            getattr(self, reg.write)(((old & ~lane) | value) & 0xFFFFFFFF)

    def _unknown(self, offset: int, size: int, value: int | None) -> None:
        if offset not in self._warned:
            self._warned.add(offset)
            what = "read" if value is None else f"write 0x{value:x}"
            log.info("%s: %s of undefined offset 0x%x (size %d): reads as zero, writes ignored",
                     self.name, what, offset, size)

    # ---- helpers for models -----------------------------------------------------------------------------------
    def reg(self, name: str) -> int:
        return self.regs[name]

    def set_reg(self, name: str, value: int) -> None:
        self.regs[name] = value & 0xFFFFFFFF

    def field(self, reg_name: str, field_name: str) -> int:
        reg = self._by_name[reg_name]
        for f in reg.fields:
            if f.name == field_name:
                return f.get(self.regs[reg_name])
        raise KeyError(f"{reg_name}.{field_name}")

    def update_irq(self) -> None:
        """Derive every IRQ line from state. Models with IRQs override this and call it after each change."""

    def register_map(self) -> Iterable[Register]:
        return self.REGISTERS

    # ---- snapshots ---------------------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        return {"regs": dict(self.regs), "state": {k: copy.deepcopy(getattr(self, k)) for k in self.STATE}}

    def restore(self, snap: dict[str, Any]) -> None:
        self.regs = dict(snap["regs"])
        for k, v in snap["state"].items():
            setattr(self, k, copy.deepcopy(v))
        self.update_irq()


class LoggingRegion(Peripheral):
    """A known block that is not modelled: reads as zero, writes are ignored, every access is logged."""

    def __init__(self, name: str | None = None, clock: VirtualClock | None = None, size: int = 0x1000,
                 **attributes: Any) -> None:
        self.SIZE = size  # type: ignore[misc]
        self.accesses: list[tuple[str, int, int, int]] = []
        super().__init__(name, clock, **attributes)

    def read(self, offset: int, size: int = 4, access: Access = TEST_ACCESS) -> int:
        self.accesses.append(("r", offset, size, 0))
        log.info("%s: unmodelled read at +0x%x (%d bytes) by %s", self.name, offset, size, access)
        return 0

    def write(self, offset: int, size: int, value: int, access: Access = TEST_ACCESS) -> None:
        self.accesses.append(("w", offset, size, value))
        log.info("%s: unmodelled write 0x%x at +0x%x (%d bytes) by %s", self.name, value, offset, size, access)
