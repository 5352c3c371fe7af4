"""SPI: the ISU SPI masters as Linux spidev nodes, which libapplibs' SPIMaster_* functions use.

Interface: Linux's spidev (include/uapi/linux/spi/spidev.h): SPI_IOC_MESSAGE(n) (n struct spi_ioc_transfer
{u64 tx_buf; u64 rx_buf; u32 len; u32 speed_hz; u16 delay_usecs; u8 bits_per_word; u8 cs_change; u8 tx_nbits;
u8 rx_nbits; u16 pad}, 32 bytes each) run with the chip select held from the first to the last; SPI_IOC_RD/WR_MODE
(CPHA 0x1, CPOL 0x2, SPI_CS_HIGH 0x4, SPI_LSB_FIRST 0x8), RD/WR_LSB_FIRST, RD/WR_BITS_PER_WORD (8 only),
RD/WR_MAX_SPEED_HZ, RD/WR_MODE32; read(2)/write(2) are one half-duplex transfer each. The ISU must be listed in
the manifest's "SpiMaster" capability (EACCES otherwise).

The driver works at the bus level of the ISU's SPI master model (`isu<n>_spim`.bus, mt3620.peripherals.buses.spi:
`drive_line(cs, level)` and `exchange(data, mode, lsb_first)`; docs/peripherals.md): the chip select line goes
active, the bytes are exchanged, the line goes inactive; the thread then sleeps for the time the transfer takes at
the bus speed (8 clocks a byte), in virtual time. A write-only transfer ignores MISO; a read-only one sends 0x00.

Emulator-defined (docs/a7.md, docs/EMULATOR-DEFINED.md): nodes /dev/spidev<ISU>.<CS> (CS 0 = CSA, 1 = CSB) for the
ISUs whose SPI master model is in the machine; one open descriptor per ISU (both chip selects share the
controller: EBUSY); the default speed 1 MHz, at most 40 MHz (the MT3620's ISU SPI maximum).
"""
from __future__ import annotations

import struct

from mt3620.engine.linux.abi import EBUSY, EINVAL, ENOTTY
from mt3620.engine.linux.devices import DeviceFile
from mt3620.engine.linux.errors import LinuxError
from mt3620.engine.linux.waiting import BLOCKED, Block
from mt3620.engine.simulation.clock import PS_PER_SECOND

from . import Service

MAGIC = ord("k")
TRANSFER = struct.Struct("<QQIIHBBBBH")
SPI_CPHA, SPI_CPOL, SPI_CS_HIGH, SPI_LSB_FIRST = 0x1, 0x2, 0x4, 0x8
MODE_MASK = SPI_CPHA | SPI_CPOL | SPI_CS_HIGH | SPI_LSB_FIRST
MAX_SPEED = 40_000_000
DEFAULT_SPEED = 1_000_000
MAX_TRANSFERS = 256
MAX_LEN = 4096


def _ioc(direction: int, nr: int, size: int) -> int:
    return direction << 30 | size << 16 | MAGIC << 8 | nr


RD_MODE, WR_MODE = _ioc(2, 1, 1), _ioc(1, 1, 1)
RD_LSB_FIRST, WR_LSB_FIRST = _ioc(2, 2, 1), _ioc(1, 2, 1)
RD_BITS_PER_WORD, WR_BITS_PER_WORD = _ioc(2, 3, 1), _ioc(1, 3, 1)
RD_MAX_SPEED_HZ, WR_MAX_SPEED_HZ = _ioc(2, 4, 4), _ioc(1, 4, 4)
RD_MODE32, WR_MODE32 = _ioc(2, 5, 4), _ioc(1, 5, 4)


class SpiService(Service):
    name = "spi"

    def __init__(self, os) -> None:
        super().__init__(os)
        self.buses = {}
        for isu in range(5):
            model = self.machine.devices.get(f"isu{isu}_spim")
            bus = getattr(model, "bus", None)
            if bus is not None and hasattr(bus, "exchange"):
                self.buses[isu] = bus
        self.open_files: dict[int, SpiFile] = {}
        for isu in sorted(self.buses):
            for cs in (0, 1):
                self.kernel.devices.register(f"/dev/spidev{isu}.{cs}",
                                             lambda ctx, isu=isu, cs=cs: self._open(ctx, isu, cs), mode=0o666)

    def _open(self, ctx, isu: int, cs: int) -> "SpiFile":
        self.require(isu in self.capabilities(ctx).spi_master, f"SPI master ISU{isu}", ctx)
        if isu in self.open_files:
            raise LinuxError(EBUSY)
        f = self.open_files[isu] = SpiFile(ctx, self, isu, cs)
        return f


