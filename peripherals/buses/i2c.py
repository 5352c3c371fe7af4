"""An I2C bus: the wire between masters (the ISU I2C controllers, a Python master such as the A7's OS layer or a
test) and targets (device models, an ISU in subordinate mode). Pure logic: no clock, no registers.

Byte-level protocol (the level every I2C controller of the MT3620 works at: it sends whole bytes and samples the
ninth clock's ACK; NXP UM10204 "I2C-bus specification", sections 3.1.4-3.1.12):
    address(byte)  a START (or repeated START) and the address byte (7-bit address << 1 | R/W); True = ACK
    write(byte)    a data byte from the master; True = the target ACKed it
    read(last)     a data byte from the target; `last` = the master NACKs it (the last byte before STOP/RS)
    stop()         a STOP: the target's transaction ends
Ten-bit addresses (UM10204 3.1.11): the address byte 11110xx0 carries bits 9:8 and the next written byte bits 7:0;
a repeated START with 11110xx1 then reads from the ten-bit target addressed last. A controller that only knows
7-bit addresses (the MT3620's, CodethinkLabs I2CMaster.c and MediaTek hdl_i2c.c take 7 bits) reaches a ten-bit
target this way: slave id 0x78 | A9:A8 and A7:A0 as the first data byte, as on a real bus.

A target may hold SCL low (clock stretching, UM10204 3.1.9): a fixed `stretch_ps` added to each of its bytes,
or the sentinel WAIT returned from a call, after which the target calls `bus.resume()` once it can go on; the
master owning the bus is told through its `i2c_resume()` and repeats the call. An address nobody answers is not
acknowledged (NACK), as on a board where nothing sits at that address.

One transaction at a time: a master owns the bus from its first START to its STOP (`claim`/`release`); a master
that finds the bus owned by another either waits (the ISU controllers look at BUS_BUSY first) or loses
arbitration (`I2cBusy` for a Python master).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

log = logging.getLogger("mt3620.i2c")

WAIT = type("I2cWait", (), {"__repr__": lambda self: "WAIT", "__bool__": lambda self: False})()
"""Returned by a target that holds SCL low; it calls `bus.resume()` when the master may repeat the call."""

TEN_BIT_PREFIX = 0x78            # 11110xx: the first address byte of a ten-bit address (UM10204 table 4)
GENERAL_CALL = 0x00


class I2cError(Exception):
    """A transfer of a Python master failed on the bus; the message says where."""


class I2cNack(I2cError):
    def __init__(self, what: str, index: int) -> None:
        super().__init__(f"{what} not acknowledged (byte {index})")
        self.what, self.index = what, index


class I2cBusy(I2cError):
    """Another master owns the bus (arbitration lost)."""


class I2cTarget:
    """Base of an I2C target (device model). Override what the device does; the defaults ACK everything and
    read 0xFF. `address` is 7-bit (0..0x7F) or, with `ten_bit`, 10-bit. `stretch_ps` is SCL low time the target
    adds to every byte it takes part in (clock stretching)."""

    address: int = 0
    ten_bit: bool = False
    stretch_ps: int = 0
    bus: "I2cBus | None" = None
    name: str = "i2c-target"

    def i2c_start(self, read: bool) -> Any:
        """Addressed (after START or repeated START) for a read or a write: True to ACK, False to NACK, or WAIT."""
        return True

    def i2c_write(self, byte: int) -> Any:
        """A byte from the master: True to ACK, False to NACK, or WAIT."""
        return True

    def i2c_read(self) -> Any:
        """The next byte for the master (0..255), or WAIT."""
        return 0xFF

    def i2c_read_acked(self, ack: bool) -> None:
        """The master's ACK (True) or NACK (False) of the byte just read."""

    def i2c_stop(self) -> None:
        """STOP: the transaction ends (a repeated START calls i2c_start again without a stop)."""


@dataclass
class BusEvent:
    kind: str                  # "start", "write", "read", "stop"
    value: int = 0             # address byte, data byte
    ack: bool | None = None
    master: str = ""


@dataclass
class Op:
    """One phase of a Python master's transfer: `write` bytes, or `read` a count of bytes."""
    write: bytes | None = None
    read: int = 0


