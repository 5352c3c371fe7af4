"""Values and the data model of a Renode platform description (.repl): what the parser produces and the
loader merges. No I/O here.

Values: numbers (`int`, or `float` for `1.5`), strings, booleans, `AddressRange(start, end)` (`.size`),
`Reference(name)`, `EnumValue(parts)`, lists, dicts, `InlineObject(type, attributes)` and `EMPTY`; the parser's
`NONE` marks `none` (remove an attribute set earlier) until the loader merges entries.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Location = tuple  # (file, line, column)

# Variables that exist in every Renode machine before a description is loaded.
BUILTIN_NAMES = frozenset({"sysbus"})


class ReplError(Exception):
    """A malformed platform description: carries the file, 1-based line and column."""

    def __init__(self, file: str | Path, line: int, column: int, message: str) -> None:
        self.file, self.line, self.column, self.message = str(file), line, column, message
        super().__init__(f"{self.file}:{line}:{column}: {message}")


# ---- values -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reference:
    """A value naming another variable (`nvic: nvic0`)."""
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class EnumValue:
    """An enum-like identifier: `Foo.Bar.Baz` or the shorthand `.Baz` (parts = ("Baz",))."""
    parts: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.parts[-1]

    def __str__(self) -> str:
        return ".".join(self.parts) if len(self.parts) > 1 else "." + self.parts[0]


@dataclass(frozen=True)
class AddressRange:
    """`<begin, end>` (end exclusive) or `<begin, +size>`."""
    start: int
    end: int

    @property
    def size(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class InlineObject:
    """`new Type { attributes }`: attributes as a plain dict (IRQ attributes are not allowed inside)."""
    type: str
    attributes: dict = field(default_factory=dict, hash=False)


class _Empty:
    """The `empty` keyword: the type's default value (0, null, first enum member)."""
    _instance = None

    def __new__(cls) -> "_Empty":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "EMPTY"


EMPTY = _Empty()
NONE = object()  # the `none` keyword inside one entry, before merging


# ---- data model ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Registration:
    """Where an entry is registered. `cpu` is set for per-CPU registrations (BusPointRegistration with `cpu`).

    `address`/`size` are None when the form does not give them (`@ sysbus` for CPUs, `@ sysbus 0x...` has no
    size: the size then comes from the entry's `size` attribute or the model). `point` keeps the raw
    registration point value for forms the engine does not interpret."""
    bus: str
    address: int | None = None
    size: int | None = None
    cpu: str | None = None
    point: Any = field(default=None, compare=False)
    location: Location | None = field(default=None, compare=False)


@dataclass(frozen=True)
class IrqConnection:
    """One line: output `source` of the entry (None = its default output, an int, or a named output) drives
    input `target_input` of entry `target` (`local_index` is the `#n` of `target#n@input`)."""
    source: int | str | None
    target: str
    target_input: int | str
    location: Location | None = field(default=None, compare=False)
    local_index: int | None = None


@dataclass
class Entry:
    name: str
    type: str | None
    registrations: list[Registration]
    attributes: dict[str, object]
    irqs: list[IrqConnection]
    location: Location
    init: list[str] = field(default_factory=list)
    preinit: list[str] = field(default_factory=list)
    reset: list[str] = field(default_factory=list)
    alias: str | None = None
    local: bool = False
    locations: list[Location] = field(default_factory=list)   # every entry that contributed, in merge order
    attribute_locations: dict[str, Location] = field(default_factory=dict)   # where each attribute was set

    def attr(self, name: str, default: Any = None) -> Any:
        value = self.attributes.get(name, default)
        return default if value is EMPTY else value


@dataclass
class Platform:
    entries: dict[str, Entry]
    files: list[Path]
    usings: list[tuple[Path, Location]] = field(default_factory=list)  # (resolved file, location of `using`)

    def __getitem__(self, name: str) -> Entry:
        return self.entries[name]

    def __contains__(self, name: object) -> bool:
        return name in self.entries

    def of_type(self, *types: str) -> list[Entry]:
        return [e for e in self.entries.values() if e.type in types]

    def cpus(self) -> list[Entry]:
        return [e for e in self.entries.values() if e.type and e.type.split(".")[0] == "CPU"]

    def region_size(self, entry: Entry, reg: Registration) -> int | None:
        """Size of a bus registration: explicit in the registration, else the entry's `size` attribute."""
        if reg.size is not None:
            return reg.size
        size = entry.attr("size")
        if isinstance(size, int) and not isinstance(size, bool):
            return size
        return None

    def bus_view(self, cpu: str | None = None, bus: str = "sysbus") -> list[tuple[int, int | None, Entry, Registration]]:
        """Registrations with an address on `bus` that `cpu` sees (global ones plus its own), sorted by address."""
        out = []
        for entry in self.entries.values():
            for reg in entry.registrations:
                if reg.bus != bus or reg.address is None:
                    continue
                if reg.cpu is not None and reg.cpu != cpu:
                    continue
                out.append((reg.address, self.region_size(entry, reg), entry, reg))
        out.sort(key=lambda x: (x[0], x[2].name))
        return out
