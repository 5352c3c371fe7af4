"""Register declarations and the register file a model's logic reads through.

A model declares its registers as data at the top of its class (`REGISTERS`): `Register`s with their fields, and
`RegisterArray`s for blocks repeated at a stride (DMA channels, PWM channels, comparators). When the class is
defined, the declarations are compiled once (`compile_layout`): offsets, banks and field layouts are checked, the
named read/write callbacks are looked up and their signatures checked, and a small view class with one property
per field is made for each register. Any mistake (an unknown callback, two registers at one offset, a field
outside 32 bits) is a `TypeError` naming the class and the register, raised when the module is imported.

Each instance then owns a `RegisterFile` (`self.regs`):
    self.regs.GPT0_CTRL.SPEED          a field (an int); `self.regs.GPT0_CTRL.SPEED = 1` stores it
    self.regs.GPT0_CTRL.value          the whole register
    self.regs.CH[12].CON.DIR           a field of element 12 of a register array
    self.regs["CH12_CON"]              a whole register by its flat name (snapshots, generic code)

Field access kinds (as the bus sees them; the model's own field writes store any bit):
  rw   read/write            ro   read-only (writes ignored)       wo   write-only (reads as 0)
  w1c  write 1 to clear      w1s  write 1 to set                   rc   cleared by a read
Bits not covered by a field of a register that has fields are reserved: read as 0, writes ignored.

Reset kinds (Caliptra's reset domains): a register returns to its reset value on every kind of reset unless it
lists the kinds it `survives` (a watchdog's "last reset was mine" status survives the core reset it causes).
"""
from __future__ import annotations

import enum
import functools
import inspect
import keyword
from dataclasses import dataclass
from typing import Any, Callable, Iterable

MASK32 = 0xFFFFFFFF
ACCESS_KINDS = frozenset({"rw", "ro", "wo", "w1c", "w1s", "rc"})


class ResetKind(enum.Enum):
    """What kind of reset a block receives."""
    COLD = "cold"      # power-on: everything to its declared reset value
    WARM = "warm"      # chip reset with power kept (the whole MT3620 restarts)
    CORE = "core"      # one IO core restarts (SYSRESETREQ, its watchdog): only that core's private blocks


COLD, WARM, CORE = ResetKind.COLD, ResetKind.WARM, ResetKind.CORE


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
        if self.width < 1 or self.lsb < 0 or self.lsb + self.width > 32:
            raise ValueError(f"field {self.name}: bits {self.lsb}..{self.lsb + self.width - 1} are not within 32 bits")
        if not 0 <= self.reset < 1 << self.width:
            raise ValueError(f"field {self.name}: reset value 0x{self.reset:x} does not fit in {self.width} bit(s)")

    @property
    def mask(self) -> int:
        return ((1 << self.width) - 1) << self.lsb

    def get(self, value: int) -> int:
        return (value >> self.lsb) & ((1 << self.width) - 1)


@dataclass(frozen=True)
class Register:
    """One register. Without `fields` the whole register has access kind `access`.

    read       name of a method computing the value the bus reads: `()`, or `(index)` in a register array.
    write      name of a method called after the stored value was updated: `(value)`, or `(index, value)` in an
               array; it may also take `old` (the register before the write: `old.EN`, `old.value`) and `lanes`
               (the byte-lane mask of the access) by name. Partial writes hand it the written bytes merged into
               the old value.
    volatile   the value changes with virtual time alone, without an event (a free-running counter): the core
               treats a loop polling it as busy-waiting on time, not as idle (engine/cortex_m/core.py).
    banks      the register banks (`BANKS` of the class) in which it answers at its offset; () = all of them.
    survives   the reset kinds after which it keeps its value.
    alias_of   a register whose storage a write to this one edits with this register's access kinds (MediaTek's
               SET/RESET aliases: `access="w1s"` sets bits of the target); reads of an alias return 0.
    """
    offset: int
    name: str
    reset: int = 0
    access: str = "rw"
    fields: tuple[Field, ...] = ()
    read: str | None = None
    write: str | None = None
    volatile: bool = False
    banks: tuple[str, ...] = ()
    survives: tuple[ResetKind, ...] = ()
    alias_of: str | None = None
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
            out[self.access] = MASK32
        for f in self.fields:
            out[f.access] |= f.mask
        return out


