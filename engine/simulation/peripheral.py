"""Base of every peripheral model: registers, timers and links declared as data, side effects in named callbacks.

A model subclasses `Peripheral` and declares, at the top of its class:
  REGISTERS   `Register`s and `RegisterArray`s (mt3620.engine.simulation.registers): offset, name as in the
              manual, fields, reset value, read/write callbacks by method name, `volatile`, `banks`, `survives`;
  IRQS        the names of its output lines (`self.irq[i]` is an `IrqLine`);
  STATE       the attributes that make up its state beyond register values;
  BANKS       register bank names when an offset means different registers by mode (the UART's LCR banks);
  timers      `Timer("_method")` attributes (mt3620.engine.simulation.timer);
  links       `Link(Protocol)` / `Shared(type, factory)` attributes (mt3620.engine.simulation.links).
Everything declared is checked when the class is defined. The logic reads and writes registers through
`self.regs` (fields by name); reads and writes from the bus arrive as (offset, size, value, access). `snapshot()`
and `restore()` cover registers, the active bank, STATE and pending timer events; `reset(kind)` returns registers
to their reset values by reset kind (cold, warm, core) and cancels timers; models add what their state does.
Clock, IRQ wiring and links are attached by whoever builds the machine: the embedded engine, the Renode bridge,
or a unit test.
"""
from __future__ import annotations

import copy
import logging
from collections import deque
from typing import Any, Callable, ClassVar, Iterable

from .access import TEST_ACCESS, Access
from .clock import VirtualClock
from .links import Link, LinkError, Shared, declared
from .registers import (COLD, CORE, MASK32, WARM, Field, Layout, Register, RegisterArray, RegisterFile, RegisterView,
                        ResetKind, compile_layout)
from .timer import ModelTimer, Timer

__all__ = ["Peripheral", "LoggingRegion", "IrqLine", "Field", "Register", "RegisterArray", "RegisterView", "ResetKind",
           "COLD", "WARM", "CORE", "Timer", "Link", "Shared", "LinkError"]

log = logging.getLogger("mt3620.peripheral")


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


