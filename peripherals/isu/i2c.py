"""MT3620 ISU n I2C controller (0x38070200 + n*0x10000), IRQ 44 + 4n: master and subordinate.

Register map: CodethinkLabs/mt3620-m4-drivers mt3620/i2c.h (mt3620_i2c_t) and MediaTek-Labs/mt3620_m4_software
MT3620_M4_Driver/HDL/inc/hdl_i2c.h (offsets and bits); use: CodethinkLabs I2CMaster.c, MediaTek hdl_i2c.c and
mhal_i2c.c, and the Azure Sphere kernel's drivers/i2c/busses/i2c-mt3620.c (crpietschmann/AzureSphereOS).

Master. A transfer is up to three packets (MM_PACK_CON0.PACK_VAL + 1), each a read or a write (RW0..RW2) of
MM_CNT_BYTE_VAL_PKn bytes to MM_ID_CON0's 7-bit address, started by MM_CON0.START_EN. Between packets a repeated
START (MM_CON0.GMODE = 1, what every driver sets) or a STOP and a new START (GMODE = 0, emulator-defined). Data to
send comes from the 8-byte TX FIFO (MM_FIFO_DATA), received data goes to the 8-byte RX FIFO; with DMA_CON0
handshakes on, the FIFOs are fed and drained by the DMA's DREQ channels 2n (TX) and 2n + 1 (RX) (CodethinkLabs
MT3620_I2C_DMA_TX/RX, MediaTek os_hal_dma.h) as the bytes are needed. At the end (STOP) MM_INT_CTRL.MM_INT_STA is
set; the interrupt line is MM_INT_STA & MM_INT_EN (and S_INT_STA & S_INT_EN), each unless its MSK bit is set.
MM_ACK_VAL records the ACK bits: ACK_ID bit i = packet i's address was not acknowledged, ACK_DATA bit k = the
k-th byte the master sent in the transfer (address bytes included, the first eight) was not acknowledged (the
bits MediaTek's _mtk_hdl_i2c_id_ack_error/_data_ack_error check). A NACK ends the transfer with a STOP.

Timing (virtual clock): one SCL period = the four phase counts + 1 each (MM_CNT_VAL_PHL/PHH) plus the sync (2) and
deglitch (DE_CNT + 4) delays, in cycles of the 40 MHz I2C source clock (MediaTek mhal_i2c.c
_mtk_mhal_i2c_init_speed and i2c-mt3620.c mt3620_i2c_set_hw_timing compute the phases this way for 100/400/1000
kHz; CodethinkLabs assumes a 26 MHz source without the +1s, so its "standard" speed runs faster here). A START,
repeated START or STOP takes one period, a byte nine; a target that stretches SCL adds its time.

Subordinate. With S_CON0.SLAVE_EN the controller answers S_ID_CON0's address on its bus: bytes the master writes
go to the subordinate RX FIFO, bytes it reads come from the subordinate TX FIFO (DMA handshakes with
DMA_CON0.HS_SEL = 1). When the RX FIFO is full or the TX FIFO empty and no DMA can help, it stretches SCL until
software reads or writes S_FIFO_DATA. The STOP of a transaction addressed to it sets S_INT_STA.
S_ID_RECEIVED0 holds the address and direction of the last transaction.

Emulator-defined (docs/peripherals.md): a TX FIFO that runs empty during a master write (no DMA data either) ends
the transfer (STOP, MM_INT_STA) with MM_FIFO_STATUS.TX_UDR set; a byte received into a full RX FIFO is dropped
with RX_OVF set; writes to a full TX FIFO are dropped with TX_OVF set and reads of an empty RX FIFO return 0 with
RX_UDR set (these flags clear with the FIFO); the FIFO pointers are 4 bits wide and count modulo 16, so a full
FIFO cleared before use shows write - read = 8 (MediaTek's mtk_hdl_i2c_slave_get_data counts a full 8-byte FIFO
this way and its I2C sample passes for 8 bytes; with 3-bit pointers it would see 0). A transfer started while another
master owns the bus loses arbitration (MM_STATUS.ARB_LOSE, MM_INT_STA). With the ISU's I2C clock off
(isu configuration block) the transfer runs but finds nothing on the pads: the address is not acknowledged.
"""
from __future__ import annotations

