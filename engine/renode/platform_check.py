"""The project's rules for a loaded platform description, beyond what the parser enforces.

Renode's own loader (`machine LoadPlatformDescription`, run in CI by tests/renode against the runtime in
../shared/) is the judge of Renode's types, constructor parameters and property names; these checks are what it
cannot know: the project's models, the split between what Renode loads and what only the project's engines read,
and the memory map rules of the embedded engine (docs/renode.md, "Checks").

`check_platform(platform)` returns a list of `Problem`s (location + message), empty when the platform is sound:
  * names: aliases do not clash with other variables;
  * references: every `name` used as a value, as a registration bus or as a per-CPU registration's `cpu` exists;
  * IRQs: every target exists; integer sources are valid output indices of the entry's model and named sources
    are among its IRQS (when the model can be imported); a CPU target takes input 0 (IRQ) or 1 (reset request);
  * CPUs: cpuType is one the project supports ("cortex-m4f", "cortex-a7", "cortex-a15"; Renode also has a
    "cortex-m4", without the FPU the IO cores have);
  * memory map, per CPU view (global registrations plus that CPU's own): no two regions overlap; every region has
    a known size; memories are 4 KB-aligned in address and size (the embedded engine maps whole pages), other
    blocks either are too or stay inside one page (sub-page blocks sharing a page, like the ISU sub-blocks);
  * models: every entry that names one (`model: "package.module:Class"`) names a class that imports, and every
    bridged entry (MT3620.BridgedPeripheral) names one;
  * the split: a file with `model:` attributes is one Renode never loads (Renode would refuse the attribute).
    Lines between two models (a GPIO pin into an EINT block) and into input 1 of a CPU (a core reset) belong there:
    the bridge delivers them, Renode must not see them. Every other line (into an NVIC, the GIC, a board LED) must
    be in a file Renode loads, or Renode never delivers it;
  * fan-in: no input is driven by two outputs (Renode does not OR them: the last change wins).
`check_file(path)` loads and checks, turning a ReplError into a problem.
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from mt3620.engine.renode.bridge import CPU_RESET_INPUT, PAD_OUTPUT_BASE
from mt3620.engine.machine.models import BRIDGED_TYPE, MODEL_ATTRIBUTE, ModelError, model_class, model_spec
from mt3620.engine.repl import load_platform
from mt3620.engine.repl.values import BUILTIN_NAMES, Entry, InlineObject, Platform, Reference, ReplError

ALLOWED_CPU_TYPES = ("cortex-m4f", "cortex-a7", "cortex-a15")
CPU_IRQ_INPUT = 0      # a CPU's input 0: its interrupt line (Renode: NVIC/GIC -> cpu@0)
PAGE = 0x1000

# Sizes of Renode models that are not given in the description (Renode's IKnownSize of those types).
KNOWN_SIZES = {"IRQControllers.NVIC": 0x1000, "UART.NS16550": 0x100}
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


def check_platform(platform: Platform) -> list[Problem]:
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

    # ---- CPUs
    for e in platform.cpus():
        cpu_type = e.attr("cpuType")
        if cpu_type is None:
            add(e.location, f"{e.name}: no cpuType")
        elif cpu_type not in ALLOWED_CPU_TYPES:
            hint = " (Renode's \"cortex-m4\" has no FPU: the MT3620's IO cores are \"cortex-m4f\")" \
                if cpu_type == "cortex-m4" else ""
            add(e.location, f"{e.name}: cpuType {cpu_type!r} is not one of {', '.join(ALLOWED_CPU_TYPES)}{hint}")

    # ---- models
    models: dict[str, type | None] = {}
    engine_only_files = {e.attribute_locations[MODEL_ATTRIBUTE][0] for e in entries.values()
                         if MODEL_ATTRIBUTE in e.attribute_locations}
    for e in entries.values():
        if e.type == BRIDGED_TYPE:
            size = e.attr("size")
            if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
                add(e.location, f"{e.name}: a {BRIDGED_TYPE} needs a positive 'size'")
        try:
            spec = model_spec(e)               # the policy both engines follow (mt3620.engine.machine.models)
        except ModelError as exc:
            add(e.location, f"{e.name}: {exc.reason}")
            continue
        if spec is None:
            continue
        module = spec.partition(":")[0]
        try:
            installed = importlib.util.find_spec(module) is not None
        except (ModuleNotFoundError, ValueError):
            installed = False
        if not installed:
            add(e.location, f"{e.name}: model module {module!r} is not installed", "model-missing")
            models[e.name] = None
            continue
        try:
            models[e.name] = model_class(e)
        except ModelError as exc:
            add(e.location, f"{e.name}: {exc.reason}")
        except Exception as exc:  # noqa: BLE001 - report any import failure of a model as a problem
            add(e.location, f"{e.name}: importing {module} failed: {type(exc).__name__}: {exc}")

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
            if irq_names is not None and not (cls is not None and cls.__name__ == "LoggingRegion"):
                if _pad_output(cls, c.source):
                    pass
                elif isinstance(c.source, int) and not 0 <= c.source < len(irq_names):
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

    # ---- the split between what Renode loads and what only the project's engines read
    drivers: dict[tuple[str, object], tuple] = {}
    for e in entries.values():
        for c in e.irqs:
            loc = c.location or e.location
            target = entries.get(c.target)
            if target is None:
                continue
            between_models = e.type == BRIDGED_TYPE and target.type == BRIDGED_TYPE
            core_reset = _is_cpu(target) and c.target_input == CPU_RESET_INPUT
            in_engine_file = loc[0] in engine_only_files
            if (between_models or core_reset) and not in_engine_file and engine_only_files:
                what = "a line between two bridged models" if between_models else "a core reset line"
                add(loc, f"{e.name}: {what} belongs in the file Renode does not load (the bridge delivers it; "
                         f"Renode would deliver it too)")
            elif not (between_models or core_reset) and in_engine_file:
                add(loc, f"{e.name}: the line to {c.target}@{c.target_input} is in a file Renode does not load, "
                         f"so Renode never delivers it: move it next to the entry in the file Renode loads")
            key = (c.target, c.target_input, c.local_index)
            if key in drivers and drivers[key][0] != e.name:
                add(loc, f"{e.name}: {c.target}@{c.target_input} is already driven by {drivers[key][0]} "
                         f"(Renode does not OR two outputs into one input)")
            drivers.setdefault(key, (e.name, c.source))

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
                # Renode knows the size of its own types; the embedded engine needs it to map the block.
                add(loc, f"{e.name}: size of the region at 0x{reg.address:08x} is unknown to the embedded engine "
                         f"(give a range or 'size'; it assumes 0x1000)", "warning")
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


def _pad_output(cls: type | None, source: object) -> bool:
    """Outputs PAD_OUTPUT_BASE.. of a block with pins are its pin levels, not IRQS (engine/renode/bridge.py)."""
    return cls is not None and hasattr(cls, "add_output_listener") and isinstance(source, int) and \
        PAD_OUTPUT_BASE <= source < 2 * PAD_OUTPUT_BASE


def check_file(path: str | Path) -> tuple[Platform | None, list[Problem]]:
    try:
        platform = load_platform(path)
    except ReplError as exc:
        return None, [Problem((exc.file, exc.line, exc.column), exc.message)]
    return platform, check_platform(platform)