class _ModelType(type):
    """Links given to the constructor (`Gpt(hclk=rgu)`) are made once the model is fully built."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        links = {name: kwargs.pop(name) for name in cls._links if name in kwargs}
        obj = super().__call__(*args, **kwargs)
        for name, target in links.items():
            if target is not None:
                obj.link(name, *(target if isinstance(target, (list, tuple)) else (target,)))
        return obj


class Peripheral(metaclass=_ModelType):
    """A memory-mapped block (see the module docstring)."""

    REGISTERS: ClassVar[tuple[Register | RegisterArray, ...]] = ()
    IRQS: ClassVar[tuple[str, ...]] = ()
    STATE: ClassVar[tuple[str, ...]] = ()
    BANKS: ClassVar[tuple[str, ...]] = ()
    SIZE: ClassVar[int] = 0x1000

    _layout: ClassVar[Layout]
    _timers: ClassVar[dict[str, Timer]] = {}
    _links: ClassVar[dict[str, Link]] = {}
    _shared: ClassVar[dict[str, Shared]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._layout = compile_layout(cls, cls.REGISTERS, cls.BANKS, cls.SIZE)
        cls._timers, cls._links, cls._shared = declared(cls, Timer), declared(cls, Link), declared(cls, Shared)
        for declaration in (*cls._timers.values(), *cls._links.values(), *cls._shared.values()):
            declaration.check(cls)

    def __init__(self, name: str | None = None, clock: VirtualClock | None = None, **attributes: Any) -> None:
        self.name = name or type(self).__name__
        self.clock = clock or VirtualClock()
        self.attributes = attributes
        self.irq = [IrqLine(f"{self.name}.{n}") for n in self.IRQS]
        self.regs: RegisterFile
        self.regs, self._bank_tables = self._layout.build(self)
        self._bank = self._layout.banks[0]
        self._slots: dict[int, RegisterView] = self._bank_tables[self._bank]
        self._all_timers: list[tuple[str, ModelTimer | tuple[ModelTimer, ...]]] = []
        for attr, timer in self._timers.items():
            bound = timer.bind(self)
            setattr(self, attr, bound)
            self._all_timers.append((attr, bound))
        self._warned: set[int] = set()
        self.reset()

    # ---- declarations (class level) ---------------------------------------------------------------------------
    @classmethod
    def offset(cls, name: str) -> int:
        """Offset of a register by its flat name (`Gpt.offset("GPT0_CTRL")`, `M4Dma.offset("CH12_SRC")`)."""
        try:
            return cls._layout.offsets[name]
        except KeyError:
            raise KeyError(f"{cls.__name__} has no register {name!r}") from None

    @classmethod
    def register_map(cls) -> Iterable[Register]:
        """Every register with its absolute offset, array elements expanded (flat names)."""
        for slot in cls._layout.slots:
            yield slot.decl if slot.decl.offset == slot.offset and slot.decl.name == slot.name else \
                Register(slot.offset, slot.name, slot.decl.reset, slot.decl.access, slot.decl.fields,
                         volatile=slot.decl.volatile, banks=slot.decl.banks)

    # ---- life cycle -------------------------------------------------------------------------------------------
    def reset(self, kind: ResetKind = COLD) -> None:
        """Registers to their reset values (except those that survive `kind`), timers cancelled, lines low.
        Subclasses reset their own state after super()."""
        for view in self.regs._views.values():
            if kind not in view._SURVIVES:
                view.value = view._RESET
        self.select_bank(self._layout.banks[0])
        self._cancel_timers()
        for line in self.irq:
            line.set(False)

    def attach_clock(self, clock: VirtualClock) -> None:
        self.clock = clock

    def link(self, name: str, *targets: Any) -> None:
        """Make link `name` to `targets` (see mt3620.engine.simulation.links)."""
        decl = self._links.get(name)
        if decl is None:
            have = ", ".join(self._links) or "none"
            raise LinkError(f"{type(self).__name__} has no link {name!r} (links: {have})")
        decl.connect(self, targets)

    def select_bank(self, bank: str) -> None:
        """Make `bank` (one of BANKS) the registers the bus reaches."""
        self._bank = bank
        self._slots = self._bank_tables[bank]

    @property
    def bank(self) -> str:
        return self._bank

    def is_volatile(self, offset: int) -> bool:
        """Whether the register at `offset` changes with time alone (in any bank)."""
        return any(t.get(offset & ~3) is not None and t[offset & ~3]._VOLATILE for t in self._bank_tables.values())

    # ---- bus side ---------------------------------------------------------------------------------------------
    def read(self, offset: int, size: int = 4, access: Access = TEST_ACCESS) -> int:
        view = self._slots.get(offset & ~3)
        if view is None:
            self._unknown(offset, size, None)
            return 0
        fn = view.on_read
        if fn is not None:
            value = fn()
        else:
            value = view.value & view._READABLE
            if view._RC:
                view.value &= ~view._RC
        if size == 4 and not offset & 3:
            return value & MASK32
        return (value >> ((offset & 3) * 8)) & ((1 << (8 * size)) - 1)

    def write(self, offset: int, size: int, value: int, access: Access = TEST_ACCESS) -> None:
        view = self._slots.get(offset & ~3)
        if view is None:
            self._unknown(offset, size, value)
            return
        if size == 4 and not offset & 3:
            lane = MASK32
            value &= MASK32
        else:
            shift = (offset & 3) * 8
            lane = ((1 << (8 * size)) - 1) << shift
            value = (value << shift) & lane
        store = view.store
        old = store.value
        writable = view._WRITABLE & lane
        new = (old & ~writable) | (value & writable)
        if view._W1C:
            new &= ~(value & view._W1C)
        if view._W1S:
            new |= value & view._W1S
        store.value = new & MASK32
        fn = view.on_write
        if fn is not None:
            if lane != MASK32:
                value = ((old & ~lane) | value) & MASK32      # the callback sees the written bytes in the old value
            extra = view._WRITE_EXTRA              # registers.WRITE_EXTRAS: what the callback takes after the value
            if not extra:
                fn(value)
            elif extra == 2:
                fn(value, lane & MASK32)
            else:
                self._call_with_old(fn, extra, value, store.detached(old), lane & MASK32)

    @staticmethod
    def _call_with_old(fn: Callable, extra: int, value: int, old: RegisterView, lanes: int) -> None:
        """A write callback that also takes `old` (the register before the write, fields readable by name), and
        maybe `lanes`, in the order it declares them."""
        if extra == 1:
            fn(value, old)
        elif extra == 3:
            fn(value, old, lanes)
        else:
            fn(value, lanes, old)

    def _unknown(self, offset: int, size: int, value: int | None) -> None:
        if offset not in self._warned:
            self._warned.add(offset)
            what = "read" if value is None else f"write 0x{value:x}"
            log.info("%s: %s of undefined offset 0x%x (size %d): reads as zero, writes ignored",
                     self.name, what, offset, size)

    def update_irq(self) -> None:
        """Derive every IRQ line from state. Models with IRQs override this and call it after each change."""

    def derive(self) -> None:
        """Recompute what the model keeps cached from its registers for a hot path (a UART's frame time): models
        that cache override it and call it from the callbacks of the registers it reads and from reset();
        restore() calls it before update_irq()."""

    # ---- timers -----------------------------------------------------------------------------------------------
    def _cancel_timers(self) -> None:
        for _, bound in self._all_timers:
            for timer in (bound if isinstance(bound, tuple) else (bound,)):
                timer.cancel()

    # ---- snapshots ------------------------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        timers = {attr: ([t.state() for t in bound] if isinstance(bound, tuple) else bound.state())
                  for attr, bound in self._all_timers}
        return {"regs": self.regs.as_dict(), "bank": self._bank,
                "state": {k: copy.deepcopy(getattr(self, k)) for k in self.STATE}, "timers": copy.deepcopy(timers)}

    def restore(self, snap: dict[str, Any]) -> None:
        self._cancel_timers()
        self.regs.load(snap["regs"])
        self.select_bank(snap.get("bank", self._layout.banks[0]))
        for k, v in snap["state"].items():
            setattr(self, k, copy.deepcopy(v))
        for attr, bound in self._all_timers:
            state = snap.get("timers", {}).get(attr)
            if state is None:
                continue
            if isinstance(bound, tuple):
                for timer, s in zip(bound, state):
                    timer.restore(s)
            else:
                bound.restore(state)
        self.derive()
        self.update_irq()


class LoggingRegion(Peripheral):
    """A known block that is not modelled: reads as zero, writes are ignored, every access is logged (and the last
    ACCESSES_KEPT kept in `accesses`: a guest polling one, or looping through a NULL pointer into the TCM ROM window,
    must not grow memory without bound)."""
    ACCESSES_KEPT = 1024

    def __init__(self, name: str | None = None, clock: VirtualClock | None = None, size: int = 0x1000,
                 **attributes: Any) -> None:
        self.SIZE = size  # type: ignore[misc]
        self.accesses: deque[tuple[str, int, int, int]] = deque(maxlen=self.ACCESSES_KEPT)
        super().__init__(name, clock, **attributes)

    def read(self, offset: int, size: int = 4, access: Access = TEST_ACCESS) -> int:
        self.accesses.append(("r", offset, size, 0))
        log.info("%s: unmodelled read at +0x%x (%d bytes) by %s", self.name, offset, size, access)
        return 0

    def write(self, offset: int, size: int, value: int, access: Access = TEST_ACCESS) -> None:
        self.accesses.append(("w", offset, size, value))
        log.info("%s: unmodelled write 0x%x at +0x%x (%d bytes) by %s", self.name, value, offset, size, access)