class SpiFile(DeviceFile):
    def __init__(self, ctx, service: SpiService, isu: int, cs: int) -> None:
        super().__init__(ctx)
        self.service, self.isu, self.cs = service, isu, cs
        self.bus = service.buses[isu]
        self.mode = 0
        self.speed = DEFAULT_SPEED
        self._select(False)

    def _select(self, active: bool) -> None:
        high = bool(self.mode & SPI_CS_HIGH)
        self.bus.drive_line(self.cs, int(active == high))

    def _window(self, chunks: list[tuple[bytes, bool]], speed: int) -> tuple[list[bytes], int]:
        """Chip select active for the whole list of (bytes to send, keep MISO) exchanges."""
        out: list[bytes] = []
        bits = 0
        self._select(True)
        try:
            for data, _ in chunks:
                out.append(self.bus.exchange(data, self.mode & 3, bool(self.mode & SPI_LSB_FIRST)))
                bits += 8 * len(data)
        finally:
            self._select(False)
        return out, bits * PS_PER_SECOND // max(1, speed)

    def _after(self, wire_ps: int, result: int):
        if wire_ps <= 0:
            return result
        deadline = self.service.kernel.now_ps() + wire_ps
        return Block(lambda: BLOCKED, [], deadline=deadline, on_timeout=lambda: result, interruptible=False,
                     what=f"spidev{self.isu}.{self.cs} transfer")

    def _message(self, count: int, arg: int, memory):
        if not 0 < count <= MAX_TRANSFERS:
            raise LinuxError(EINVAL)
        transfers = [TRANSFER.unpack(memory.read(arg + i * TRANSFER.size, TRANSFER.size)) for i in range(count)]
        chunks, speed, total = [], self.speed, 0
        for tx, rx, length, speed_hz, _delay, bpw, _cs_change, _txn, _rxn, _pad in transfers:
            if length > MAX_LEN or (bpw not in (0, 8)):
                raise LinuxError(EINVAL)
            data = memory.read(tx, length) if tx and length else bytes(length)
            chunks.append((data, bool(rx)))
            if speed_hz:
                speed = min(speed, speed_hz)
            total += length
        replies, wire_ps = self._window(chunks, speed)
        for (tx, rx, length, *_), reply in zip(transfers, replies):
            if rx and length:
                memory.write(rx, reply)
        return self._after(wire_ps, total)

    def ioctl(self, request: int, arg: int, memory):
        kind, nr, size = request >> 8 & 0xFF, request & 0xFF, request >> 16 & 0x3FFF
        if kind == MAGIC and nr == 0 and request >> 30 == 1:
            if size % TRANSFER.size:
                raise LinuxError(EINVAL)
            return self._message(size // TRANSFER.size, arg, memory)
        if request == WR_MODE:
            mode = memory.read(arg, 1)[0]
            if mode & ~MODE_MASK:
                raise LinuxError(EINVAL)
            self.mode = mode
            self._select(False)
            return 0
        if request == WR_MODE32:
            mode = memory.read_u32(arg)
            if mode & ~MODE_MASK:
                raise LinuxError(EINVAL)
            self.mode = mode
            self._select(False)
            return 0
        if request == RD_MODE:
            memory.write(arg, bytes([self.mode & 0xFF]))
            return 0
        if request == RD_MODE32:
            memory.write_u32(arg, self.mode)
            return 0
        if request == WR_LSB_FIRST:
            self.mode = (self.mode & ~SPI_LSB_FIRST) | (SPI_LSB_FIRST if memory.read(arg, 1)[0] else 0)
            return 0
        if request == RD_LSB_FIRST:
            memory.write(arg, bytes([1 if self.mode & SPI_LSB_FIRST else 0]))
            return 0
        if request == WR_BITS_PER_WORD:
            if memory.read(arg, 1)[0] not in (0, 8):
                raise LinuxError(EINVAL)
            return 0
        if request == RD_BITS_PER_WORD:
            memory.write(arg, b"\x08")
            return 0
        if request == WR_MAX_SPEED_HZ:
            speed = memory.read_u32(arg)
            if not 0 < speed <= MAX_SPEED:
                raise LinuxError(EINVAL)
            self.speed = speed
            return 0
        if request == RD_MAX_SPEED_HZ:
            memory.write_u32(arg, self.speed)
            return 0
        raise LinuxError(ENOTTY)

    def read(self, count: int) -> bytes:
        replies, _ = self._window([(bytes(min(count, MAX_LEN)), True)], self.speed)
        return replies[0]

    def write(self, data: bytes) -> int:
        data = bytes(data[:MAX_LEN])
        self._window([(data, False)], self.speed)
        return len(data)

    def release(self) -> None:
        self.service.open_files.pop(self.isu, None)
