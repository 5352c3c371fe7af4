"""The firewalls' pure core: who owns each block, whether the table is locked, and every refusal.

No bus, no clock, no I/O: the register facade (bus_firewall.py) and unit tests drive it, the machine asks it about
each access. Emulator-defined (docs/device.md "Firewalls"): at power-on every block is open to every core (so a
bare `mt3620 run` behaves as before); the security monitor programs the table when an app starts and locks it;
while locked, owner writes are ignored until the security monitor unlocks it for the next app start (or a chip
reset). Who is asking: the A7, IO core 0 or IO core 1 (a core's DMA counts as that core); the emulator itself
(tests, debugger) and Pluton are not subject to the firewalls.
"""
from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass

from .blocks import ALL_CORES, BLOCKS, CORE_BITS, CORES, IO0, IO1, cores_of

MAX_REFUSALS_KEPT = 256
EXEMPT_INITIATORS = frozenset({"test", "debugger", "pluton"})


@dataclass(frozen=True)
class Refusal:
    time_ps: int
    initiator: str            # the core refused ("a7", "io0", "io1")
    access: str               # the access as the bus saw it ("io0", "dma", "a7/s", ...)
    block: str
    address: int
    size: int
    write: bool
    owners: tuple[str, ...]

    def describe(self) -> str:
        who = "/".join(self.owners) if self.owners else "no core"
        kind = "write" if self.write else "read"
        via = "" if self.access == self.initiator else f" (via {self.access})"
        return (f"firewall: {self.initiator}{via} refused {kind} of {self.size} byte(s) at 0x{self.address:08x}: "
                f"block {self.block} belongs to {who}")


def _index() -> dict[str, tuple[list[int], list[tuple[int, int]]]]:
    """Per core view: sorted window starts, and (end, block index) for each."""
    per_view: dict[str, list[tuple[int, int, int]]] = {core: [] for core in CORES}
    for i, block in enumerate(BLOCKS):
        for w in block.windows:
            for view in ([w.view] if w.view else CORES):
                per_view[view].append((w.start, w.end, i))
    out = {}
    for view, items in per_view.items():
        items.sort()
        out[view] = ([s for s, _, _ in items], [(e, i) for _, e, i in items])
    return out


WINDOW_INDEX = _index()


def _pages() -> dict[str, dict[int, int]]:
    """Per core view: 4 KB page number -> block index (every window is whole, aligned pages): the hot path's table."""
    out: dict[str, dict[int, int]] = {core: {} for core in CORES}
    for i, block in enumerate(BLOCKS):
        for w in block.windows:
            assert w.start % 0x1000 == 0 and w.size % 0x1000 == 0, block.name
            for view in ([w.view] if w.view else CORES):
                for page in range(w.start >> 12, w.end >> 12):
                    out[view][page] = i
    return out


PAGE_INDEX = _pages()


class FirewallCore:
    def __init__(self) -> None:
        self.owners: list[int] = [ALL_CORES] * len(BLOCKS)
        self.locked = False
        self.refused = 0
        self.ignored_writes = 0           # owner writes refused because the table was locked
        self.refusals: deque[Refusal] = deque(maxlen=MAX_REFUSALS_KEPT)
        self.open = True                  # every block open to every core (the power-on state): nothing to check

    def reset(self) -> None:
        self.__init__()

    # ---- the table -----------------------------------------------------------------------------------------------
    def set_owner(self, index: int, mask: int) -> bool:
        """Write one block's owners; False (nothing changes) while the table is locked or for a bad index."""
        if self.locked or not 0 <= index < len(BLOCKS):
            self.ignored_writes += self.locked
            return False
        self.owners[index] = mask & ALL_CORES
        self.open = all(m == ALL_CORES for m in self.owners)
        return True

    def lock(self) -> None:
        self.locked = True

    def unlock(self) -> None:
        self.locked = False

    def owners_of(self, name: str) -> tuple[str, ...]:
        for i, block in enumerate(BLOCKS):
            if block.name == name:
                return cores_of(self.owners[i])
        raise KeyError(f"no firewall block named {name!r}")

    # ---- accesses -----------------------------------------------------------------------------------------------
    @staticmethod
    def initiator_core(view: str, initiator: str) -> str | None:
        """The core an access counts as (None: not subject to the firewalls)."""
        if initiator in CORE_BITS:
            return initiator
        if initiator == "dma" and view in (IO0, IO1):
            return view                     # an IO core's DMA controller works for that core
        if initiator in EXEMPT_INITIATORS:
            return None
        return initiator                    # anything else is refused everywhere a block is not fully open

    def block_at(self, view: str, address: int) -> int | None:
        index = WINDOW_INDEX.get(view)
        if index is None:
            return None
        starts, entries = index
        i = bisect.bisect_right(starts, address) - 1
        if i >= 0 and address < entries[i][0]:
            return entries[i][1]
        return None

    def check(self, view: str, initiator: str, access_text: str, address: int, size: int, write: bool,
              now_ps: int = 0) -> Refusal | None:
        """None when the access may proceed, else the Refusal (recorded)."""
        core = self.initiator_core(view, initiator)
        if core is None:
            return None
        i = self.block_at(view, address)
        if i is None:
            return None
        mask = self.owners[i]
        if core in CORE_BITS and mask & CORE_BITS[core]:
            return None
        if core not in CORE_BITS and mask == ALL_CORES:
            return None
        refusal = Refusal(now_ps, core, access_text, BLOCKS[i].name, address, size, write, cores_of(mask))
        self.refused += 1
        self.refusals.append(refusal)
        return refusal

    # ---- inspection -----------------------------------------------------------------------------------------------
    def state(self) -> dict:
        return {"locked": self.locked, "refused": self.refused, "ignored_writes": self.ignored_writes,
                "blocks": {b.name: list(cores_of(self.owners[i])) for i, b in enumerate(BLOCKS)},
                "refusals": [r.describe() for r in self.refusals]}

    def describe(self, refusals: int = 10) -> list[str]:
        lines = [f"firewalls: {'locked' if self.locked else 'unlocked'}"
                 f"{' (power-on state: every block open)' if self.open else ''}, {self.refused} refusal(s)"]
        for i, b in enumerate(BLOCKS):
            owners = cores_of(self.owners[i])
            lines.append(f"  {b.name:<14} {'+'.join(owners) if owners else '(no core)':<12} {b.description}")
        recent = list(self.refusals)[-refusals:] if refusals else []
        if recent:
            lines.append(f"last {len(recent)} refusal(s):")
            lines += [f"  {r.describe()}" for r in recent]
        return lines
