"""An SD card in SPI mode, backed by an image file (or memory), as the CodethinkLabs SPI_SDCard sample drives it.

Facts from the SD Association's Physical Layer Simplified Specification (version 6.00 and earlier), chapter 7
("SPI mode"): a command is 6 bytes (01 + 6-bit index, 32-bit argument MSB first, CRC7 << 1 | 1); the card answers
after 1 to 8 bytes (NCR) with R1 (bit 0 idle, 2 illegal command, 3 CRC error, 5 address error, 6 parameter
error), R3 (R1 + OCR) for CMD58, R7 (R1 + echo) for CMD8. CRC is checked for CMD0 and CMD8 always and for every
command after CMD59 with bit 0 set. Initialisation: CMD0 (idle) -> CMD8 0x1AA -> ACMD41 (CMD55 then CMD41, HCS
bit 30) repeated until R1 = 0 -> CMD58 (OCR: bit 31 power-up done, bit 30 CCS = block addressing). Data:
CMD17 reads a 512-byte block (a start token 0xFE after NAC bytes, the data, a CRC16), CMD24 writes one (the host
sends 0xFE, 512 bytes, 2 CRC bytes; the card answers the data response xxx00101 = accepted, xxx01011 = CRC error,
then holds MISO low while busy), CMD9/CMD10 send the CSD/CID the same way as a read, CMD16 sets the block length
(512 only on a high-capacity card), CMD12 stops, CMD59 switches CRC checking.

This card is high capacity (SDHC: block addresses, CSD version 2.0, TRAN_SPEED 0x32 = 25 MHz). Emulator-defined
(docs/peripherals.md): NCR = 2 bytes, NAC = 1 byte, ACMD41 reports ready once `init_ms` (default 2 ms) of virtual
time has passed since the first ACMD41, a write keeps MISO low for `busy_us` (default 250 us); the card keeps its
state when chip select is released between the host's transfers (the sample toggles CS for every SPI transfer);
an image that is not a multiple of 512 bytes is padded with zeros in memory. Writes reach the image file at once
(write-through: each block is written and flushed to the operating system; `close()` syncs it to disk).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mt3620.engine.simulation.clock import PS_PER_SECOND
from mt3620.peripherals.buses.spi import SpiTarget

from .base import BoardDevice, DeviceError

BLOCK = 512
R1_IDLE, R1_ILLEGAL, R1_CRC, R1_ADDRESS, R1_PARAMETER = 0x01, 0x04, 0x08, 0x20, 0x40
TOKEN = 0xFE
CHECKED_ALWAYS = frozenset({0, 8})


def crc7(data: bytes) -> int:
    crc = 0
    for byte in data:
        for bit in range(8):
            crc <<= 1
            if ((byte << bit) ^ crc) & 0x80:
                crc ^= 0x09
        crc &= 0x7F
    return crc


def crc16(data: bytes) -> int:
    """CRC-16-CCITT (polynomial 0x1021, initial 0), the SD data CRC."""
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


class SdCard(BoardDevice, SpiTarget):
    KIND = "SD card"
    SETTINGS = ("image", "size_mb", "init_ms", "busy_us", "readonly")
    modes = frozenset({0, 3})

    def __init__(self, name: str | None = None, clock=None, **attributes: Any) -> None:
        self.image: str | None = None
        self.size_mb = 8
        self.init_ms = 2.0
        self.busy_us = 250.0
        self.readonly = False
        super().__init__(name, clock, **attributes)
        self._open_image()
        self.power_on()

    def _open_image(self) -> None:
        self._file = None
        if self.image is None:
            size = int(float(self.size_mb) * 1024 * 1024)
            if size <= 0 or size % BLOCK:
                raise DeviceError(f"{self.name}: size_mb {self.size_mb!r} is not a whole number of 512-byte blocks")
            self.data = bytearray(size)
            return
        path = Path(self.image)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise DeviceError(f"{self.name}: image {path}: {exc.strerror or exc}") from None
        if not raw:
            raise DeviceError(f"{self.name}: image {path} is empty")
        self.data = bytearray(raw) + bytes((-len(raw)) % BLOCK)
        if not self.readonly:
            try:
                self._file = open(path, "r+b")
            except OSError as exc:
                raise DeviceError(f"{self.name}: image {path} cannot be written ({exc.strerror or exc}); "
                                  f"set readonly: true to use it read-only") from None

    @property
    def blocks(self) -> int:
        return len(self.data) // BLOCK

    def power_on(self) -> None:
        self.idle = True
        self.ready = False
        self.acmd = False
        self.crc_on = False
        self.init_started: int | None = None
        self.frame = bytearray()
        self.out = bytearray()
        self.write_block: int | None = None
        self.write_buffer: bytearray | None = None
        self.busy_until = 0
        self.commands: list[tuple[int, int]] = []
        self.reads = 0
        self.writes = 0

    # ---- SPI ---------------------------------------------------------------------------------------------------------
    def spi_select(self) -> None:
        pass                                       # the card keeps its state across CS releases

    def spi_exchange(self, byte: int) -> int:
        reply = self._next_out()
        if self.write_buffer is not None:
            self._write_byte(byte)
        elif self.write_block is not None:
            if byte == TOKEN:                      # the start of the data packet
                self.write_buffer = bytearray()
        elif self.frame or (byte & 0xC0) == 0x40:
            self.frame.append(byte)
            if len(self.frame) == 6:
                frame, self.frame = bytes(self.frame), bytearray()
                self._command(frame)
        return reply

    def _next_out(self) -> int:
        if self.out:
            return self.out.pop(0)
        if self.clock.now < self.busy_until:
            return 0x00                            # busy: MISO held low
        return 0xFF

    def _respond(self, data: bytes) -> None:
        self.out += b"\xff\xff" + data             # NCR = 2 bytes

    # ---- commands ------------------------------------------------------------------------------------------------------
    def _command(self, frame: bytes) -> None:
        index, argument = frame[0] & 0x3F, int.from_bytes(frame[1:5], "big")
        acmd, self.acmd = self.acmd, False
        self.commands.append((index + (100 if acmd else 0), argument))
        self.out.clear()
        status = R1_IDLE if self.idle else 0
        if (self.crc_on or index in CHECKED_ALWAYS) and crc7(frame[:5]) != frame[5] >> 1:
            self._respond(bytes([status | R1_CRC]))
            return
        if acmd and index == 41:
            if self.init_started is None:
                self.init_started = self.clock.now
            if self.clock.now - self.init_started >= int(float(self.init_ms) * PS_PER_SECOND / 1000):
                self.idle, self.ready = False, True
            self._respond(bytes([R1_IDLE if self.idle else 0]))
            return
        if index == 0:
            self.power_on()
            self._respond(bytes([R1_IDLE]))
        elif index == 8:
            self._respond(bytes([status]) + (argument & 0xFFF).to_bytes(4, "big"))
        elif index == 55:
            self.acmd = True
            self._respond(bytes([status]))
        elif index == 58:
            ocr = 0x00FF8000 | (0xC0000000 if self.ready else 0)
            self._respond(bytes([status]) + ocr.to_bytes(4, "big"))
        elif index == 59:
            self.crc_on = bool(argument & 1)
            self._respond(bytes([status]))
        elif self.idle and index != 1:
            self._respond(bytes([status | R1_ILLEGAL]))
        elif index == 9:
            self._respond_data(bytes([0]), self.csd())
        elif index == 10:
            self._respond_data(bytes([0]), self.cid())
        elif index == 16:
            self._respond(bytes([0 if argument == BLOCK else R1_PARAMETER]))
        elif index == 17:
            if argument >= self.blocks:
                self._respond(bytes([R1_ADDRESS]))
                return
            self.reads += 1
            block = bytes(self.data[argument * BLOCK:(argument + 1) * BLOCK])
            self._respond_data(bytes([0]), block)
        elif index == 24:
            if argument >= self.blocks:
                self._respond(bytes([R1_ADDRESS]))
                return
            self.write_block = argument
            self._respond(bytes([0]))
        elif index == 12:
            self._respond(b"\xff" + bytes([0]))     # a stuff byte before R1
        elif index == 1:
            self._respond(bytes([R1_IDLE if self.idle else 0]))
        else:
            self._respond(bytes([status | R1_ILLEGAL]))

    def _respond_data(self, r1: bytes, payload: bytes) -> None:
        # R1, NAC (one 0xFF), the start token, the data and its CRC16.
        self._respond(r1 + b"\xff" + bytes([TOKEN]) + payload + crc16(payload).to_bytes(2, "big"))

    def _write_byte(self, byte: int) -> None:
        buf = self.write_buffer
        buf.append(byte)
        if len(buf) < BLOCK + 2:
            return
        data, crc = bytes(buf[:BLOCK]), int.from_bytes(buf[BLOCK:], "big")
        block, self.write_block, self.write_buffer = self.write_block, None, None
        if self.crc_on and crc != crc16(data):
            self.out += bytes([0xE0 | 0x0B])       # data response: CRC error
            return
        if self.readonly:
            self.out += bytes([0xE0 | 0x0D])       # data response: write error
            return
        self.data[block * BLOCK:(block + 1) * BLOCK] = data
        self.writes += 1
        if self._file is not None:
            self._file.seek(block * BLOCK)
            self._file.write(data)
            self._file.flush()
        self.out += bytes([0xE0 | 0x05])           # data response: accepted
        self.busy_until = self.clock.now + int(float(self.busy_us) * PS_PER_SECOND / 1_000_000)

    # ---- registers ----------------------------------------------------------------------------------------------------------
    def csd(self) -> bytes:
        """CSD version 2.0 (SDHC): TRAN_SPEED 0x32 (25 MHz), READ_BL_LEN 9, C_SIZE = blocks / 1024 - 1."""
        c_size = max(0, self.blocks // 1024 - 1)
        csd = bytearray(16)
        csd[0] = 0x40                              # CSD_STRUCTURE = 1
        csd[1] = 0x0E                              # TAAC
        csd[3] = 0x32                              # TRAN_SPEED: 25 MHz
        csd[4], csd[5] = 0x5B, 0x59                # CCC, READ_BL_LEN = 9
        csd[7], csd[8], csd[9] = c_size >> 16 & 0x3F, c_size >> 8 & 0xFF, c_size & 0xFF
        csd[10], csd[11] = 0x7F, 0x80              # ERASE_BLK_EN, SECTOR_SIZE
        csd[12], csd[13] = 0x0A, 0x40              # R2W_FACTOR, WRITE_BL_LEN = 9
        csd[15] = crc7(bytes(csd[:15])) << 1 | 1
        return bytes(csd)

    def cid(self) -> bytes:
        cid = bytearray(b"\x00MTEMUSD\x10\x00\x00\x00\x01\x01\x6a\x00")
        cid[15] = crc7(bytes(cid[:15])) << 1 | 1
        return bytes(cid)

    def read_block(self, block: int) -> bytes:
        return bytes(self.data[block * BLOCK:(block + 1) * BLOCK])

    def close(self) -> None:
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None

    def describe(self) -> str:
        return f"{self.name} (SD card, SPI mode, {self.blocks} blocks{', ' + str(self.image) if self.image else ''})" \
               f": {self.reads} reads, {self.writes} writes"
