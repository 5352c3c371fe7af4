"""The OS's driver for the Wi-Fi host interface (0x60000000, peripherals/wifi/n9_hif.py): what the Azure Sphere
kernel's Wi-Fi driver does, through the A7's bus view with the same register traffic.

Commands go one at a time (the HIF runs one): arguments into the buffer, ARG_LENGTH, CMD; CMD_DONE comes back as
an interrupt. There is no GIC model for the A7, so the driver takes the HIF's interrupt line directly (its level
sink) and runs its handler from the machine's event loop: read INT_STATUS, acknowledge it (W1C), call the
listeners. Nothing waits in wall time and nothing blocks: callers get callbacks.
"""
from __future__ import annotations

import ipaddress
import logging
import struct
from collections import deque
from dataclasses import dataclass
from typing import Callable

from mt3620.engine.simulation.access import Access
from mt3620.peripherals.wifi import n9_hif as hif

log = logging.getLogger("mt3620.net")
HIF_BASE = 0x60000000
A7_KERNEL = Access("a7", secure=False, privileged=True)
ALL_INTERRUPTS = 0x7F


@dataclass
class CommandResult:
    error: int
    result: int
    data: bytes = b""


@dataclass
class Lease:
    address: ipaddress.IPv4Address
    netmask: ipaddress.IPv4Address
    gateway: ipaddress.IPv4Address
    dns: ipaddress.IPv4Address
    seconds: int


class HifDriver:
    def __init__(self, view, model, base: int = HIF_BASE) -> None:
        self.view, self.model, self.base = view, model, base
        self.queue: deque[tuple[int, dict, Callable[[CommandResult], None]]] = deque()
        self.current: tuple[int, dict, Callable] | None = None
        self.listeners: list[Callable[[int], None]] = []        # fn(interrupt bits) for link events
        if self._r(0) != hif.HIF_ID:
            raise RuntimeError(f"no Wi-Fi HIF at 0x{base:08x} (ID 0x{self._r(0):08x})")
        self._w(hif.WifiHif.offset("INT_STATUS"), ALL_INTERRUPTS)
        self._w(hif.WifiHif.offset("INT_ENABLE"), ALL_INTERRUPTS)
        model.irq[0].connect(self._irq)

    # ---- registers ----------------------------------------------------------------------------------------------
    def _r(self, offset: int) -> int:
        return self.view.read_u32(self.base + offset, A7_KERNEL)

    def _w(self, offset: int, value: int) -> None:
        self.view.write_u32(self.base + offset, value, A7_KERNEL)

    def reg(self, name: str) -> int:
        return self._r(hif.WifiHif.offset(name))

    @property
    def mac(self) -> bytes:
        return self.reg("MAC_LO").to_bytes(4, "little") + self.reg("MAC_HI").to_bytes(4, "little")[:2]

    def link(self) -> dict | None:
        """The associated BSS as the registers say, or None."""
        if self.reg("LINK_STATE") != hif.LS_CONNECTED:
            return None
        bssid = self.reg("LINK_BSSID_LO").to_bytes(4, "little") + self.reg("LINK_BSSID_HI").to_bytes(4, "little")[:2]
        rssi = struct.unpack("<i", struct.pack("<I", self.reg("LINK_RSSI")))[0]
        return {"bssid": bssid, "frequency_mhz": self.reg("LINK_FREQ"), "signal_dbm": rssi}

    def lease(self) -> Lease | None:
        address = self.reg("IP_ADDR")
        if not address:
            return None
        return Lease(ipaddress.IPv4Address(address), ipaddress.IPv4Address(self.reg("IP_MASK")),
                     ipaddress.IPv4Address(self.reg("IP_GATEWAY")), ipaddress.IPv4Address(self.reg("IP_DNS")),
                     self.reg("LEASE_SECONDS"))

    def last_failure(self) -> dict:
        reason = self.reg("LINK_REASON")
        detail = self.reg("EAP_DETAIL")
        depth = (detail >> 8) & 0xFF
        return {"reason": reason & 0xFFFF, "failure": (reason >> 16) & 0xFF, "cert_error": detail & 0xFF,
                "cert_depth": -1 if depth == 0xFF else depth}

    def _read_buffer(self, length: int) -> bytes:
        return self.view.read(self.base + hif.BUFFER_BASE, length, A7_KERNEL) if length else b""

    # ---- commands -------------------------------------------------------------------------------------------------
    def submit(self, code: int, args: dict[int, bytes], done: Callable[[CommandResult], None]) -> None:
        self.queue.append((code, args, done))
        self._next()

    def _next(self) -> None:
        if self.current is not None or not self.queue:
            return
        self.current = self.queue.popleft()
        code, args, _ = self.current
        blob = hif.encode_args(args)
        if len(blob) > hif.BUFFER_SIZE:
            _, _, done = self.current
            self.current = None
            done(CommandResult(hif.BAD_ARGUMENTS, 0))
            self._next()
            return
        if blob:
            self.view.write(self.base + hif.BUFFER_BASE, blob, A7_KERNEL)
        self._w(hif.WifiHif.offset("ARG_LENGTH"), len(blob))
        self._w(hif.WifiHif.offset("CMD"), code)

    def disconnect(self, done: Callable[[CommandResult], None] | None = None) -> None:
        """Leave. A join in progress is aborted (its caller hears CONNECTION_FAILED with data b"aborted"); a scan in
        progress finishes first (the HIF runs one command at a time)."""
        done = done or (lambda result: None)
        if self.current is not None and self.current[0] == hif.CMD_CONNECT:
            aborted, self.current = self.current, None
            self._w(hif.WifiHif.offset("ARG_LENGTH"), 0)
            self._w(hif.WifiHif.offset("CMD"), hif.CMD_DISCONNECT)      # completes at once (see _command_done)
            aborted[2](CommandResult(hif.CONNECTION_FAILED, 0, b"aborted"))
            done(CommandResult(0, 0))
            self._next()
            return
        self.submit(hif.CMD_DISCONNECT, {}, done)

    # ---- the interrupt --------------------------------------------------------------------------------------------
    def _irq(self, level: bool) -> None:
        if not level:
            return
        status = self.reg("INT_STATUS")
        self._w(hif.WifiHif.offset("INT_STATUS"), status)
        if status & hif.INT_CMD_DONE:
            self._command_done()
        link_bits = status & ~hif.INT_CMD_DONE
        if link_bits:
            for listener in list(self.listeners):
                listener(link_bits)

    def _command_done(self) -> None:
        status = self.reg("CMD_STATUS")
        error, result = (status >> 8) & 0xFF, self.reg("CMD_RESULT")
        if self.current is None:
            return                       # DISCONNECT's completion, or a command nobody waits for
        code, _, done = self.current
        if error == hif.BUSY_ERROR and code != hif.CMD_DISCONNECT:
            return                       # our command was refused because a DISCONNECT-aborted job ended late
        data = b""
        if code == hif.CMD_SCAN and not error:
            data = self._read_buffer(result * hif.SCAN_RECORD.size)
        elif code == hif.CMD_CONNECT and error:
            data = self._read_buffer(302).split(b"\0")[0]
        self.current = None
        try:
            done(CommandResult(error, result, data))
        finally:
            self._next()
