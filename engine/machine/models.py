"""Instantiating the CPython models of a platform's entries: shared by the embedded machine and the Renode bridge.

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
from pathlib import Path
from typing import Any, Callable

from mt3620.engine.repl import parser as repl
from mt3620.engine.simulation.clock import VirtualClock
from mt3620.engine.simulation.links import LinkError
from mt3620.engine.simulation.peripheral import LoggingRegion, Peripheral
from mt3620.engine.simulation.protocols import ClockSource

RENODE_ONLY_ATTRIBUTES = frozenset({"size", "initable", "filename", "script"})
DEFAULT_DEVICE_SEED = b"mt3620-emulated-device-0"
CPU_CLOCK_LINK = "hclk"           # attribute of a CPU entry: the block whose clock sets the core's instruction rate


def import_model(spec: str) -> type:
    """'package.module:Class' -> the class."""
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


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
