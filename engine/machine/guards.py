"""Bus guards: a block that only some initiators may reach, until the firewall models decide (another issue).

A model class that declares `INITIATORS = ("a7", ...)` is mapped, in every CPU view, behind an `InitiatorGuard`:
an access by another guest initiator (an IO core, DMA) is refused with AccessDenied, which the core turns into a
bus fault; an A7 access must also be secure and privileged (the security monitor's path, not a user-mode app).
Accesses made by the emulator itself (tests, the debugger) pass. The Pluton mailbox at 0x31000000 is such a
block (peripherals/pluton/mailbox.py).
"""
from __future__ import annotations

from mt3620.engine.simulation.access import Access, AccessDenied

HOST_INITIATORS = frozenset({"test", "debugger"})


class InitiatorGuard:
    def __init__(self, device, allowed: tuple[str, ...], base: int = 0) -> None:
        self.device = device
        self.allowed = frozenset(allowed)
        self.base = base
        self.refused = 0

    @property
    def name(self) -> str:
        return self.device.name

    def __getattr__(self, item):             # everything else (IRQs, listeners, state) is the model's
        return getattr(self.device, item)

    def _check(self, access: Access, offset: int, size: int, write: bool) -> None:
        if access.initiator in HOST_INITIATORS:
            return
        if access.initiator in self.allowed and access.secure and access.privileged:
            return
        self.refused += 1
        raise AccessDenied(self.base + offset, size, write,
                           f"{self.device.name} admits only secure privileged {'/'.join(sorted(self.allowed))} "
                           f"accesses, not {access}")

    def read(self, offset: int, size: int = 4, access: Access = Access("test")) -> int:
        self._check(access, offset, size, False)
        return self.device.read(offset, size, access)

    def write(self, offset: int, size: int, value: int, access: Access = Access("test")) -> None:
        self._check(access, offset, size, True)
        self.device.write(offset, size, value, access)


def guarded(device, base: int):
    """The object to map for `device`: itself, or an InitiatorGuard when its class restricts initiators."""
    allowed = getattr(type(device), "INITIATORS", None)
    return InitiatorGuard(device, tuple(allowed), base) if allowed else device
