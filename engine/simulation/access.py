"""Who is on the bus: every access carries its initiator so that firewalls and models can tell cores apart."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Access:
    initiator: str          # "io0", "io1", "a7", "pluton", "dma", "debugger", "test"
    secure: bool = False
    privileged: bool = True

    def __str__(self) -> str:
        return f"{self.initiator}{'/s' if self.secure else ''}{'' if self.privileged else '/user'}"


# Accesses made from Python (tests, the CLI, the Renode bridge when Renode does not say who it is).
TEST_ACCESS = Access("test")
DEBUGGER_ACCESS = Access("debugger")


class BusError(Exception):
    """An access that no target accepts. The core turns this into a guest-visible bus fault."""

    def __init__(self, address: int, size: int, write: bool, reason: str = "unmapped") -> None:
        super().__init__(f"bus {'write' if write else 'read'} of {size} byte(s) at 0x{address:08x}: {reason}")
        self.address, self.size, self.write, self.reason = address, size, write, reason


class AccessDenied(BusError):
    """Refused by an access-control hook (the firewall)."""
