"""MT3620 ISU n SPI subordinate ("SPI slave", 0x38070400 + n*0x10000), IRQ 46 + 4n.

Public facts (MediaTek-Labs/mt3620_m4_software MT3620_M4_Driver/MHAL/inc/mhal_spis.h): the master drives a
transaction with an opcode byte: 0x1 writes data into the subordinate's RX, 0x2 reads data from its TX, 0x3 reads
its status, 0x8 raises its interrupt, 0x9 clears its D2HMB status, 0xA sends it an H2DMB mailbox byte (bit 6
always 1, bit 5 direction: 1 = the master will write, bit 4 DMA, bits 3:0 the length in 4-byte words). Software
answers through SPIS_STATUS (0x60), which SPIS_D2HMB (0x68) sets (0 idle, 1 ready, 2 done, 3 error). Modes 0-3,
MSB first, lengths in 4-byte words.

The rest of the register map is not public: emulator-defined (docs/EMULATOR-DEFINED.md):
  0x00 SPIS_CTRL       bit 0 EN (answer on the bus), bit 1 CPOL, bit 2 CPHA, bit 3 DMA_EN (DREQ channels 2n TX and
                       2n + 1 RX, like the I2C subordinate)
  0x04 SPIS_IRQ_EN     the interrupt sources below
  0x08 SPIS_IRQ_STS    (W1C) bit 0 H2DMB received, bit 1 master wrote data (at CS release), bit 2 master read data
                       (at CS release), bit 3 master interrupt request (opcode 0x8)
  0x0C SPIS_H2DMB      the last mailbox byte from the master
  0x10 SPIS_RX_COUNT   bytes waiting in the 32-byte RX FIFO
  0x14 SPIS_TX_COUNT   bytes waiting in the 32-byte TX FIFO
  0x20 SPIS_TX_DATA    write: a byte into the TX FIFO (dropped when full)
  0x24 SPIS_RX_DATA    read: a byte from the RX FIFO (0 when empty)
  0x28 SPIS_FIFO_CLR   bit 0 clears RX, bit 1 clears TX
A read by the master from an empty TX FIFO gets 0xFF; bytes written into a full RX FIFO are dropped and counted.
The subordinate is an SPI target: a board puts it on another SPI controller's bus (the wires of an external
master, or another ISU's SPI master), and `bus` is a bus of its own on which it sits at CSA for a Python master.
"""
from __future__ import annotations

import logging
from typing import Any

from mt3620.engine.simulation.clock import VirtualClock
from mt3620.engine.simulation.peripheral import COLD, Field, Peripheral, Register, ResetKind
from mt3620.peripherals.buses.spi import SpiBus, SpiTarget

from .function import IsuFunction
from .isu_config import isu_index

log = logging.getLogger("mt3620.isu.spis")

FIFO = 32
OP_WRITE, OP_READ, OP_STATUS, OP_IRQ, OP_CLEAR, OP_H2DMB = 0x1, 0x2, 0x3, 0x8, 0x9, 0xA
IRQ_H2DMB, IRQ_RX_DONE, IRQ_TX_DONE, IRQ_MASTER = 1, 2, 4, 8


