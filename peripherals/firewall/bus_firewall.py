"""Bus firewall configuration block at 0x30000000 (AzureSphereOS mt3620.dtsi "fwd", SPI 27): the register facade
over the firewalls' pure core (core.py), and the check every bus access goes through.

The block's register interface is not public; this one is emulator-defined (docs/device.md "Firewalls"):

| offset | register | |
|---|---|---|
| 0x000 | FW_VERSION | reads 0x46570001 |
| 0x004 | FW_CTRL | bit 0 LOCK: writing 1 locks the owner table; writing 0 does nothing |
| 0x008 | FW_UNLOCK | writing 0x554E4C4B ("UNLK") unlocks the table (other values are ignored and logged) |
| 0x00C | FW_BLOCK_COUNT | number of blocks (OWNER registers) |
| 0x010 | FW_REFUSED | accesses refused since power-on |
| 0x014 | FW_LAST_ADDR | address of the last refused access |
| 0x018 | FW_LAST_INFO | last refusal: bits 7:0 block index, 10:8 the refused core (bit 8 A7, 9 IO0, 10 IO1), 16 write, 31 valid |
| 0x01C | FW_INT_STS | bit 0 VIOLATION (W1C): a refusal happened; the `violation` line = STS AND EN |
| 0x020 | FW_INT_EN | bit 0 VIOLATION |
| 0x100 + 4*i | OWNER[i] | block i's owners: bit 0 A7, bit 1 IO core 0, bit 2 IO core 1 (blocks.py order); 0x7 at reset; writes ignored while locked |

Only the A7's secure, privileged path (the security monitor) reaches these registers (`INITIATORS`,
engine/machine/guards.py); an IO core or an A7 app gets a bus fault.

The check: the machine adds `bus_check(view, access, address, size, write)` to every core's bus view; an access
by a core that does not own the block it touches raises AccessDenied, which the IO core turns into a precise
BusFault (CFSR.PRECISERR | BFARVALID, BFAR = the address, as for any bus error on the Cortex-M4). Each refusal is
logged (initiator, block, address), kept (`refusals`), counted in FW_REFUSED and handed to refusal listeners.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from mt3620.engine.simulation.access import Access, AccessDenied
from mt3620.engine.simulation.clock import VirtualClock
from mt3620.engine.simulation.peripheral import COLD, Field, Peripheral, Register, RegisterArray, ResetKind

from .blocks import BLOCKS, CORE_BITS, mask_of
from .core import PAGE_INDEX, FirewallCore, Refusal

log = logging.getLogger("mt3620.firewall")

VERSION = 0x46570001
UNLOCK_KEY = 0x554E4C4B
INFO_VALID = 1 << 31
INFO_WRITE = 1 << 16
SECURE_MONITOR = Access("a7", secure=True, privileged=True)


class BusFirewall(Peripheral):
    SIZE = 0x1000
    INITIATORS = ("a7",)
    IRQS = ("violation",)
    REGISTERS = (
        Register(0x000, "FW_VERSION", reset=VERSION, access="ro"),
        Register(0x004, "FW_CTRL", fields=(Field("LOCK", 0),), read="_read_ctrl", write="_write_ctrl"),
        Register(0x008, "FW_UNLOCK", access="wo", write="_write_unlock"),
        Register(0x00C, "FW_BLOCK_COUNT", reset=len(BLOCKS), access="ro"),
        Register(0x010, "FW_REFUSED", access="ro", read="_read_refused"),
        Register(0x014, "FW_LAST_ADDR", access="ro"),
        Register(0x018, "FW_LAST_INFO", access="ro"),
        Register(0x01C, "FW_INT_STS", fields=(Field("VIOLATION", 0, access="w1c"),), write="_changed"),
        Register(0x020, "FW_INT_EN", fields=(Field("VIOLATION", 0),), write="_changed"),
        RegisterArray("OWNER", 0x100, count=len(BLOCKS), stride=4, registers=Register(
            0x0, "OWNER", reset=0x7, fields=(Field("A7", 0), Field("IO0", 1), Field("IO1", 2)),
            read="_read_owner", write="_write_owner")),
    )
    STATE = ("core",)

    def __init__(self, name: str | None = None, clock: VirtualClock | None = None, **attributes: Any) -> None:
        self.core = FirewallCore()
        self._refusal_listeners: list[Callable[[Refusal], None]] = []
        self._arm: Callable[[bool], None] | None = None
        super().__init__(name or "firewall", clock, **attributes)

    def reset(self, kind: ResetKind = COLD) -> None:
        super().reset(kind)
        self.core.reset()               # every kind of chip reset opens the table (the OS programs it again)
        self._armed_changed()

    def restore(self, snap: dict) -> None:
        super().restore(snap)
        self._armed_changed()

    def watch_bus(self, arm: Callable[[bool], None]) -> None:
        """The machine hands over how to put `bus_check` on (True) or off (False) every core's bus: it is on only
        while some block is not open to every core, so the power-on state costs the bus nothing."""
        self._arm = arm
        self._armed_changed()

    def _armed_changed(self) -> None:
        if getattr(self, "_arm", None) is not None:
            self._arm(not self.core.open)

    # ---- registers -------------------------------------------------------------------------------------------------
    def _read_ctrl(self) -> int:
        return int(self.core.locked)

    def _write_ctrl(self, value: int) -> None:
        if value & 1:
            self.core.lock()

    def _write_unlock(self, value: int) -> None:
        if value == UNLOCK_KEY:
            self.core.unlock()
        else:
            log.warning("%s: FW_UNLOCK written 0x%08x (not the key): ignored", self.name, value)

    def _read_refused(self) -> int:
        return self.core.refused & 0xFFFFFFFF

    def _read_owner(self, index: int) -> int:
        return self.core.owners[index]

    def _write_owner(self, index: int, value: int) -> None:
        if not self.core.set_owner(index, value):
            log.warning("%s: OWNER[%d] (%s) written while locked: ignored", self.name, index, BLOCKS[index].name)
        self._armed_changed()

    def _changed(self, value: int) -> None:
        self.update_irq()

    def update_irq(self) -> None:
        self.irq[0].set(bool(self.regs.FW_INT_STS.VIOLATION and self.regs.FW_INT_EN.VIOLATION))

    # ---- the check on every access ---------------------------------------------------------------------------------
    def bus_check(self, view: str, access: Access, address: int, size: int, write: bool) -> None:
        """Raise AccessDenied when `access` (on core `view`'s bus) touches a block its core does not own."""
        core = self.core
        if core.open:                      # the power-on state (a bare `mt3620 run`): costs one attribute read
            return
        index = PAGE_INDEX.get(view, {}).get(address >> 12)
        if index is None:                  # not a guarded block
            return
        bit = CORE_BITS.get(access.initiator)
        if bit is not None and core.owners[index] & bit:
            return                         # the owner: the common case, decided without building anything
        refusal = core.check(view, access.initiator, str(access), address, size, write, self.clock.now)
        if refusal is None:
            return
        self.regs.FW_LAST_ADDR.value = address & 0xFFFFFFFF
        self.regs.FW_LAST_INFO.value = (INFO_VALID | (INFO_WRITE if write else 0) | self._index(refusal.block)
                                        | (CORE_BITS.get(refusal.initiator, 0) << 8))
        self.regs.FW_INT_STS.VIOLATION = 1
        self.update_irq()
        log.info("%s", refusal.describe())
        for listener in list(self._refusal_listeners):
            listener(refusal)
        raise AccessDenied(address, size, write, refusal.describe())

    @staticmethod
    def _index(name: str) -> int:
        return next(i for i, b in enumerate(BLOCKS) if b.name == name)

    # ---- Python side ------------------------------------------------------------------------------------------------
    def add_refusal_listener(self, listener: Callable[[Refusal], None]) -> None:
        self._refusal_listeners.append(listener)

    @property
    def refusals(self) -> list[Refusal]:
        return list(self.core.refusals)

    def owners(self, block: str) -> tuple[str, ...]:
        return self.core.owners_of(block)

    @property
    def locked(self) -> bool:
        return self.core.locked

    def state(self) -> dict:
        return self.core.state()

    def describe(self, refusals: int = 10) -> list[str]:
        return self.core.describe(refusals)

    def program(self, owners: dict[str, tuple[str, ...] | list[str] | set[str]], bus=None,
                access: Access = SECURE_MONITOR) -> None:
        """What the security monitor does at app start, through the registers: unlock, write every block's
        owners (blocks not named get no owner), lock. `bus` is the A7's bus view (default: this block directly)."""
        base = self.attributes.get("base_address")

        def write(offset: int, value: int) -> None:
            if bus is not None and base is not None:
                bus.write_u32(base + offset, value, access)
            else:
                self.write(offset, 4, value, access)

        unknown = set(owners) - {b.name for b in BLOCKS}
        if unknown:
            raise KeyError(f"no firewall block named {sorted(unknown)[0]!r}")
        write(self.offset("FW_UNLOCK"), UNLOCK_KEY)
        for i, b in enumerate(BLOCKS):
            write(self.offset(f"OWNER{i}"), mask_of(owners.get(b.name, ())))
        write(self.offset("FW_CTRL"), 1)


def firewall_of(machine) -> BusFirewall | None:
    """The machine's firewall block, if its platform has one."""
    for model in machine.devices.values():
        if isinstance(model, BusFirewall):
            return model
    return None
