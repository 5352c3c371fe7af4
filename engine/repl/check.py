"""Semantic checks of a loaded platform description, beyond what the parser enforces.

`check_platform(platform)` returns a list of `Problem`s (location + message), empty when the platform is sound:
  * names: aliases do not clash with other variables;
  * references: every `name` used as a value, as a registration bus or as a per-CPU registration's `cpu` exists;
  * IRQs: every target exists; integer sources are valid output indices of the entry's model and named sources
    are among its IRQS (when the model can be imported); a CPU target takes input 0 (IRQ) or 1 (reset request);
  * CPUs: cpuType is one the project supports ("cortex-m4", "cortex-a7", "cortex-a15");
  * memory map, per CPU view (global registrations plus that CPU's own): no two regions overlap; every region has
    a known size; memories are 4 KB-aligned in address and size (the embedded engine maps whole pages), other
    blocks either are too or stay inside one page (sub-page blocks sharing a page, like the ISU sub-blocks);
  * Python.PythonPeripheral entries: `size` given, the shim file exists, its `# mt3620-model:` header names a
    model that can be imported.
`check_file(path)` loads and checks, turning a ReplError into a problem.
"""
from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from .parser import (BUILTIN_NAMES, PYTHON_PERIPHERAL, Entry, InlineObject, Platform, Reference, ReplError,
                     load_platform, model_for, shim_path)

ALLOWED_CPU_TYPES = ("cortex-m4", "cortex-a7", "cortex-a15")
CPU_IRQ_INPUT = 0      # a CPU's input 0: its interrupt line (Renode: NVIC/GIC -> cpu@0)
CPU_RESET_INPUT = 1    # a CPU's input 1: reset request (emulator-defined, see platforms/mt3620-bridged.repl)
PAGE = 0x1000

# Sizes of Renode models that are not given in the description (Renode's IKnownSize of those types).
KNOWN_SIZES = {"IRQControllers.NVIC": 0x1000}
# Largest input number of interrupt receivers, by type (NVIC: 240 external lines on ARMv7-M; GIC: 988 SPIs).
RECEIVER_INPUTS = {"IRQControllers.NVIC": 240, "IRQControllers.ARM_GenericInterruptController": 988}


@dataclass(frozen=True)
class Problem:
    location: tuple
    message: str
    kind: str = "error"     # "error", or "model-missing" when a model module is not importable

    def __str__(self) -> str:
        f, line, col = self.location
        return f"{f}:{line}:{col}: {self.message}"


def _is_cpu(entry: Entry | None) -> bool:
    return bool(entry and entry.type and entry.type.split(".")[0] == "CPU")


def _references(value: Any) -> Iterable[str]:
    if isinstance(value, Reference):
        yield value.name
    elif isinstance(value, list):
        for v in value:
            yield from _references(v)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _references(k)
            yield from _references(v)
    elif isinstance(value, InlineObject):
        for v in value.attributes.values():
            yield from _references(v)


PYTHON_PERIPHERAL_CTOR = {"size", "initable", "filename", "script"}