class IsuSpiSubordinate(IsuFunction, Peripheral, SpiTarget):
    FUNCTION = "spis"
    SIZE = 0x100
    IRQS = ("irq",)
    REGISTERS = (
        Register(0x00, "SPIS_CTRL", write="_changed", fields=(
            Field("EN", 0), Field("CPOL", 1), Field("CPHA", 2), Field("DMA_EN", 3))),
        Register(0x04, "SPIS_IRQ_EN", write="_changed", fields=(Field("EN", 0, 4),)),
        Register(0x08, "SPIS_IRQ_STS", write="_changed", fields=(Field("STS", 0, 4, "w1c"),)),
        Register(0x0C, "SPIS_H2DMB", access="ro", fields=(Field("H2DMB", 0, 7, "ro"),)),
        Register(0x10, "SPIS_RX_COUNT", access="ro", read="_read_rx_count"),
        Register(0x14, "SPIS_TX_COUNT", access="ro", read="_read_tx_count"),
        Register(0x20, "SPIS_TX_DATA", write="_write_tx", fields=(Field("DATA", 0, 8, "wo"),)),
        Register(0x24, "SPIS_RX_DATA", access="ro", read="_read_rx"),
        Register(0x28, "SPIS_FIFO_CLR", write="_fifo_clr", fields=(Field("RX", 0, access="wo"),
                                                                   Field("TX", 1, access="wo"))),
        Register(0x60, "SPIS_STATUS", access="ro", fields=(Field("STATE", 0, 3, "ro"),)),
        Register(0x68, "SPIS_D2HMB", write="_d2hmb_written", fields=(Field("STATE", 0, 3),)),
    )
    STATE = ("rx", "tx", "dropped", "_op", "_count")


    def __init__(self, name: str | None = None, clock: VirtualClock | None = None, **attributes: Any) -> None:
        self.isu_number = isu_index(attributes.get("base_address"), 0x400, "SPI subordinate")
        super().__init__(name or f"isu{self.isu_number}_spis", clock, **attributes)
        self.bus = SpiBus(f"isu{self.isu_number}.spis")
        self.bus.attach(self, "csA")

    def reset(self, kind: ResetKind = COLD) -> None:
        super().reset(kind)
        self.rx: list[int] = []
        self.tx: list[int] = []
        self.dropped = 0
        self._op: int | None = None
        self._count = 0
        self.update_irq()

    @property
    def modes(self) -> frozenset[int]:          # type: ignore[override]
        return frozenset({self.regs.SPIS_CTRL.CPOL << 1 | self.regs.SPIS_CTRL.CPHA})

    def _active(self) -> bool:
        return bool(self.regs.SPIS_CTRL.EN) and self._clocked()

    # ---- registers ----------------------------------------------------------------------------------------------
    def update_irq(self) -> None:
        self.irq[0].set(bool(self.regs.SPIS_IRQ_STS.value & self.regs.SPIS_IRQ_EN.value))

    def _changed(self, value: int) -> None:
        self.update_irq()

    def _read_rx_count(self) -> int:
        return len(self.rx)

    def _read_tx_count(self) -> int:
        return len(self.tx)

    def _write_tx(self, value: int) -> None:
        if len(self.tx) >= FIFO:
            self.dropped += 1
            return
        self.tx.append(value & 0xFF)

    def _read_rx(self) -> int:
        return self.rx.pop(0) if self.rx else 0

    def _fifo_clr(self, value: int) -> None:
        self._clear_fifos(value, self.rx, self.tx, self.regs.SPIS_FIFO_CLR)

    def _d2hmb_written(self, value: int) -> None:
        self.regs.SPIS_STATUS.STATE = self.regs.SPIS_D2HMB.STATE

    def _raise(self, bits: int) -> None:
        self.regs.SPIS_IRQ_STS.value |= bits
        self.update_irq()

    # ---- DMA ----------------------------------------------------------------------------------------------------
    def dma_started(self, channel: int) -> None:
        if self.regs.SPIS_CTRL.DMA_EN and channel == self.dma_channels[1]:
            self._drain()

    def _drain(self) -> None:
        dma = self._dma_for(self.dma_channels[1])
        while dma is not None and self.rx and dma.request(self.dma_channels[1], 1):
            pass

    # ---- the wire (SpiTarget) -------------------------------------------------------------------------------------
    def spi_select(self) -> None:
        self._op = None
        self._count = 0

    def spi_deselect(self) -> None:
        if self._op == OP_WRITE and self._count:
            self._raise(IRQ_RX_DONE)
        elif self._op == OP_READ and self._count:
            self._raise(IRQ_TX_DONE)
        self._op = None

    def spi_exchange(self, byte: int) -> int:
        if not self._active():
            return 0xFF
        if self._op is None:
            self._op = byte
            self._count = 0
            if byte == OP_IRQ:
                self._raise(IRQ_MASTER)
            elif byte == OP_CLEAR:
                self.regs.SPIS_STATUS.STATE = 0
            return 0xFF
        self._count += 1
        op = self._op
        if op == OP_WRITE:
            if len(self.rx) >= FIFO:
                self.dropped += 1
            else:
                self.rx.append(byte)
            if self.regs.SPIS_CTRL.DMA_EN:
                self._drain()
            return 0xFF
        if op == OP_READ:
            if not self.tx and self.regs.SPIS_CTRL.DMA_EN:
                dma = self._dma_for(self.dma_channels[0])
                if dma is not None:
                    dma.request(self.dma_channels[0], 1)
            return self.tx.pop(0) if self.tx else 0xFF
        if op == OP_STATUS:
            return self.regs.SPIS_STATUS.STATE
        if op == OP_H2DMB and self._count == 1:
            self.regs.SPIS_H2DMB.value = byte & 0x7F
            self._raise(IRQ_H2DMB)
        return 0xFF