class I2cBus:
    """The wire (see the module docstring). `targets` by address; `monitors` see every bus event."""

    def __init__(self, name: str = "i2c") -> None:
        self.name = name
        self.targets: dict[tuple[int, bool], I2cTarget] = {}
        self.monitors: list[Callable[[BusEvent], None]] = []
        self.owner: Any = None
        self._selected: I2cTarget | None = None      # the target of the current address phase
        self._ten_bit_hi: int | None = None          # A9:A8 after 11110xx0, waiting for A7:A0
        self._ten_bit_last: I2cTarget | None = None  # the ten-bit target addressed last (for 11110xx1 reads)
        self._waiting: Any = None                    # the master told to wait by a stretching target
        self._touched: list[I2cTarget] = []          # targets that ACKed an address since the last STOP

    # ---- wiring -------------------------------------------------------------------------------------------------
    def attach(self, target: I2cTarget, address: int | None = None, ten_bit: bool | None = None) -> I2cTarget:
        """Put `target` on the bus at `address` (its own `address` if None). Two targets at one address are an
        error (a board would not work either)."""
        if address is not None:
            target.address = int(address)
        if ten_bit is not None:
            target.ten_bit = bool(ten_bit)
        limit = 0x3FF if target.ten_bit else 0x7F
        if not 0 <= target.address <= limit:
            raise ValueError(f"{self.name}: I2C address 0x{target.address:x} out of range "
                             f"(0..0x{limit:x} for {'10' if target.ten_bit else '7'}-bit)")
        key = (target.address, target.ten_bit)
        if key in self.targets and self.targets[key] is not target:
            raise ValueError(f"{self.name}: address 0x{target.address:02x} already taken by "
                             f"{self.targets[key].name}")
        self.targets[key] = target
        target.bus = self
        return target

    def detach(self, target: I2cTarget) -> None:
        key = (target.address, target.ten_bit)
        if self.targets.get(key) is target:
            del self.targets[key]
        if self._selected is target:
            self._selected = None

    def target_at(self, address: int, ten_bit: bool = False) -> I2cTarget | None:
        return self.targets.get((address, ten_bit))

    # ---- ownership ----------------------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.owner is not None

    def claim(self, master: Any) -> bool:
        """Take the bus for a transaction; False when another master owns it."""
        if self.owner is not None and self.owner is not master:
            return False
        self.owner = master
        return True

    def release(self, master: Any) -> None:
        if self.owner is master:
            self.owner = None
            self._waiting = None

    def resume(self) -> None:
        """A stretching target can go on: the waiting master repeats its call."""
        master, self._waiting = self._waiting, None
        if master is not None and hasattr(master, "i2c_resume"):
            master.i2c_resume()

    def _note(self, result: Any, master: Any) -> Any:
        if result is WAIT:
            self._waiting = master
        return result

    def _emit(self, kind: str, value: int = 0, ack: bool | None = None, master: Any = None) -> None:
        if self.monitors:
            event = BusEvent(kind, value, ack, getattr(master, "name", str(master or "")))
            for fn in list(self.monitors):
                fn(event)

    def _answer(self, kind: str, byte: int, result: Any, master: Any) -> Any:
        """What the master gets for an address or data byte: WAIT as it is (the target stretches SCL and the
        master repeats the call), else the ACK (True) or NACK (False), which the monitors see."""
        if result is WAIT:
            return WAIT
        ack = bool(result)
        self._emit(kind, byte, ack, master)
        return ack

    def _touch(self, target: I2cTarget) -> None:
        """`target` acknowledged its address: it gets i2c_stop() at the next STOP."""
        if target not in self._touched:
            self._touched.append(target)

    # ---- byte level (a master calls these while it owns the bus) ------------------------------------------------
    def address(self, byte: int, master: Any = None) -> Any:
        """START or repeated START with address byte `byte`: True = ACK, False = NACK, or WAIT."""
        byte &= 0xFF
        read = bool(byte & 1)
        addr7 = byte >> 1
        self._ten_bit_hi = None
        target: I2cTarget | None
        if addr7 & 0x7C == TEN_BIT_PREFIX:
            hi = addr7 & 0x3
            if read:
                last = self._ten_bit_last
                target = last if last is not None and last.address >> 8 == hi else None
            else:
                # Every ten-bit target with these high bits ACKs the first byte; the second byte picks one.
                self._ten_bit_hi = hi
                self._selected = None
                ack = any(t.ten_bit and t.address >> 8 == hi for t in self.targets.values())
                return self._answer("start", byte, ack, master)
        else:
            target = self.targets.get((addr7, False))
        self._selected = target
        if target is None:
            return self._answer("start", byte, False, master)
        result = self._note(target.i2c_start(read), master)
        if result is not WAIT:
            if result:
                self._touch(target)
            else:
                self._selected = None
        return self._answer("start", byte, result, master)

    def write(self, byte: int, master: Any = None) -> Any:
        byte &= 0xFF
        if self._ten_bit_hi is not None:
            address = self._ten_bit_hi << 8 | byte
            self._ten_bit_hi = None
            target = self.targets.get((address, True))
            self._selected = target
            if target is None:
                return self._answer("write", byte, False, master)
            self._ten_bit_last = target
            result = self._note(target.i2c_start(False), master)
            if result is WAIT:
                self._ten_bit_hi = address >> 8
                self._selected = None
            elif result:
                self._touch(target)
            return self._answer("write", byte, result, master)
        target = self._selected
        if target is None:
            return self._answer("write", byte, False, master)
        return self._answer("write", byte, self._note(target.i2c_write(byte), master), master)

    def read(self, last: bool = False, master: Any = None) -> Any:
        """A byte from the addressed target (0xFF when none drives SDA), then the master's ACK/NACK."""
        target = self._selected
        if target is None:
            self._emit("read", 0xFF, not last, master)
            return 0xFF
        value = self._note(target.i2c_read(), master)
        if value is WAIT:
            return WAIT
        value = int(value) & 0xFF
        target.i2c_read_acked(not last)
        self._emit("read", value, not last, master)
        return value

    def stop(self, master: Any = None) -> None:
        """STOP: every target addressed since the last STOP ends its transaction."""
        self._selected = None
        self._ten_bit_hi = None
        touched, self._touched = self._touched, []
        for t in touched:
            t.i2c_stop()
        self._emit("stop", 0, None, master)

    def stretch_ps(self) -> int:
        """SCL low time the addressed target adds to a byte."""
        t = self._selected
        return int(getattr(t, "stretch_ps", 0) or 0) if t is not None else 0

    # ---- a Python master (tests, the A7's OS layer): whole transfers, in zero virtual time ---------------------
    def transfer(self, address: int, ops: Sequence[Op | bytes | int], *, ten_bit: bool = False,
                 master: Any = "python") -> list[bytes]:
        """START, then each op (bytes = write them, int n = read n bytes) separated by repeated STARTs, then STOP.
        Returns the bytes read, one entry per read op. Raises I2cNack (address or data not acknowledged, after a
        STOP as a controller does), I2cBusy (another master owns the bus) or I2cError (a target stretched the
        clock: use a timed master, an ISU controller, to wait for it)."""
        if not self.claim(master):
            raise I2cBusy(f"{self.name}: the bus is owned by {getattr(self.owner, 'name', self.owner)}")
        out: list[bytes] = []
        try:
            for n, op in enumerate(ops):
                op = op if isinstance(op, Op) else (Op(write=bytes(op)) if isinstance(op, (bytes, bytearray))
                                                    else Op(read=int(op)))
                read = op.write is None
                first = self._address_bytes(address, ten_bit, read, n)
                for i, byte in enumerate(first):
                    ack = self._expect(self.address(byte, master) if i == 0 else self.write(byte, master))
                    if not ack:
                        raise I2cNack(f"address 0x{address:02x}", 0)
                if read:
                    data = bytearray()
                    for i in range(op.read):
                        value = self.read(i == op.read - 1, master)
                        if value is WAIT:
                            raise I2cError(f"{self.name}: target 0x{address:02x} stretched the clock")
                        data.append(value)
                    out.append(bytes(data))
                else:
                    for i, byte in enumerate(op.write or b""):
                        if not self._expect(self.write(byte, master)):
                            raise I2cNack(f"data to 0x{address:02x}", i + 1)
            return out
        finally:
            self.stop(master)
            self.release(master)

    def _expect(self, result: Any) -> bool:
        if result is WAIT:
            self._waiting = None
            raise I2cError(f"{self.name}: a target stretched the clock (a Python master cannot wait)")
        return bool(result)

    @staticmethod
    def _address_bytes(address: int, ten_bit: bool, read: bool, index: int) -> list[int]:
        if not ten_bit:
            return [(address & 0x7F) << 1 | int(read)]
        hi = TEN_BIT_PREFIX | (address >> 8 & 0x3)
        if read:
            # A ten-bit read: the full address written first (UM10204 figure 15), then a repeated START.
            return [hi << 1, address & 0xFF] if index == 0 else [hi << 1 | 1]
        return [hi << 1, address & 0xFF]

    def write_to(self, address: int, data: bytes, **kw: Any) -> None:
        self.transfer(address, [bytes(data)], **kw)

    def read_from(self, address: int, count: int, **kw: Any) -> bytes:
        return self.transfer(address, [count], **kw)[0]

    def write_read(self, address: int, data: bytes, count: int, **kw: Any) -> bytes:
        """Write then read with a repeated START (a register read)."""
        return self.transfer(address, [bytes(data), count], **kw)[0]