import logging
from collections import deque
from typing import Any

from mt3620.engine.simulation.clock import VirtualClock, ps_for_cycles
from mt3620.engine.simulation.peripheral import (COLD, Field, Peripheral, Register, RegisterView, ResetKind,
                                                 Timer)
from mt3620.peripherals.buses.i2c import WAIT, I2cBus, I2cTarget

from .function import IsuFunction
from .isu_config import isu_index

log = logging.getLogger("mt3620.isu.i2c")

FIFO_DEPTH = 8                       # CTD MT3620_I2C_TX/RX_FIFO_DEPTH, hdl_i2c.h I2C_FIFO_MAX_LEN
SOURCE_CLOCK_HZ = 40_000_000         # MediaTek hdl_i2c.h I2C_SOURCE_CLK_40MHZ (the one mhal_i2c.c uses)
PACKETS = 3                          # CTD MT3620_I2C_QUEUE_DEPTH

# FIFO status bits (hdl_i2c.h MM_*_FIFO_*)
RX_EMP, RX_FULL, RX_UDR, RX_OVF, TX_EMP, TX_FULL, TX_UDR, TX_OVF = (1 << i for i in range(8))


class _Fifo:
    """An 8-byte FIFO with the sticky underflow/overflow flags and the 4-bit pointers (three index bits and a wrap
    bit, counting modulo 16) the status registers show."""

    def __init__(self) -> None:
        self.data: deque[int] = deque()
        self.flags = 0
        self.rptr = 0
        self.wptr = 0

    def clear(self) -> None:
        self.data.clear()
        self.flags = 0
        self.rptr = self.wptr = 0

    def room(self) -> int:
        return FIFO_DEPTH - len(self.data)

    def push(self, value: int, ovf: int) -> bool:
        if len(self.data) >= FIFO_DEPTH:
            self.flags |= ovf
            return False
        self.data.append(value & 0xFF)
        self.wptr = (self.wptr + 1) % (2 * FIFO_DEPTH)
        return True

    def pop(self, udr: int) -> int | None:
        if not self.data:
            self.flags |= udr
            return None
        self.rptr = (self.rptr + 1) % (2 * FIFO_DEPTH)
        return self.data.popleft()

    def state(self) -> list:
        return [list(self.data), self.flags, self.rptr, self.wptr]

    def load(self, state: list) -> None:
        data, self.flags, self.rptr, self.wptr = state
        self.data = deque(data)