@dataclass(frozen=True)
class RegisterArray:
    """`count` copies of `registers` (offsets relative to the element) every `stride` bytes from `offset`.

    Element i's registers are named `names.format(reg=..., i=first + i)` (flat names, as snapshots and `regs[...]`
    use them; `first` numbers elements as the manual does, SHPR1..3). `regs.<name>[i]` is element i (from 0): the
    register itself when the array holds one register, else an object with one attribute per register. Callbacks
    of array registers receive the element index (from 0) first."""
    name: str
    offset: int
    count: int
    stride: int
    registers: tuple[Register, ...] | Register
    names: str = "{reg}{i}"
    first: int = 0
    doc: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.registers, Register):
            object.__setattr__(self, "registers", (self.registers,))

    @property
    def single(self) -> bool:
        return len(self.registers) == 1

    def flat_name(self, reg: Register, i: int) -> str:
        return self.names.format(reg=reg.name, i=self.first + i)


class Declaration:
    """Something a model declares in its class body besides registers (a timer, a link): it knows the attribute
    name it was given, and `check(cls)` raises TypeError when the class does not fit it (run when the class is
    defined)."""
    name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def check(self, cls: type) -> None:
        """Nothing to check unless a subclass says otherwise."""

    def _method(self, cls: type, method: str, what: str) -> Callable:
        func = inspect.getattr_static(cls, method, None)
        if func is None or not callable(func):
            raise TypeError(f"{cls.__name__}.{self.name}: {what} {method!r} is not a method of {cls.__name__}")
        return func


# ---- views ------------------------------------------------------------------------------------------------------
class RegisterView:
    """One register of one model instance. Subclassed per declaration with a property per field."""
    __slots__ = ("value", "name", "offset", "index", "on_read", "on_write", "store")

    # Filled in per declaration by compile_layout (underscored: field names never start with one).
    _DECL: Register = Register(0, "-")
    _RESET = 0
    _READABLE = MASK32
    _WRITABLE = MASK32
    _W1C = 0
    _W1S = 0
    _RC = 0
    _VOLATILE = False
    _SURVIVES: frozenset = frozenset()
    _WRITE_EXTRA = 0                   # what the write callback takes after the value: WRITE_EXTRAS

    def reset(self) -> None:
        self.value = self._RESET

    def encode(self, **fields: int) -> int:
        """The register value with the given fields (the others 0), e.g. a status word composed on each read:
        `self.regs.ICSR.encode(PENDSVSET=1, VECTACTIVE=3)`. Generated per register when the class is defined."""
        raise TypeError(f"{self.name} has no fields")

    def detached(self, value: int = 0) -> "RegisterView":
        """A copy outside the register file holding `value`: decodes a raw value by this register's fields, or
        composes one field by field (a value computed on each read), without touching the stored register."""
        copy = type(self)()
        copy.name, copy.offset, copy.index, copy.value = self.name, self.offset, self.index, value
        copy.on_read = copy.on_write = None
        copy.store = copy
        return copy

    def __repr__(self) -> str:
        return f"<{self.name} @0x{self.offset:x} = 0x{self.value:08x}>"


class ArrayElement:
    """Element i of a register array with several registers: one attribute per register (`regs.CH[3].CON`)."""

    def __init__(self, index: int, views: dict[str, RegisterView]) -> None:
        self.index = index
        self.views = tuple(views.values())
        for short, view in views.items():
            setattr(self, short, view)

    def reset(self) -> None:
        for view in self.views:
            view.value = view._RESET


