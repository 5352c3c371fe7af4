"""Which CPython model serves a .repl entry, and instantiating it: shared by the embedded machine and the bridge.

The model is named in the platform, by a `model: "package.module:Class"` attribute on the entry in a file Renode
never loads (platforms/mt3620-bridged.repl). An entry of a bridged type (`MT3620.BridgedPeripheral`, the Renode
shim that forwards every access to the bridge, or Renode's `Python.PythonPeripheral`) is nothing without its
model: a missing or unimportable model is a load error (`ModelError`), in the embedded engine and in the bridge.
Any other Renode type without a model is a block the engine does not emulate: it becomes a LoggingRegion.

Both engines build every model in two steps, so they resolve the platform the same way:
1. `instantiate(cls, name, clock, entry.attributes, ...)` constructs one model as
   `cls(name=..., clock=..., base_address=..., cpu=..., **attributes)` with the entry's own attributes, minus those
   Renode's PythonPeripheral consumes and minus its links. An attribute the class declares `Shared` (a mailbox
   `channel: "mbox_io0_io1"`) is resolved first through the builder's registry of shared objects, type-checked.
   Required keyword-only constructor arguments `memory` (the bus its CPU sees) and `core` (the device's Pluton
   security core) are supplied by the builder.
2. once every entry has its model, `bind_links(model, entry, resolve)` makes the typed links the entry names
   (`hclk: io0_rgu`, `dma: [io0_dma, io1_dma]`; mt3620.engine.simulation.links), and `cpu_clock(entry, resolve)`
   gives the clock source a CPU entry names (`hclk: io0_rgu` on cpuM4_0).
A reference to another entry that the class does not declare as a link, a link to an entry without a model, or a
target that does not satisfy the link's protocol is a `LinkError` naming the entry and the link.
"""
from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path
from typing import Any, Callable

from mt3620.engine import repl
from mt3620.engine.simulation.clock import VirtualClock
from mt3620.engine.simulation.links import LinkError
from mt3620.engine.simulation.peripheral import LoggingRegion, Peripheral
from mt3620.engine.simulation.protocols import ClockSource

MODEL_ATTRIBUTE = "model"
# Renode types that are only a shell around a model of this project (the bridge serves MT3620.BridgedPeripheral).
BRIDGED_TYPE = "MT3620.BridgedPeripheral"
MODEL_REQUIRED_TYPES = frozenset({BRIDGED_TYPE, "Python.PythonPeripheral"})
# Attributes that configure the Renode object, not the model.
RENODE_ONLY_ATTRIBUTES = frozenset({"size", "initable", "filename", "script", MODEL_ATTRIBUTE})
DEFAULT_DEVICE_SEED = b"mt3620-emulated-device-0"
CPU_CLOCK_LINK = "hclk"           # attribute of a CPU entry: the block whose clock sets the core's instruction rate
MODEL_SPEC = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


class ModelError(ValueError):
    """An entry's model cannot be resolved; str() is "file:line:col: entry: reason"."""

    def __init__(self, entry: repl.Entry, reason: str) -> None:
        loc = entry.attribute_locations.get(MODEL_ATTRIBUTE, entry.location)
        self.entry = entry.name
        self.reason = reason
        super().__init__(f"{loc[0]}:{loc[1]}:{loc[2]}: {entry.name}: {reason}")


def import_model(spec: str) -> type:
    """'package.module:Class' -> the class (ImportError / AttributeError when it does not exist)."""
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def model_spec(entry: repl.Entry) -> str | None:
    """The entry's `model:` attribute, or None when it names none (and its type does not need one)."""
    spec = entry.attr(MODEL_ATTRIBUTE)
    if spec is None:
        if entry.type in MODEL_REQUIRED_TYPES:
            raise ModelError(entry, f"a {entry.type} needs a `{MODEL_ATTRIBUTE}: \"package.module:Class\"` "
                                    f"attribute (in the file Renode does not load: platforms/mt3620-bridged.repl)")
        return None
    if not isinstance(spec, str) or not MODEL_SPEC.match(spec):
        raise ModelError(entry, f"`{MODEL_ATTRIBUTE}` must be a string \"package.module:Class\", not {spec!r}")
    return spec


def model_class(entry: repl.Entry) -> type | None:
    """The class of the entry's model (None when it names none); ModelError when it cannot be imported."""
    spec = model_spec(entry)
    if spec is None:
        return None
    try:
        cls = import_model(spec)
    except ImportError as exc:
        raise ModelError(entry, f"model {spec}: {exc}") from None
    except AttributeError:
        raise ModelError(entry, f"model {spec}: {spec.partition(':')[0]} has no class "
                                f"{spec.partition(':')[2]!r}") from None
    if not isinstance(cls, type):
        raise ModelError(entry, f"model {spec} is not a class")
    return cls