def byte_time_ps(bit_period_ps: int) -> int:
    """Eight data bits and the ACK bit."""
    return 9 * bit_period_ps


@dataclass
class RegisterTarget(I2cTarget):
    """A target with a register file and an auto-incrementing register pointer (the usual sensor protocol: the
    first written byte selects the register, further writes store from there, reads return from there).
    Subclasses override `read_register(reg)` / `write_register(reg, value)`."""
    name: str = "registers"
    address: int = 0
    registers: dict[int, int] = field(default_factory=dict)
    pointer: int = 0
    auto_increment: bool = True
    _first: bool = field(default=True, repr=False)

    def i2c_start(self, read: bool) -> Any:
        self._first = not read
        return True

    def i2c_write(self, byte: int) -> Any:
        if self._first:
            self.pointer = byte
            self._first = False
            return True
        self.write_register(self.pointer, byte)
        if self.auto_increment:
            self.pointer = (self.pointer + 1) & 0xFF
        return True

    def i2c_read(self) -> Any:
        value = self.read_register(self.pointer)
        if self.auto_increment:
            self.pointer = (self.pointer + 1) & 0xFF
        return value

    def read_register(self, reg: int) -> int:
        return self.registers.get(reg, 0)

    def write_register(self, reg: int, value: int) -> None:
        self.registers[reg] = value & 0xFF
