"""MT3620 ISU n SPI master (0x38070300 + n*0x10000), IRQ 45 + 4n.

Register map: CodethinkLabs/mt3620-m4-drivers mt3620/spi.h (mt3620_spi_t: STCSR, SOAR, SDOR0-7, SMMR, SMBCR, SCSR,
CSPOL, DATAPORT, SDIR0-7) and MediaTek-Labs/mt3620_m4_software MT3620_M4_Driver/HDL/inc/hdl_spim.h (the same map,
bit names); use: CodethinkLabs SPIMaster.c / SPIMasterLow.c, MediaTek hdl_spim.c and mhal_spim.c.

A transfer ("more buffer" mode, SMMR.MORE_BUF_MODE = 1, what both drivers use): CS goes active, SMBCR.CMD_BIT_CNT
bits of SOAR go out MSB first (the low bits: CodethinkLabs packs a 1-4 byte opcode into the low bytes, first byte
most significant), then SMBCR.MOSI_BIT_CNT bits of SDOR (byte 0 first, little-endian within the words), then
(half duplex) SMBCR.MISO_BIT_CNT bits read into SDIR from byte 0; with SMMR.BOTH_DIRECTIONAL_DATA_MODE (full
duplex) the payload is shifted out and in at once and lands in SDIR from byte 16 (MediaTek hdl_spim.c
mtk_hdl_spim_fifo_handle_rx reads a full-duplex reply from SDIR4). STCSR.SPI_MASTER_START starts it; STCSR.BUSY
reads 1 until it ends; then SCSR reports it (SPI_OK, and bit 2 when data went out, bit 1 when data came in:
hdl_spim.h SPI_WRITE_OK / SPI_READ_OK) and, with SMMR.INT_EN, the interrupt line rises until SCSR is read
(CodethinkLabs reads SCSR to clear the interrupt).

Chip select: SMMR.RS_SLAVE_SEL picks CSA (0) or CSB (1); 7 (CodethinkLabs MT3620_CS_NULL) drives none, for
firmware that selects its device with a GPIO. CSPOL.CS_POLAR bit n set makes line n active high.

Clock: SCLK = 79.04 MHz / (SMMR.RS_CLK_SEL + 2) (CodethinkLabs spi.h MT3620_SPI_HCLK "the datasheet says 80MHz but
it's actually 79.04MHz"; both drivers divide by RS_CLK_SEL + 2). A transfer takes its bit count of SCLK periods
plus the CS setup and hold times (CSPOL.CMD_DELAY_SEL, END_DELAY_SEL: emulator-defined as that many periods + 1).

DMA (CSPOL.DMA_MODE): writes to DATAPORT load SOAR, SDOR0-7, SMMR, SMBCR and STCSR in that order, the STCSR word
starting the transfer (the 12-word block both drivers' TX DMA writes: CodethinkLabs mt3620_spi_dma_cfg_t, MediaTek
_mtk_mhal_spim_fill_dma_buffer); words arriving while the transfer runs are dropped (the extra word of
CodethinkLabs' "errata 5.1" padding). Reads of DATAPORT return SDIR words from the start of the reply (MediaTek's
RX DMA). DREQ-paced channels 2n (TX) and 2n + 1 (RX) are served as the handshake allows: the TX channel feeds
DATAPORT while no transfer runs, the RX channel receives each reply once (when the transfer ends, or when the
channel starts after it ended).

Emulator-defined (docs/peripherals.md): bit counts that are not whole bytes are rounded up to bytes for the
devices; MOSI is held high (0xFF) while a half-duplex reply is read; more than 32 bytes of MOSI or MISO (or 16 of a
full-duplex reply) wrap around the 32-byte buffers, logged once; the legacy mode (MORE_BUF_MODE = 0) sends the
opcode byte, 0-4 address bytes (STCSR.SPI_ADDR_SIZE), STCSR.MOSI_BYTE_CNT bytes and reads STCSR.MISO_BYTE_CNT;
with the ISU's SPI clock off (configuration block) nothing is selected and MISO reads 0xFF.
"""
from __future__ import annotations

import logging
from typing import Any

from mt3620.engine.simulation.clock import VirtualClock, ps_for_cycles
from mt3620.engine.simulation.peripheral import (COLD, Field, Peripheral, Register, RegisterArray,
                                                 RegisterView, ResetKind, Timer)
from mt3620.peripherals.buses.spi import SpiBus, SpiTarget

from .function import IsuFunction
from .isu_config import isu_index

log = logging.getLogger("mt3620.isu.spi")