def check_platform(platform: Platform, for_renode: bool = False) -> list[Problem]:
    """`for_renode`: the file is loaded by Renode itself, so Python.PythonPeripheral entries may carry only the
    constructor's attributes and no `->` (Renode rejects both: PythonPeripheral has no GPIO outputs)."""
    problems: list[Problem] = []
    entries = platform.entries
    known = set(entries) | set(BUILTIN_NAMES)

    def add(loc: tuple, msg: str, kind: str = "error") -> None:
        problems.append(Problem(tuple(loc), msg, kind))

    # ---- names and references
    for e in entries.values():
        if e.alias and e.alias != e.name and e.alias in entries:
            add(e.location, f"{e.name}: alias {e.alias!r} is the name of another variable")
        for attr, value in e.attributes.items():
            for ref in _references(value):
                if ref not in known:
                    add(e.location, f"{e.name}.{attr}: undefined reference {ref!r}")
        for reg in e.registrations:
            loc = reg.location or e.location
            if reg.bus not in known:
                add(loc, f"{e.name}: registered on {reg.bus!r}, which is not defined")
            if reg.cpu is not None and not _is_cpu(entries.get(reg.cpu)):
                add(loc, f"{e.name}: per-CPU registration names {reg.cpu!r}, which is not a CPU")
            if reg.point is not None:
                for ref in _references(reg.point):
                    if ref not in known:
                        add(loc, f"{e.name}: registration refers to undefined {ref!r}")

    # ---- what Renode itself would reject
    if for_renode:
        for e in entries.values():
            if e.type != PYTHON_PERIPHERAL:
                continue
            for c in e.irqs:
                add(c.location or e.location, f"{e.name}: Renode rejects '->' on Python.PythonPeripheral (no GPIO "
                                              f"outputs); wire it in a file only the engine and bridge load")
            for attr in e.attributes:
                if attr not in PYTHON_PERIPHERAL_CTOR:
                    add(e.location, f"{e.name}: Python.PythonPeripheral takes only size, initable, filename and "
                                    f"script; Renode rejects {attr!r}")

    # ---- CPUs
    for e in platform.cpus():
        cpu_type = e.attr("cpuType")
        if cpu_type is None:
            add(e.location, f"{e.name}: no cpuType")
        elif cpu_type not in ALLOWED_CPU_TYPES:
            hint = " (\"cortex-m4f\" reports a Cortex-M7 ID in Renode: use \"cortex-m4\")" if cpu_type == "cortex-m4f" else ""
            add(e.location, f"{e.name}: cpuType {cpu_type!r} is not one of {', '.join(ALLOWED_CPU_TYPES)}{hint}")

    # ---- Python peripherals: shim and model
    models: dict[str, type | None] = {}
    for e in entries.values():
        if e.type != PYTHON_PERIPHERAL:
            continue
        size = e.attr("size")
        if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
            add(e.location, f"{e.name}: Python.PythonPeripheral needs a positive 'size'")
        if "script" in e.attributes and "filename" in e.attributes:
            add(e.location, f"{e.name}: give either 'script' or 'filename', not both")
        if "filename" not in e.attributes:
            add(e.location, f"{e.name}: no 'filename' naming its shim")
            continue
        if shim_path(e) is None:
            add(e.location, f"{e.name}: shim file {e.attr('filename')!r} not found")
            continue
        try:
            spec = model_for(e)
        except ReplError as exc:
            add(e.location, exc.message)
            continue
        assert spec is not None
        module, _, cls_name = spec.partition(":")
        try:
            found = importlib.util.find_spec(module)
        except (ModuleNotFoundError, ValueError):
            found = None
        if found is None:
            add(e.location, f"{e.name}: model module {module!r} (from {Path(str(shim_path(e))).name}) is not "
                            f"installed", "model-missing")
            models[e.name] = None
            continue
        try:
            cls = getattr(importlib.import_module(module), cls_name)
        except AttributeError:
            add(e.location, f"{e.name}: {module} has no class {cls_name!r}")
            continue
        except Exception as exc:  # noqa: BLE001 - report any import failure of a model as a problem
            add(e.location, f"{e.name}: importing {module} failed: {type(exc).__name__}: {exc}")
            continue
        models[e.name] = cls

    # ---- IRQs
    for e in entries.values():
        cls = models.get(e.name)
        irq_names = tuple(getattr(cls, "IRQS", ())) if cls is not None else None
        for c in e.irqs:
            loc = c.location or e.location
            target = entries.get(c.target)
            if target is None:
                add(loc, f"{e.name}: interrupt target {c.target!r} is not defined")
                continue
            if c.target == e.name:
                add(loc, f"{e.name}: interrupt connected to itself")
            if irq_names is not None and e.type == PYTHON_PERIPHERAL and \
                    not (cls is not None and cls.__name__ == "LoggingRegion"):
                if isinstance(c.source, int) and not 0 <= c.source < len(irq_names):
                    add(loc, f"{e.name}: output {c.source} does not exist (model has {len(irq_names)}: "
                             f"{', '.join(irq_names) or 'none'})")
                elif isinstance(c.source, str) and c.source not in irq_names:
                    add(loc, f"{e.name}: output {c.source!r} is not one of {', '.join(irq_names) or 'none'}")
                elif c.source is None and len(irq_names) != 1:
                    add(loc, f"{e.name}: '-> {c.target}' needs an output number: the model has "
                             f"{len(irq_names)} outputs")
            if isinstance(cls, type) and cls.__name__ == "LoggingRegion":
                add(loc, f"{e.name}: a LoggingRegion has no interrupt outputs")
            if not isinstance(c.target_input, int):
                continue
            if _is_cpu(target):
                if c.target_input not in (CPU_IRQ_INPUT, CPU_RESET_INPUT):
                    add(loc, f"{e.name}: CPU {c.target} has inputs 0 (IRQ) and 1 (reset request), not "
                             f"{c.target_input}")
            else:
                limit = RECEIVER_INPUTS.get(target.type or "")
                if limit is not None and not 0 <= c.target_input < limit:
                    add(loc, f"{e.name}: {c.target} has inputs 0..{limit - 1}, not {c.target_input}")

    # ---- memory map per CPU view
    cpus = [c.name for c in platform.cpus()] or [None]
    sized: dict[tuple[str, int], int | None] = {}
    for e in entries.values():
        for reg in e.registrations:
            if reg.bus != "sysbus" or reg.address is None:
                continue
            size = platform.region_size(e, reg)
            if size is None:
                size = KNOWN_SIZES.get(e.type or "")
            sized[(e.name, id(reg))] = size
            loc = reg.location or e.location
            if size is None:
                add(loc, f"{e.name}: size of the region at 0x{reg.address:08x} is unknown (give a range or 'size')")
                continue
            if size <= 0:
                add(loc, f"{e.name}: region size must be positive")
                continue
            if reg.address + size > 1 << 32:
                add(loc, f"{e.name}: region 0x{reg.address:08x}+0x{size:x} runs past 4 GB")
            aligned = reg.address % PAGE == 0 and size % PAGE == 0
            if e.type and e.type.startswith("Memory."):
                if not aligned:
                    add(loc, f"{e.name}: memory must be 4 KB-aligned in address and size "
                             f"(0x{reg.address:08x}+0x{size:x})")
            elif not aligned and reg.address // PAGE != (reg.address + size - 1) // PAGE:
                add(loc, f"{e.name}: 0x{reg.address:08x}+0x{size:x} is neither whole 4 KB pages nor inside one page")
    for cpu in cpus:
        view = []
        for e in entries.values():
            for reg in e.registrations:
                if reg.bus != "sysbus" or reg.address is None:
                    continue
                if reg.cpu is not None and reg.cpu != cpu:
                    continue
                size = sized.get((e.name, id(reg)))
                if size:
                    view.append((reg.address, reg.address + size, e, reg))
        view.sort(key=lambda x: (x[0], x[1]))
        for (a0, a1, e0, r0), (b0, b1, e1, r1) in zip(view, view[1:]):
            if b0 < a1:
                where = f" in the view of {cpu}" if cpu else ""
                add(r1.location or e1.location,
                    f"{e1.name} (0x{b0:08x}..0x{b1 - 1:08x}) overlaps {e0.name} (0x{a0:08x}..0x{a1 - 1:08x}){where}")
    # the same overlap reported from several CPU views once
    unique: list[Problem] = []
    seen = set()
    for p in problems:
        key = (p.location, p.message.split(" in the view of ")[0])
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def check_file(path: str | Path, for_renode: bool = False) -> tuple[Platform | None, list[Problem]]:
    try:
        platform = load_platform(path)
    except ReplError as exc:
        return None, [Problem((exc.file, exc.line, exc.column), exc.message)]
    return platform, check_platform(platform, for_renode)