class RegisterFile:
    """The registers of one model instance (see the module docstring)."""

    def __init__(self, views: dict[str, RegisterView], attributes: dict[str, Any]) -> None:
        self._views = views
        for name, value in attributes.items():
            setattr(self, name, value)

    def __getitem__(self, name: str) -> int:
        return self._views[name].value

    def __setitem__(self, name: str, value: int) -> None:
        self._views[name].value = value & MASK32

    def __contains__(self, name: object) -> bool:
        return name in self._views

    def __iter__(self):
        return iter(self._views)

    def view(self, name: str) -> RegisterView:
        """A register by its flat name (array elements included)."""
        return self._views[name]

    def as_dict(self) -> dict[str, int]:
        return {name: view.value for name, view in self._views.items()}

    def load(self, values: dict[str, int]) -> None:
        for name, value in values.items():
            self._views[name].value = value & MASK32


RESERVED_NAMES = frozenset(dir(RegisterFile)) | {"_views"}
# The byte lanes of an access (the `lanes` mask a write callback receives) -> the bytes written, in address order.
LANE_BYTES = {(((1 << (8 * size)) - 1) << (8 * first)) & MASK32: tuple(range(first, min(4, first + size)))
              for size in (1, 2, 3, 4, 8) for first in range(4)}
# A write callback's parameters after the value, by name and in order -> the code the bus path dispatches on.
WRITE_EXTRAS = {(): 0, ("old",): 1, ("lanes",): 2, ("old", "lanes"): 3, ("lanes", "old"): 4}
VIEW_ATTRIBUTES = frozenset(dir(RegisterView))


# ---- layout -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Slot:
    """One register of the flattened layout of a class."""
    name: str                  # flat name
    short: str                 # the name inside its array element (= name outside arrays)
    offset: int                # absolute offset in the block
    decl: Register
    view_class: type
    array: str | None
    index: int | None
    banks: tuple[str, ...]


@dataclass(frozen=True)
class Layout:
    slots: tuple[Slot, ...]
    arrays: tuple[RegisterArray, ...]
    banks: tuple[str, ...]
    offsets: dict[str, int]

    def build(self, owner: Any) -> tuple[RegisterFile, dict[str, dict[int, RegisterView]]]:
        """The register file of `owner` and one offset -> view table per bank."""
        views: dict[str, RegisterView] = {}
        for slot in self.slots:
            view = slot.view_class()
            view.name, view.offset, view.index = slot.name, slot.offset, slot.index
            view.value = slot.decl.reset
            view.on_read = _bind(owner, slot.decl.read, slot.index)
            view.on_write = _bind(owner, slot.decl.write, slot.index)
            view.store = view
            views[slot.name] = view
        for slot in self.slots:
            if slot.decl.alias_of is not None:
                views[slot.name].store = views[_alias_target(slot, self)]
        attributes: dict[str, Any] = {s.name: views[s.name] for s in self.slots if s.array is None}
        for array in self.arrays:
            elements = []
            for i in range(array.count):
                members = {reg.name: views[array.flat_name(reg, i)] for reg in array.registers}
                elements.append(next(iter(members.values())) if array.single else ArrayElement(i, members))
            attributes[array.name] = tuple(elements)
        tables: dict[str, dict[int, RegisterView]] = {bank: {} for bank in self.banks}
        for slot in self.slots:
            for bank in slot.banks or self.banks:
                tables[bank][slot.offset] = views[slot.name]
        return RegisterFile(views, attributes), tables


def _bind(owner: Any, method: str | None, index: int | None) -> Callable | None:
    """The callback as the bus path calls it, positionally: `read()`, `write(value, ...)`; array elements' methods
    get their index bound first."""
    if method is None:
        return None
    bound = getattr(owner, method)
    return bound if index is None else functools.partial(bound, index)


def _alias_target(slot: Slot, layout: Layout) -> str:
    target = slot.decl.alias_of
    if slot.array is not None:
        for array in layout.arrays:
            if array.name == slot.array:
                for reg in array.registers:
                    if reg.name == target:
                        return array.flat_name(reg, slot.index)
    return target