class IsuI2c(IsuFunction, Peripheral, I2cTarget):
    FUNCTION = "i2c"
    SIZE = 0x100
    IRQS = ("irq",)
    REGISTERS = (
        Register(0x00, "I2C_INT_CTRL", write="_int_written", fields=(
            Field("MM_INT_STA", 0, access="w1c"), Field("MM_INT_EN", 1), Field("MM_INT_MSK", 2),
            Field("S_INT_STA", 4, access="w1c"), Field("S_INT_EN", 5), Field("S_INT_MSK", 6))),
        Register(0x40, "MM_PAD_CON0", fields=(
            Field("DE_CNT", 0, 5), Field("SCL_DRVH_EN", 5), Field("SDA_DRVH_EN", 6), Field("CLK_SYNC_EN", 7))),
        Register(0x44, "MM_CNT_VAL_PHL", fields=(Field("VAL0", 0, 8), Field("VAL1", 8, 8))),
        Register(0x48, "MM_CNT_VAL_PHH", fields=(Field("VAL2", 0, 8), Field("VAL3", 8, 8))),
        Register(0x54, "MM_CNT_BYTE_VAL_PK0", fields=(Field("COUNT", 0, 16),)),
        Register(0x58, "MM_CNT_BYTE_VAL_PK1", fields=(Field("COUNT", 0, 16),)),
        Register(0x5C, "MM_CNT_BYTE_VAL_PK2", fields=(Field("COUNT", 0, 16),)),
        Register(0x60, "MM_ID_CON0", fields=(Field("MM_SLAVE_ID", 0, 7),)),
        Register(0x68, "MM_PACK_CON0", fields=(
            Field("RW0", 0), Field("RW1", 1), Field("RW2", 2), Field("RW3", 3), Field("PACK_VAL", 4, 2))),
        Register(0x6C, "MM_ACK_VAL", fields=(Field("ACK_DATA", 0, 8, "ro"), Field("ACK_ID", 8, 4, "ro"))),
        Register(0x70, "MM_CON0", write="_mm_con_written", fields=(
            Field("MM_START_EN", 0), Field("MM_GMODE", 14), Field("MASTER_EN", 15))),
        Register(0x74, "MM_STATUS", read="_read_mm_status", fields=(
            Field("BUS_BUSY", 0, access="ro"), Field("MM_ARB_LOSE", 1, access="w1c"),
            Field("MM_START_READY", 2, access="ro"))),
        Register(0x78, "MM_FIFO_CON0", write="_mm_fifo_con_written", fields=(
            Field("RX_FIFO_CLR", 0, access="wo"), Field("TX_FIFO_CLR", 1, access="wo"))),
        Register(0x80, "MM_FIFO_STATUS", access="ro", read="_read_mm_fifo_status"),
        Register(0x84, "MM_FIFO_PTR", access="ro", read="_read_mm_fifo_ptr"),
        Register(0x90, "MM_FIFO_DATA", read="_read_mm_fifo_data", write="_write_mm_fifo_data",
                 fields=(Field("DATA", 0, 8),)),
        Register(0xC0, "DMA_CON0", write="_dma_con_written", fields=(
            Field("DMA_HS_EN", 4), Field("DMA_HS_SEL", 5, doc="0 = master, 1 = subordinate"))),
        Register(0xC4, "S_CON0", write="_s_con_written", fields=(
            Field("S_IND_EN", 11), Field("S_MUTE_MODE", 14), Field("SLAVE_EN", 15))),
        Register(0xC8, "S_ID_CON0", write="_s_con_written", fields=(Field("SLAVE_ID", 0, 7),)),
        Register(0xCC, "S_ID_RECEIVED0", fields=(Field("ID", 0, 7, "ro"), Field("READ", 7, 1, "ro"))),
        Register(0xD0, "S_ID_RECEIVED1", fields=(Field("ID", 0, 7, "ro"), Field("READ", 7, 1, "ro"))),
        Register(0xD8, "S_FIFO_CON0", write="_s_fifo_con_written", fields=(
            Field("RX_FIFO_CLR", 0, access="wo"), Field("TX_FIFO_CLR", 1, access="wo"))),
        Register(0xE0, "S_FIFO_STATUS", access="ro", read="_read_s_fifo_status"),
        Register(0xE4, "S_FIFO_PTR", access="ro", read="_read_s_fifo_ptr"),
        Register(0xF0, "S_FIFO_DATA", read="_read_s_fifo_data", write="_write_s_fifo_data",
                 fields=(Field("DATA", 0, 8),)),
    )
    STATE = ("_fifos", "xfer", "arb_losses", "underruns", "_s_stretch")

    step = Timer("_step")

    def __init__(self, name: str | None = None, clock: VirtualClock | None = None, **attributes: Any) -> None:
        self.isu_number = isu_index(attributes.get("base_address"), 0x200, "I2C")
        self.bus = I2cBus(f"isu{self.isu_number}.i2c")
        self.m_tx, self.m_rx, self.s_tx, self.s_rx = _Fifo(), _Fifo(), _Fifo(), _Fifo()
        self._warned: set[str] = set()
        self._on_bus: I2cBus | None = None
        super().__init__(name or f"isu{self.isu_number}_i2c", clock, **attributes)

    # ---- snapshot support for the FIFOs -------------------------------------------------------------------------
    @property
    def _fifos(self) -> list:
        return [f.state() for f in (self.m_tx, self.m_rx, self.s_tx, self.s_rx)]

    @_fifos.setter
    def _fifos(self, value: list) -> None:
        for fifo, state in zip((self.m_tx, self.m_rx, self.s_tx, self.s_rx), value):
            fifo.load(state)

    # ---- life cycle -------------------------------------------------------------------------------------------
    def reset(self, kind: ResetKind = COLD) -> None:
        super().reset(kind)
        for fifo in (self.m_tx, self.m_rx, self.s_tx, self.s_rx):
            fifo.clear()
        self.xfer: dict | None = None
        self.arb_losses = 0
        self.underruns = 0
        self._s_stretch: str | None = None       # "rx" / "tx" while the subordinate holds SCL low
        if getattr(self, "bus", None) is not None:
            self.bus.release(self)
            self._attach_subordinate()
        self.update_irq()

    # ---- wiring -------------------------------------------------------------------------------------------------
    def join(self, other: "IsuI2c") -> None:
        """Wire this ISU's SDA/SCL to another ISU's (one bus for both: a master on one, a subordinate on the
        other, as MediaTek's I2C sample wires ISU1 to ISU2)."""
        shared = other.bus
        for key, target in list(self.bus.targets.items()):
            if target is not self:
                shared.attach(target)
        self.bus = shared
        self._attach_subordinate()

    def _note_once(self, key: str, message: str, *args: Any) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning("%s: " + message, self.name, *args)

    # ---- interrupts ---------------------------------------------------------------------------------------------
    def update_irq(self) -> None:
        c = self.regs.I2C_INT_CTRL
        master = c.MM_INT_STA and c.MM_INT_EN and not c.MM_INT_MSK
        sub = c.S_INT_STA and c.S_INT_EN and not c.S_INT_MSK
        self.irq[0].set(bool(master or sub))

    def _int_written(self, value: int) -> None:
        self.update_irq()

    # ---- master: registers --------------------------------------------------------------------------------------
    def _read_mm_status(self) -> int:
        busy = self.xfer is not None or self.bus.busy
        return self.regs.MM_STATUS.encode(BUS_BUSY=int(busy), MM_ARB_LOSE=self.regs.MM_STATUS.MM_ARB_LOSE,
                                          MM_START_READY=int(self.xfer is None))

    def _fifo_status(self, tx: _Fifo, rx: _Fifo) -> int:
        value = rx.flags | tx.flags
        if not rx.data:
            value |= RX_EMP
        if len(rx.data) >= FIFO_DEPTH:
            value |= RX_FULL
        if not tx.data:
            value |= TX_EMP
        if len(tx.data) >= FIFO_DEPTH:
            value |= TX_FULL
        return value

    @staticmethod
    def _fifo_ptr(tx: _Fifo, rx: _Fifo) -> int:
        return rx.rptr | rx.wptr << 4 | tx.rptr << 8 | tx.wptr << 12

    def _read_mm_fifo_status(self) -> int:
        return self._fifo_status(self.m_tx, self.m_rx)

    def _read_mm_fifo_ptr(self) -> int:
        return self._fifo_ptr(self.m_tx, self.m_rx)

    def _read_mm_fifo_data(self) -> int:
        value = self.m_rx.pop(RX_UDR)
        if value is None:
            self._note_once("rx_udr", "read of an empty master RX FIFO (RX_UDR set)")
            return 0
        return value

    def _write_mm_fifo_data(self, value: int) -> None:
        if not self.m_tx.push(value, TX_OVF):
            self._note_once("tx_ovf", "write to a full master TX FIFO dropped (TX_OVF set): a transfer longer "
                                      "than the 8-byte FIFO needs the DMA")

    def _mm_fifo_con_written(self, value: int) -> None:
        self._clear_fifos(value, self.m_rx, self.m_tx, self.regs.MM_FIFO_CON0)

    def _dma_con_written(self, value: int) -> None:
        self._s_unstretch()

    def _mm_con_written(self, value: int, old: RegisterView) -> None:
        con = self.regs.MM_CON0
        if con.MM_START_EN and not old.MM_START_EN:
            self._start_transfer()
        elif not con.MM_START_EN and self.xfer is not None:
            con.MM_START_EN = 1                  # START_EN reads 1 until the transfer ends; clearing it does not abort
        if not con.MASTER_EN and self.xfer is not None:
            self._finish(abort="master disabled")

    # ---- master: the transfer ---------------------------------------------------------------------------------------
    def bit_period_ps(self) -> int:
        phl, phh, pad = self.regs.MM_CNT_VAL_PHL, self.regs.MM_CNT_VAL_PHH, self.regs.MM_PAD_CON0
        cycles = (phl.VAL0 + 1) + (phl.VAL1 + 1) + (phh.VAL2 + 1) + (phh.VAL3 + 1)
        if pad.CLK_SYNC_EN:
            cycles += 2
        if pad.DE_CNT:
            cycles += pad.DE_CNT + 4
        return ps_for_cycles(cycles, SOURCE_CLOCK_HZ)

    def bus_hz(self) -> float:
        return 1e12 / self.bit_period_ps()

    def _packets(self) -> list[list[int]]:
        pack = self.regs.MM_PACK_CON0
        count = pack.PACK_VAL + 1
        if count > PACKETS:
            self._note_once("packets", "MM_PACK_CON0.PACK_VAL = %d: the controller has three packet counters; "
                                       "three packets are sent", pack.PACK_VAL)
            count = PACKETS
        lengths = (self.regs.MM_CNT_BYTE_VAL_PK0.COUNT, self.regs.MM_CNT_BYTE_VAL_PK1.COUNT,
                   self.regs.MM_CNT_BYTE_VAL_PK2.COUNT)
        rws = (pack.RW0, pack.RW1, pack.RW2)
        return [[rws[i], lengths[i]] for i in range(count)]

    def _start_transfer(self) -> None:
        con = self.regs.MM_CON0
        if not con.MASTER_EN:
            self._note_once("no_master", "START_EN without MASTER_EN: nothing is sent")
            con.MM_START_EN = 0
            return
        if self.xfer is not None:
            return
        self.regs.MM_ACK_VAL.value = 0
        if not self.bus.claim(self):
            # Another master owns the bus: arbitration lost at the START.
            self.arb_losses += 1
            self.regs.MM_STATUS.MM_ARB_LOSE = 1
            con.MM_START_EN = 0
            self.regs.I2C_INT_CTRL.MM_INT_STA = 1
            self.update_irq()
            return
        if not self._clocked():
            self._note_once("clock", "I2C transfer with the ISU's I2C clock off (configuration block): the pads "
                                     "are not I2C, nothing answers")
        self.xfer = {"packets": self._packets(), "p": 0, "i": 0, "phase": "address", "sent": 0,
                     "byte": None, "period": self.bit_period_ps()}
        # START: one SCL period, then the address byte's nine.
        self.step.start(self.xfer["period"] * 10)

    def _byte_ps(self) -> int:
        return 9 * self.xfer["period"] + self.bus.stretch_ps()

    def _record_ack(self, ack: bool, address: bool) -> None:
        x = self.xfer
        if not ack:
            if address:
                self.regs.MM_ACK_VAL.ACK_ID |= 1 << x["p"]
            if x["sent"] < 8:
                self.regs.MM_ACK_VAL.ACK_DATA |= 1 << x["sent"]
        x["sent"] += 1

    def i2c_resume(self) -> None:
        """A target that stretched SCL goes on: repeat the step now."""
        if self.xfer is not None and self.xfer.get("waiting"):
            self.xfer["waiting"] = False
            self.step.start(0)

    def _step(self) -> None:
        x = self.xfer
        if x is None:
            return
        phase = x["phase"]
        rw, length = x["packets"][x["p"]]
        if phase == "address":
            byte = self.regs.MM_ID_CON0.MM_SLAVE_ID << 1 | rw
            ack = self.bus.address(byte, self) if self._clocked() else False
            if ack is WAIT:
                x["waiting"] = True
                return
            self._record_ack(bool(ack), True)
            if not ack:
                return self._stop_after(x["period"])
            x["i"] = 0
            return self._next_data_or_packet()
        if phase == "write":
            ack = self.bus.write(x["byte"], self)
            if ack is WAIT:
                x["waiting"] = True
                return
            self._record_ack(bool(ack), False)
            if not ack:
                return self._stop_after(x["period"])
            x["i"] += 1
            return self._next_data_or_packet()
        if phase == "read":
            value = self.bus.read(x["i"] == length - 1, self)
            if value is WAIT:
                x["waiting"] = True
                return
            self._receive(value)
            x["i"] += 1
            return self._next_data_or_packet()
        if phase == "restart":
            # GMODE 0: a STOP ends the packet, a new START begins the next one.
            self.bus.stop(self)
            x["phase"] = "address"
            self.step.start(x["period"] * 10)
            return
        if phase == "stop":
            self._finish()

    def _next_data_or_packet(self) -> None:
        x = self.xfer
        rw, length = x["packets"][x["p"]]
        if x["i"] < length:
            if rw:
                x["phase"] = "read"
            else:
                byte = self._fetch_tx()
                if byte is None:
                    self.underruns += 1
                    self._note_once("tx_udr", "master TX FIFO ran empty during a write of %d bytes (TX_UDR set, "
                                              "transfer ended)", length)
                    return self._stop_after(x["period"])
                x["phase"], x["byte"] = "write", byte
            self.step.start(self._byte_ps())
            return
        if x["p"] + 1 < len(x["packets"]):
            x["p"] += 1
            x["i"] = 0
            if self.regs.MM_CON0.MM_GMODE:
                x["phase"] = "address"               # repeated START, then the address byte
                self.step.start(x["period"] * 10)
            else:
                x["phase"] = "restart"
                self.step.start(x["period"])
            return
        self._stop_after(x["period"])

    def _stop_after(self, delay: int) -> None:
        self.xfer["phase"] = "stop"
        self.step.start(delay)

    def _finish(self, abort: str | None = None) -> None:
        self.step.cancel()
        if abort:
            log.info("%s: transfer ended: %s", self.name, abort)
        self.bus.stop(self)
        self.bus.release(self)
        self.xfer = None
        self.regs.MM_CON0.MM_START_EN = 0
        self.regs.I2C_INT_CTRL.MM_INT_STA = 1
        self.update_irq()

    def _dma_master(self) -> bool:
        con = self.regs.DMA_CON0
        return bool(con.DMA_HS_EN and not con.DMA_HS_SEL)

    def _dma_subordinate(self) -> bool:
        con = self.regs.DMA_CON0
        return bool(con.DMA_HS_EN and con.DMA_HS_SEL)

    def _fetch_tx(self) -> int | None:
        if not self.m_tx.data and self._dma_master():
            dma = self._dma_for(self.dma_channels[0])
            if dma is not None:
                dma.request(self.dma_channels[0], 1)        # the beat lands in MM_FIFO_DATA
        return self.m_tx.pop(TX_UDR)

    def _receive(self, value: int) -> None:
        if not self.m_rx.push(value, RX_OVF):
            self._note_once("rx_ovf", "master RX FIFO full: received byte dropped (RX_OVF set); reads longer than "
                                      "the 8-byte FIFO need the DMA")
        if self._dma_master():
            dma = self._dma_for(self.dma_channels[1])
            if dma is not None:
                while self.m_rx.data and dma.request(self.dma_channels[1], 1):
                    pass

    def dma_started(self, channel: int) -> None:
        """A DREQ channel of this ISU started (M4Dma): drain or fill what waits."""
        if channel == self.dma_channels[1]:
            if self._dma_master():
                dma = self._dma_for(channel)
                while dma is not None and self.m_rx.data and dma.request(channel, 1):
                    pass
        self._s_unstretch()

    # ---- subordinate ----------------------------------------------------------------------------------------------
    def _s_con_written(self, value: int) -> None:
        self._attach_subordinate()

    def _attach_subordinate(self) -> None:
        """Answer S_ID_CON0's address on the bus while SLAVE_EN is set (and the ISU's clock is on)."""
        if self._on_bus is not None:
            self._on_bus.detach(self)
            self._on_bus = None
        if self.regs.S_CON0.SLAVE_EN:
            self.address = self.regs.S_ID_CON0.SLAVE_ID
            self.ten_bit = False
            existing = self.bus.target_at(self.address)
            if existing is not None and existing is not self:
                self._note_once("s_conflict", "subordinate address 0x%02x is taken by %s on the bus",
                                self.address, existing.name)
                return
            self.bus.attach(self)
            self._on_bus = self.bus

    def i2c_start(self, read: bool) -> Any:
        if not self.regs.S_CON0.SLAVE_EN or not self._clocked():
            return False
        self.regs.S_ID_RECEIVED0.value = self.regs.S_ID_CON0.SLAVE_ID | (int(read) << 7)
        return True

    def i2c_write(self, byte: int) -> Any:
        if not self.s_rx.room():
            self._s_drain_rx()
        if not self.s_rx.room():
            self._s_stretch = "rx"
            return WAIT
        self.s_rx.push(byte, RX_OVF)
        self._s_drain_rx()
        return True

    def i2c_read(self) -> Any:
        if not self.s_tx.data and self._dma_subordinate():
            dma = self._dma_for(self.dma_channels[0])
            if dma is not None:
                dma.request(self.dma_channels[0], 1)
        value = self.s_tx.pop(0)
        if value is None:
            self._s_stretch = "tx"
            return WAIT
        return value

    def i2c_stop(self) -> None:
        self.regs.I2C_INT_CTRL.S_INT_STA = 1
        self.update_irq()

    def _s_drain_rx(self) -> None:
        if self._dma_subordinate():
            dma = self._dma_for(self.dma_channels[1])
            while dma is not None and self.s_rx.data and dma.request(self.dma_channels[1], 1):
                pass

    def _s_unstretch(self) -> None:
        """Software or the DMA made room (RX) or data (TX): a stretched SCL is released."""
        if self._s_stretch == "rx":
            self._s_drain_rx()
            if self.s_rx.room():
                self._s_stretch = None
                self.bus.resume()
        elif self._s_stretch == "tx":
            if not self.s_tx.data and self._dma_subordinate():
                dma = self._dma_for(self.dma_channels[0])
                if dma is not None:
                    dma.request(self.dma_channels[0], 1)
            if self.s_tx.data:
                self._s_stretch = None
                self.bus.resume()

    def _read_s_fifo_status(self) -> int:
        return self._fifo_status(self.s_tx, self.s_rx)

    def _read_s_fifo_ptr(self) -> int:
        return self._fifo_ptr(self.s_tx, self.s_rx)

    def _read_s_fifo_data(self) -> int:
        value = self.s_rx.pop(RX_UDR)
        if value is None:
            self._note_once("s_rx_udr", "read of an empty subordinate RX FIFO (RX_UDR set)")
            return 0
        self._s_unstretch()
        return value

    def _write_s_fifo_data(self, value: int) -> None:
        if not self.s_tx.push(value, TX_OVF):
            self._note_once("s_tx_ovf", "write to a full subordinate TX FIFO dropped (TX_OVF set)")
        self._s_unstretch()

    def _s_fifo_con_written(self, value: int) -> None:
        self._clear_fifos(value, self.s_rx, self.s_tx, self.regs.S_FIFO_CON0)

    # ---- for tests and tools --------------------------------------------------------------------------------------
    def attach(self, target: I2cTarget, address: int | None = None) -> I2cTarget:
        """Put a device on this ISU's I2C bus."""
        return self.bus.attach(target, address)