def device_state_paths(efuse_path: str | Path | None) -> tuple[Path | None, Path | None]:
    """Where a persisted device keeps its other non-volatile state, beside its e-fuse file (emulator-defined):
    Pluton's application counters in `<efuse stem>.counters.json`, the boot flash in `<efuse stem>.flash/`."""
    if efuse_path is None:
        return None, None
    efuse_path = Path(efuse_path)
    return (efuse_path.with_name(efuse_path.stem + ".counters.json"),
            efuse_path.with_name(efuse_path.stem + ".flash"))


def make_pluton(seed: bytes = DEFAULT_DEVICE_SEED, efuse_path: str | Path | None = None, now=None):
    """The device's Pluton core: fuses and keys reproducible from `seed` (persisted at `efuse_path` if given),
    a ROM keystore holding the project's root key (the key that signs its boot chain, mt3620.firmware.boot)."""
    from mt3620.firmware.boot import rom_keys
    from mt3620.peripherals.pluton.core import make_device
    from mt3620.peripherals.pluton.secureboot import TrustedKeystore
    counters_path, _ = device_state_paths(efuse_path)
    return make_device(seed, TrustedKeystore(rom_keys()), efuse_path=efuse_path, counters_path=counters_path,
                       now=now)


def _references(value: Any) -> list[repl.Reference] | None:
    """The entries an attribute value names (a reference or a list of them), or None for other values."""
    items = value if isinstance(value, list) else [value]
    if items and all(isinstance(v, repl.Reference) for v in items):
        return items
    return None


def instantiate(cls: type, name: str, clock: VirtualClock, entry_attributes: dict[str, Any], *,
                base_address: int | None, cpu: str | None, size: int, shared_objects: dict[str, Any],
                memory: Callable[[], Any], pluton: Callable[[], Any]) -> Peripheral:
    links = getattr(cls, "_links", {})
    attributes = {k: v for k, v in entry_attributes.items() if k not in RENODE_ONLY_ATTRIBUTES and k not in links}
    for attr, value in attributes.items():
        if _references(value) is not None:
            have = ", ".join(links) or "none"
            raise LinkError(f"{name}.{attr} names another entry, but {cls.__name__} declares no link {attr!r} "
                            f"(links: {have})")
    attributes.update(base_address=base_address, cpu=cpu)
    for attr, shared in getattr(cls, "_shared", {}).items():
        key = attributes.get(attr)
        if isinstance(key, str):
            try:
                attributes[attr] = shared.resolve(key, shared_objects, attributes)
            except LinkError as exc:
                raise LinkError(f"{name}.{exc}") from None
    wanted = {n for n, p in inspect.signature(cls.__init__).parameters.items()
              if p.kind is p.KEYWORD_ONLY and p.default is p.empty and n not in attributes}
    if "memory" in wanted:
        attributes["memory"] = memory()
    if "core" in wanted:
        attributes["core"] = pluton()
    if issubclass(cls, LoggingRegion):
        return cls(name, clock, size=size, **attributes)
    return cls(name=name, clock=clock, **attributes)


def _targets(entry: repl.Entry, attr: str, value: Any, resolve: Callable[[str], Any]) -> list[Any]:
    refs = _references(value)
    if refs is None:
        raise LinkError(f"{entry.name}.{attr}: {value!r} does not name another entry")
    try:
        return [resolve(ref.name) for ref in refs]
    except LinkError as exc:
        raise LinkError(f"{entry.name}.{attr}: {exc}") from None


def bind_links(model: Peripheral, entry: repl.Entry, resolve: Callable[[str], Any]) -> None:
    """Make the links `entry` gives for `model`; `resolve(name)` is the model built for another entry (it raises
    LinkError when there is none)."""
    for attr in getattr(type(model), "_links", {}):
        value = entry.attr(attr)
        if value is not None:
            model.link(attr, *_targets(entry, attr, value, resolve))


def cpu_clock(entry: repl.Entry, resolve: Callable[[str], Any]) -> ClockSource | None:
    """The clock source a CPU entry names (`hclk: io0_rgu`), or None."""
    value = entry.attr(CPU_CLOCK_LINK)
    if value is None:
        return None
    targets = _targets(entry, CPU_CLOCK_LINK, value, resolve)
    if len(targets) != 1 or not isinstance(targets[0], ClockSource):
        raise LinkError(f"{entry.name}.{CPU_CLOCK_LINK} needs one ClockSource block")
    return targets[0]