def compile_layout(cls: type, declarations: Iterable[Register | RegisterArray], banks: tuple[str, ...],
                   size: int) -> Layout:
    """Check a class's register declarations and compile them (see the module docstring)."""
    owner = cls.__name__
    banks = tuple(banks) or ("",)
    slots: list[Slot] = []
    arrays: list[RegisterArray] = []
    view_classes: dict[int, type] = {}

    def fail(what: str) -> TypeError:
        return TypeError(f"{owner}.REGISTERS: {what}")

    def add(reg: Register, offset: int, name: str, array: RegisterArray | None, index: int | None) -> None:
        if id(reg) not in view_classes:
            view_classes[id(reg)] = _view_class(cls, reg, array is not None, fail)
        for bank in reg.banks:
            if bank not in banks:
                raise fail(f"register {name} names bank {bank!r}, not one of {cls.__name__}.BANKS {banks}")
        if offset % 4 or offset < 0 or offset + 4 > size:
            raise fail(f"register {name} at 0x{offset:x} is not a word inside the block's 0x{size:x} bytes")
        slots.append(Slot(name, reg.name, offset, reg, view_classes[id(reg)], array.name if array else None,
                          index, tuple(reg.banks)))

    for decl in declarations:
        if isinstance(decl, RegisterArray):
            if decl.count < 1 or decl.stride < 4:
                raise fail(f"array {decl.name}: count {decl.count}, stride {decl.stride}")
            for reg in decl.registers:
                if not 0 <= reg.offset < decl.stride:
                    raise fail(f"array {decl.name}: register {reg.name} at +0x{reg.offset:x} is outside its "
                               f"0x{decl.stride:x}-byte element")
            arrays.append(decl)
            for i in range(decl.count):
                for reg in decl.registers:
                    add(reg, decl.offset + i * decl.stride + reg.offset, decl.flat_name(reg, i), decl, i)
        elif isinstance(decl, Register):
            add(decl, decl.offset, decl.name, None, None)
        else:
            raise fail(f"{decl!r} is neither a Register nor a RegisterArray")

    names: set[str] = set()
    seen: dict[tuple[str, int], str] = {}
    for slot in slots:
        if slot.name in names:
            raise fail(f"two registers named {slot.name}")
        names.add(slot.name)
        if not slot.name.isidentifier() or keyword.iskeyword(slot.name) or slot.name in RESERVED_NAMES:
            raise fail(f"register name {slot.name!r} is not usable as an attribute")
        for bank in slot.banks or banks:
            other = seen.get((bank, slot.offset))
            if other is not None:
                where = f" in bank {bank!r}" if bank else ""
                raise fail(f"registers {other} and {slot.name} both at 0x{slot.offset:x}{where}")
            seen[(bank, slot.offset)] = slot.name
    for array in arrays:
        if array.name in names or array.name in RESERVED_NAMES or not array.name.isidentifier():
            raise fail(f"array name {array.name!r} clashes with a register or is not an identifier")
    for slot in slots:
        target = slot.decl.alias_of
        if target is not None:
            inside = slot.array is not None and any(r.name == target for a in arrays if a.name == slot.array
                                                    for r in a.registers)
            if not inside and target not in names:
                raise fail(f"register {slot.name} is an alias of {target!r}, which is not declared")
    offsets = {slot.name: slot.offset for slot in slots}
    return Layout(tuple(slots), tuple(arrays), banks, offsets)


