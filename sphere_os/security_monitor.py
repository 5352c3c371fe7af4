"""The emulated security monitor's part in starting apps: it programs the hardware firewalls from the manifests
of the apps that run, then locks them until the next app start (the real security monitor runs on the A7 in
secure mode and owns the firewall configuration; ASOS include/azure-sphere/security_monitor.h names its calls).

It writes the firewall block's registers through the A7's bus with a secure, privileged access (the only path
the block admits, peripherals/firewall/bus_firewall.py): unlock, one OWNER register per block, lock. Every
refusal the firewalls make afterwards is logged with initiator, block and address, on the OS's stream `a7.os`
(`firewall: io1 refused read of 4 byte(s) at 0x38080514: block isu1 belongs to no core`) and in the Python log.
"""
from __future__ import annotations

import logging

from mt3620.peripherals.firewall import firewall_of
from mt3620.peripherals.firewall.bus_firewall import SECURE_MONITOR

from .resources import Placed, firewall_owners

log = logging.getLogger("mt3620.os")
OS_LABEL = "a7.os"


class SecurityMonitor:
    def __init__(self, machine) -> None:
        self.machine = machine
        self.firewall = firewall_of(machine)
        self.programmed: dict[str, set[str]] | None = None
        if self.firewall is not None:
            self.firewall.add_refusal_listener(self._refused)

    def _refused(self, refusal) -> None:
        self.machine.emit(OS_LABEL, (refusal.describe() + "\n").encode())

    def program(self, running: list[Placed]) -> dict[str, set[str]]:
        """Give every block to the cores of the apps in `running` (and nothing else to anyone); lock."""
        owners = firewall_owners(running)
        if self.firewall is not None:
            self.firewall.program(owners, bus=self.machine.view("a7"), access=SECURE_MONITOR)
            log.info("security monitor: firewalls programmed for %s and locked",
                     ", ".join(f"{p.name} on {p.core}" for p in running) or "no app")
        self.programmed = owners
        return owners
