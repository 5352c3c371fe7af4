"""Instantiating a CPython model for a .repl entry: shared by the embedded machine and the Renode bridge.

A model is constructed as `cls(name=..., clock=..., base_address=..., cpu=..., shared_objects=..., **attributes)`
where the attributes are the entry's own (minus those Renode's PythonPeripheral consumes). Two conventions let
models reach machine-level objects without knowing the machine:
- `SHARED_ATTRIBUTES = {"channel": factory}` on the class: an attribute given as a string names an object
  shared by every model that names it (made once by `factory(name, attributes)`), e.g. both ends of a mailbox.
- required keyword-only constructor arguments `memory` (the bus its CPU sees, to reach shared buffers) and
  `core` (the device's Pluton security core) are supplied by the caller.
"""
from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from typing import Any, Callable

from mt3620.engine.simulation.clock import VirtualClock
from mt3620.engine.simulation.peripheral import LoggingRegion, Peripheral

RENODE_ONLY_ATTRIBUTES = frozenset({"size", "initable", "filename", "script"})
DEFAULT_DEVICE_SEED = b"mt3620-emulated-device-0"


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


def instantiate(cls: type, name: str, clock: VirtualClock, entry_attributes: dict[str, Any], *,
                base_address: int | None, cpu: str | None, size: int, shared_objects: dict[str, Any],
                memory: Callable[[], Any], pluton: Callable[[], Any]) -> Peripheral:
    attributes = {k: v for k, v in entry_attributes.items() if k not in RENODE_ONLY_ATTRIBUTES}
    attributes.update(base_address=base_address, cpu=cpu, shared_objects=shared_objects)
    for attr, factory in getattr(cls, "SHARED_ATTRIBUTES", {}).items():
        key = attributes.get(attr)
        if isinstance(key, str):
            if key not in shared_objects:
                shared_objects[key] = factory(key, attributes)
            attributes[attr] = shared_objects[key]
    wanted = {n for n, p in inspect.signature(cls.__init__).parameters.items()
              if p.kind is p.KEYWORD_ONLY and p.default is p.empty and n not in attributes}
    if "memory" in wanted:
        attributes["memory"] = memory()
    if "core" in wanted:
        attributes["core"] = pluton()
    if issubclass(cls, LoggingRegion):
        return cls(name, clock, size=size, **attributes)
    return cls(name=name, clock=clock, **attributes)