def _view_class(cls: type, reg: Register, in_array: bool, fail: Callable[[str], TypeError]) -> type:
    masks = reg.masks()
    used = 0
    attrs: dict[str, Any] = {"__slots__": ()}
    for f in reg.fields:
        if f.mask & used:
            raise fail(f"register {reg.name}: field {f.name} overlaps another field")
        used |= f.mask
        if (f.name in attrs or f.name in VIEW_ATTRIBUTES or not f.name.isidentifier() or f.name.startswith("_")
                or keyword.iskeyword(f.name)):
            raise fail(f"register {reg.name}: field name {f.name!r} is repeated or not usable as an attribute")
        attrs[f.name] = _field_property(reg.name, f)
    if reg.fields:
        attrs["encode"] = _encoder(reg)
    attrs.update(_DECL=reg, _RESET=reg.reset, _READABLE=MASK32 & ~masks["wo"],
                 _WRITABLE=masks["rw"] | masks["wo"], _W1C=masks["w1c"], _W1S=masks["w1s"], _RC=masks["rc"],
                 _VOLATILE=reg.volatile, _SURVIVES=frozenset(reg.survives))
    if reg.alias_of is not None:
        attrs["_READABLE"] = 0
    if reg.read is not None:
        _check_callback(cls, reg, "read", reg.read, 1 if in_array else 0, (), fail)
    if reg.write is not None:
        extras = _check_callback(cls, reg, "write", reg.write, 2 if in_array else 1, ("old", "lanes"), fail)
        attrs["_WRITE_EXTRA"] = WRITE_EXTRAS[extras]
    return type(f"{cls.__name__}.{reg.name}", (RegisterView,), attrs)


def _encoder(reg: Register) -> Callable[..., int]:
    """`encode(**fields)` for one register, written out once so a call costs one Python frame."""
    params = ", ".join(f"{f.name}=0" for f in reg.fields)
    lines = [f"def encode(self, *, {params}):"]
    for f in reg.fields:
        lines.append(f"    if {f.name} & ~{(1 << f.width) - 1}: _too_wide(self, {f.name!r}, {f.name}, {f.width})")
    lines.append("    return " + " | ".join(f"({f.name} << {f.lsb})" for f in reg.fields))
    scope: dict[str, Any] = {"_too_wide": _too_wide}
    exec("\n".join(lines), scope)                  # noqa: S102 - source built from checked identifiers only
    return scope["encode"]


def _too_wide(view: RegisterView, field: str, value: int, width: int) -> None:
    raise ValueError(f"{view.name}.{field} = {value!r}: the field holds {width} bit(s)")


def _field_property(register: str, f: Field) -> property:
    lsb, mask = f.lsb, (1 << f.width) - 1
    full = mask << lsb

    def get(view: RegisterView) -> int:
        return (view.value >> lsb) & mask

    def set_(view: RegisterView, value: int) -> None:
        if value & ~mask:
            raise ValueError(f"{view.name}.{f.name} = {value!r}: the field holds {f.width} bit(s)")
        view.value = (view.value & ~full) | (value << lsb)

    return property(get, set_, doc=f.doc or f"{register}.{f.name}, bits {lsb + f.width - 1}:{lsb}")


def _check_callback(cls: type, reg: Register, kind: str, name: str, positional: int, optional: tuple[str, ...],
                    fail: Callable[[str], TypeError]) -> tuple[str, ...]:
    """The callback exists and takes `positional` arguments (then any of `optional` by name); returns the optional
    names it takes."""
    func = inspect.getattr_static(cls, name, None)
    if func is None or not callable(func):
        raise fail(f"register {reg.name}: {kind} callback {name!r} is not a method of {cls.__name__}")
    params = list(inspect.signature(func).parameters.values())[1:]     # without self
    extras = tuple(p.name for p in params[positional:])
    if (len(params) < positional or any(p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                                        for p in params[:positional])
            or any(e not in optional for e in extras)):
        want = {("read", 0): "()", ("read", 1): "(index)", ("write", 1): "(value[, old][, lanes])",
                ("write", 2): "(index, value[, old][, lanes])"}[(kind, positional)]
        raise fail(f"register {reg.name}: {kind} callback {cls.__name__}.{name} must take {want}, not "
                   f"{inspect.signature(func)}")
    return extras