SPI_HCLK_HZ = 79_040_000             # CTD spi.h MT3620_SPI_HCLK
BUFFER = 32                          # CTD MT3620_SPI_BUFFER_SIZE_HALF_DUPLEX
FULL_DUPLEX_RX = 16                  # MediaTek hdl_spim.c: a full-duplex reply starts at SDIR4
CS_NONE = 7                          # CTD MT3620_CS_NULL
DATAPORT_WORDS = 12                  # SOAR, SDOR0-7, SMMR, SMBCR, STCSR


class IsuSpiMaster(IsuFunction, Peripheral):
    FUNCTION = "spim"
    SIZE = 0x100
    IRQS = ("irq",)
    REGISTERS = (
        Register(0x00, "STCSR", read="_read_stcsr", write="_stcsr_written", fields=(
            Field("MOSI_BYTE_CNT", 0, 4), Field("MISO_BYTE_CNT", 4, 4), Field("SPI_MASTER_START", 8),
            Field("SPI_MASTER_BUSY", 16, access="ro"), Field("SPI_ADDR_SIZE", 19, 3), Field("SPI_ADDR_EXT", 24, 8))),
        Register(0x04, "SOAR"),
        RegisterArray("SDOR", 0x08, count=8, stride=4, registers=Register(0, "SDOR")),
        Register(0x28, "SMMR", write="_smmr_written", fields=(
            Field("SERIAL_MODE", 0, 2), Field("MORE_BUF_MODE", 2), Field("LSB_FIRST", 3), Field("CPOL", 4),
            Field("CPHA", 5), Field("BIDIR", 6), Field("PREFETCH", 7), Field("START_SEL", 8), Field("INT_EN", 9),
            Field("BOTH_DIRECTIONAL_DATA_MODE", 10), Field("RS_CLK_SEL", 16, 12), Field("CLK_MODE", 28),
            Field("RS_SLAVE_SEL", 29, 3))),
        Register(0x2C, "SMBCR", fields=(
            Field("MOSI_BIT_CNT", 0, 9), Field("MISO_BIT_CNT", 12, 9), Field("CMD_BIT_CNT", 24, 6))),
        Register(0x30, "Q_CTL"),
        Register(0x34, "SCSR", read="_read_scsr", fields=(
            Field("SPI_OK", 0, access="ro"), Field("SPI_RX_OK", 1, access="ro"), Field("SPI_TX_OK", 2, access="ro"))),
        Register(0x38, "CSPOL", write="_cspol_written", fields=(
            Field("CS_POLAR", 0, 8), Field("DMA_MODE", 8), Field("CMD_DELAY_SEL", 12, 4),
            Field("END_DELAY_SEL", 16, 4))),
        Register(0x40, "DATAPORT", read="_read_dataport", write="_write_dataport"),
        RegisterArray("SDIR", 0x48, count=8, stride=4, registers=Register(0, "SDIR", access="ro")),
    )
    STATE = ("busy", "done", "port_index", "rx_index", "rx_buffer", "rx_ready", "transfers", "wrapped")

    finish = Timer("_finish")

    _PORT = ("SOAR",) + tuple(f"SDOR{i}" for i in range(8)) + ("SMMR", "SMBCR", "STCSR")

    def __init__(self, name: str | None = None, clock: VirtualClock | None = None, **attributes: Any) -> None:
        self.isu_number = isu_index(attributes.get("base_address"), 0x300, "SPI master")
        self.bus = SpiBus(f"isu{self.isu_number}.spi")
        self._warned: set[str] = set()
        super().__init__(name or f"isu{self.isu_number}_spim", clock, **attributes)

    def reset(self, kind: ResetKind = COLD) -> None:
        super().reset(kind)
        self.busy = False
        self.done = False
        self.port_index = 0
        self.rx_index = 0
        self.rx_buffer = bytes(BUFFER)
        self.rx_ready = False                       # a reply the RX DMA channel has not taken yet
        self.transfers = 0
        self.wrapped = 0
        self._pending: tuple | None = None
        if getattr(self, "bus", None) is not None:
            self.bus.drive_line(0, 1)
            self.bus.drive_line(1, 1)
        self.update_irq()

    # ---- wiring -------------------------------------------------------------------------------------------------
    def attach(self, target: SpiTarget, cs: Any) -> SpiTarget:
        """Put a device on this ISU's SPI bus, selected by `cs` ("csA", "csB", "gpioN")."""
        return self.bus.attach(target, cs)

    def _note_once(self, key: str, message: str, *args: Any) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning("%s: " + message, self.name, *args)

    # ---- registers ----------------------------------------------------------------------------------------------
    def update_irq(self) -> None:
        self.irq[0].set(bool(self.done and self.regs.SMMR.INT_EN))

    def _read_stcsr(self) -> int:
        stcsr = self.regs.STCSR
        stcsr.SPI_MASTER_BUSY = int(self.busy)
        return stcsr.value

    def _stcsr_written(self, value: int, old: RegisterView) -> None:
        if self.regs.STCSR.SPI_MASTER_START and not self.busy:
            self._start()

    def _smmr_written(self, value: int) -> None:
        self.update_irq()

    def _read_scsr(self) -> int:
        value = self.regs.SCSR.value
        # Reading SCSR acknowledges the interrupt and the status of the transfer (CodethinkLabs SPIMaster_IRQ).
        self.regs.SCSR.value = 0
        self.done = False
        self.update_irq()
        return value

    def _cspol_written(self, value: int, old: RegisterView) -> None:
        if self.regs.CSPOL.DMA_MODE != old.DMA_MODE:
            self.port_index = 0
            self.rx_index = 0
        self._idle_cs()
        if self.regs.CSPOL.DMA_MODE:
            self._pull_tx()

    def _idle_cs(self) -> None:
        pol = self.regs.CSPOL.CS_POLAR
        for line in (0, 1):
            if not self.busy:
                self.bus.drive_line(line, 0 if pol >> line & 1 else 1)

    def _write_dataport(self, value: int) -> None:
        if self.busy:
            return                                  # the padding word after STCSR (CodethinkLabs "errata 5.1")
        name = self._PORT[self.port_index]
        self.port_index = (self.port_index + 1) % DATAPORT_WORDS
        # Through the register path so the write callbacks run (STCSR starts the transfer).
        self.write(self.offset(name), 4, value)

    def _read_dataport(self) -> int:
        i = self.rx_index % (BUFFER // 4)
        self.rx_index += 1
        return int.from_bytes(self.rx_buffer[4 * i:4 * i + 4], "little")

    # ---- DMA handshake ------------------------------------------------------------------------------------------------
    def _pull_tx(self) -> None:
        """Take configuration words from a DREQ TX channel until a transfer starts."""
        dma = self._dma_for(self.dma_channels[0])
        while dma is not None and not self.busy and dma.request(self.dma_channels[0], 1):
            pass

    def _push_rx(self) -> None:
        """Hand the last reply to a running RX channel, once (an RX channel started later gets the next one)."""
        dma = self._dma_for(self.dma_channels[1])
        if dma is None or not self.regs.CSPOL.DMA_MODE or not self.rx_ready:
            return
        moved = 0
        for _ in range(BUFFER // 4):
            if not dma.request(self.dma_channels[1], 1):
                break
            moved += 1
        if moved:
            self.rx_ready = False

    def dma_started(self, channel: int) -> None:
        if not self.regs.CSPOL.DMA_MODE:
            return
        if channel == self.dma_channels[0]:
            self._pull_tx()
        elif channel == self.dma_channels[1] and not self.busy:
            self._push_rx()

    # ---- the transfer ---------------------------------------------------------------------------------------------
    def sclk_hz(self) -> float:
        return SPI_HCLK_HZ / (self.regs.SMMR.RS_CLK_SEL + 2)

    def mode(self) -> int:
        return self.regs.SMMR.CPOL << 1 | self.regs.SMMR.CPHA

    def _plan(self) -> tuple[bytes, bytes, int, bool, int]:
        """(command bytes, MOSI payload, MISO byte count, full duplex, total bits) of the programmed transfer."""
        smmr, smbcr, stcsr = self.regs.SMMR, self.regs.SMBCR, self.regs.STCSR
        sdor = b"".join(self.regs.SDOR[i].value.to_bytes(4, "little") for i in range(8))
        soar = self.regs.SOAR.value
        if smmr.MORE_BUF_MODE:
            cmd_bits, mosi_bits, miso_bits = smbcr.CMD_BIT_CNT, smbcr.MOSI_BIT_CNT, smbcr.MISO_BIT_CNT
            if cmd_bits > 32:
                self._note_once("cmd_bits", "CMD_BIT_CNT %d > 32: SOAR has 32 bits, 32 are sent", cmd_bits)
                cmd_bits = 32
            if any(bits % 8 for bits in (cmd_bits, mosi_bits, miso_bits)):
                self._note_once("bits", "bit counts that are not whole bytes are rounded up to bytes")
            cmd_bytes = (cmd_bits + 7) // 8
            cmd = (soar & ((1 << (8 * cmd_bytes)) - 1)).to_bytes(4, "big")[4 - cmd_bytes:] if cmd_bytes else b""
            mosi_n, miso_n = (mosi_bits + 7) // 8, (miso_bits + 7) // 8
            full = bool(smmr.BOTH_DIRECTIONAL_DATA_MODE)
            total_bits = cmd_bits + (max(mosi_bits, miso_bits) if full else mosi_bits + miso_bits)
        else:
            size = stcsr.SPI_ADDR_SIZE
            addr_bytes = {0: 0, 1: 2, 2: 3}.get(size & 3, 4) if not size & 4 else 4
            opcode = soar & 0xFF
            address = (stcsr.SPI_ADDR_EXT << 24 | soar >> 8) & ((1 << (8 * addr_bytes)) - 1) if addr_bytes else 0
            cmd = bytes([opcode]) + (address.to_bytes(addr_bytes, "big") if addr_bytes else b"")
            mosi_n, miso_n = stcsr.MOSI_BYTE_CNT, stcsr.MISO_BYTE_CNT
            full = False
            total_bits = 8 * (len(cmd) + mosi_n + miso_n)
        if mosi_n > BUFFER or miso_n > (FULL_DUPLEX_RX if full else BUFFER):
            self._note_once("long", "a transfer of %d/%d bytes is longer than the 32-byte buffer: the data wraps "
                                    "around it", mosi_n, miso_n)
            self.wrapped += 1
        payload = bytes(sdor[i % BUFFER] for i in range(mosi_n))
        return cmd, payload, miso_n, full, total_bits

    def _start(self) -> None:
        cmd, payload, miso_n, full, bits = self._plan()
        self.busy = True
        self.port_index = 0
        self.rx_index = 0
        self._pending = (cmd, payload, miso_n, full)
        periods = bits + (self.regs.CSPOL.CMD_DELAY_SEL + 1) + (self.regs.CSPOL.END_DELAY_SEL + 1)
        self.finish.start(ps_for_cycles(periods * (self.regs.SMMR.RS_CLK_SEL + 2), SPI_HCLK_HZ))

    def _finish(self) -> None:
        pending = self._pending or self._plan()[:4]
        cmd, payload, miso_n, full = pending
        self._pending = None
        reply = self._exchange(cmd, payload, miso_n, full)
        rx = bytearray(BUFFER)
        start = FULL_DUPLEX_RX if full else 0
        for i, byte in enumerate(reply):
            rx[(start + i) % BUFFER] = byte
        self.rx_buffer = bytes(rx)
        for i in range(8):
            self.regs.SDIR[i].value = int.from_bytes(rx[4 * i:4 * i + 4], "little")
        self.regs.SCSR.value = self.regs.SCSR.encode(SPI_OK=1, SPI_RX_OK=int(miso_n > 0),
                                                     SPI_TX_OK=int(bool(cmd or payload)))
        self.busy = False
        self.transfers += 1
        self.regs.STCSR.SPI_MASTER_START = 0
        self.rx_index = FULL_DUPLEX_RX // 4 if full else 0
        self.done = True
        self.rx_ready = True
        self.update_irq()
        self._push_rx()
        if self.regs.CSPOL.DMA_MODE:
            self._pull_tx()

    def _exchange(self, cmd: bytes, payload: bytes, miso_n: int, full: bool) -> bytes:
        """Run the transfer on the bus: select, shift, deselect; returns the reply bytes for SDIR."""
        line = self.regs.SMMR.RS_SLAVE_SEL
        pol = self.regs.CSPOL.CS_POLAR
        clocked = self._clocked()
        if not clocked:
            self._note_once("clock", "SPI transfer with the ISU's SPI master clock off (configuration block): the "
                                     "pads are not SPI, MISO reads 0xFF")
        hw_cs = line in (0, 1) and clocked
        if line not in (0, 1, CS_NONE):
            self._note_once("cs", "RS_SLAVE_SEL %d selects no line (the ISU has CSA and CSB)", line)
        if hw_cs:
            self.bus.drive_line(line, 1 if pol >> line & 1 else 0)
        mode, lsb = self.mode(), bool(self.regs.SMMR.LSB_FIRST)
        try:
            if not clocked:
                return b"\xff" * (max(len(payload), miso_n) if full else miso_n)
            self.bus.exchange(cmd, mode, lsb)
            if full:
                n = max(len(payload), miso_n)
                reply = self.bus.exchange(payload + b"\xff" * (n - len(payload)), mode, lsb)
                return reply[:miso_n]
            if payload:
                self.bus.exchange(payload, mode, lsb)
            return self.bus.exchange(b"\xff" * miso_n, mode, lsb) if miso_n else b""
        finally:
            if hw_cs:
                self.bus.drive_line(line, 0 if pol >> line & 1 else 1)
