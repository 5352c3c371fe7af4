"""MT3620 UART: the IO core's debug UART (0x21040000, IRQ 4) and the ISU UARTs (0x38070500 + n*0x10000, IRQ 47+4n).

A 16550-compatible UART with a 32-bit register stride and MediaTek extensions (HIGHSPEED, SAMPLE_COUNT,
SAMPLE_POINT, FRACDIV, VFIFO_EN, TX_OFFSET, ...). Register layout: CodethinkLabs/mt3620-m4-drivers
mt3620/uart.h (mt3620_uart_t); bring-up sequence and baud arithmetic: same repository, UART.c (UART_Open).

Banked registers (classic 16550 plus the MediaTek "LCR = 0xBF" bank):
  LCR.DLAB = 1          0x00 DLL, 0x04 DLM
  LCR == 0xBF           0x08 EFR, 0x10 XON1, 0x14 XON2, 0x18 XOFF1, 0x1C XOFF2 (and DLL/DLM, DLAB is set)
  otherwise             0x00 RBR/THR, 0x04 IER, 0x08 IIR (read) / FCR (write), 0x10 MCR, 0x14 LSR, 0x18 MSR, 0x1C SCR

Timing: a byte written to THR enters the TX FIFO; the transmitter shifts one frame (start + data + parity + stop
bits) at the baud rate derived from DLL/DLM, HIGHSPEED, SAMPLE_COUNT and FRACDIV, all in virtual time. Bytes fed
with `feed()` arrive one frame time apart, as on a real line.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from mt3620.engine.simulation.clock import PS_PER_SECOND, VirtualClock
from mt3620.engine.simulation.peripheral import Field, Peripheral, Register

log = logging.getLogger("mt3620.uart")

DEBUG_UART_BASE = 0x21040000
DEBUG_UART_BASES = (DEBUG_UART_BASE, 0x31040000)   # IO-core debug UART, A7 debug UART
ISU_UART_BASE = 0x38070500
ISU_STRIDE = 0x10000
UART_CLOCK_HZ = 26_000_000          # CTD uart.h MT3620_UART_CLOCK
FIFO_DEPTH = 16                     # CTD uart.h MT3620_UART_TX/RX_FIFO_DEPTH
DEFAULT_BAUD = 115_200

# IIR interrupt identifiers (CTD uart.h mt3620_uart_iir_id_e)
IIR_NONE = 0x01
IIR_THRE = 0x02
IIR_RX_DATA = 0x04
IIR_LINE_STATUS = 0x06
IIR_RX_TIMEOUT = 0x0C

# LSR bits (CTD uart.h mt3620_uart_lsr_t)
LSR_DR, LSR_OE, LSR_PE, LSR_FE, LSR_BI, LSR_THRE, LSR_TEMT, LSR_FIFOERR = (1 << i for i in range(8))
LSR_ERRORS = LSR_OE | LSR_PE | LSR_FE | LSR_BI

# IER bits
IER_ERBFI, IER_ETBEI, IER_ELSI, IER_EDSSI = 1, 2, 4, 8

# FCR bits
FCR_FIFOE, FCR_CLRR, FCR_CLRT = 1, 2, 4

LCR_DLAB = 0x80
LCR_EFR_BANK = 0xBF

# Trigger levels (emulator-defined encodings, see docs/peripherals.md): RFTL selects how many received bytes
# raise "RX data"; TFTL selects at or below how many queued bytes "THR empty" is raised.
RX_TRIGGER = {0: 1, 1: 6, 2: 12}    # 3 = the RXTRIG register
TX_TRIGGER = {0: 0, 1: 4, 2: 8, 3: 14}

# Registers that live behind LCR banking: name -> reset value. Stored in `banked`, not in `regs`.
BANKED_RESET = {"DLL": 0x01, "DLM": 0x00, "EFR": 0x00, "XON1": 0x00, "XON2": 0x00, "XOFF1": 0x00, "XOFF2": 0x00}


def _byte_field(name: str, reset: int = 0) -> tuple[Field, ...]:
    return (Field(name, 0, 8, "rw", reset),)


class Mt3620Uart(Peripheral):
    SIZE = 0x100
    IRQS = ("irq",)

    REGISTERS = (
        Register(0x00, "RBR_THR_DLL", read="_read_rbr", write="_write_thr",
                 doc="RBR (read) / THR (write); DLL when LCR.DLAB"),
        Register(0x04, "IER_DLM", read="_read_ier", write="_write_ier", doc="IER; DLM when LCR.DLAB"),
        Register(0x08, "IIR_FCR_EFR", read="_read_iir", write="_write_fcr",
                 doc="IIR (read) / FCR (write); EFR when LCR == 0xBF"),
        Register(0x0C, "LCR", fields=_byte_field("LCR", 0x03), write="_after_lcr"),
        Register(0x10, "MCR_XON1", read="_read_mcr", write="_write_mcr"),
        Register(0x14, "LSR_XON2", read="_read_lsr", write="_write_lsr"),
        Register(0x18, "MSR_XOFF1", read="_read_msr", write="_write_msr"),
        Register(0x1C, "SCR_XOFF2", read="_read_scr", write="_write_scr"),
        Register(0x20, "RX_LEVEL_CTL", fields=(Field("IGNORE_ACK", 6), Field("RX_LEVEL_CTL_EN", 7))),
        Register(0x24, "HIGHSPEED", fields=(Field("SPEED", 0, 2, "rw", 3),), write="_baud_changed"),
        Register(0x28, "SAMPLE_COUNT", fields=_byte_field("SAMPLE_COUNT", 224), write="_baud_changed"),
        Register(0x2C, "SAMPLE_POINT", fields=_byte_field("SAMPLE_POINT", 110)),
        Register(0x3C, "GUARD", fields=(Field("GUARD_CNT", 0, 4), Field("GUARD_EN", 4))),
        Register(0x40, "ESCAPE_DAT", fields=_byte_field("ESCAPE_DAT", 0xFF)),
        Register(0x44, "ESCAPE_EN", fields=(Field("ESC_EN", 0),)),
        Register(0x48, "SW_RTO_LIMIT", fields=(Field("SW_RTO_LIMIT_EN", 1), Field("SW_RTO_LIMIT", 2, 6))),
        Register(0x4C, "VFIFO_EN", fields=(Field("VFIFO_EN", 0),), read="_read_vfifo_en", write="_dma_config_written"),
        Register(0x50, "RXTRIG", fields=(Field("RXTRIG", 0, 6),)),
        Register(0x54, "FRACDIV_L", fields=_byte_field("FRACDIV_L", 0xEF), write="_baud_changed"),
        Register(0x58, "FRACDIV_M", fields=(Field("FRACDIV_M", 0, 2, "rw", 0x1),), write="_baud_changed"),
        Register(0x5C, "FCR_RD", access="ro", read="_read_fcr_rd"),
        Register(0x64, "EXTEND_ADD", fields=(Field("RX_DMA_HSK_EN", 0), Field("TX_DMA_HSK_EN", 1),
                                             Field("TX_AUTO_TRANS", 2)), write="_dma_config_written"),
        Register(0x68, "RX_OFFSET", access="ro", read="_read_rx_offset"),
        Register(0x6C, "TX_OFFSET", access="ro", read="_read_tx_offset"),
        Register(0x70, "INTERRUPT_STA", access="ro", read="_read_interrupt_sta"),
    )

    STATE = ("banked", "ier", "fcr", "mcr", "scr", "lsr_errors", "rx_fifo", "tx_fifo", "tx_shift",
             "tx_done_at", "rx_pending", "rx_next_at", "rx_timeout", "rx_timeout_at", "thre_pending",
             "tx_overruns", "rx_since_ack")

    def __init__(self, name: str | None = None, clock: VirtualClock | None = None, **attributes: Any) -> None:
        base = attributes.get("base_address")
        self.base_address = int(base) if base is not None else DEBUG_UART_BASE
        offset = self.base_address - ISU_UART_BASE
        if 0 <= offset and offset % ISU_STRIDE == 0 and offset // ISU_STRIDE <= 5:
            self.isu = offset // ISU_STRIDE
        elif self.base_address in DEBUG_UART_BASES:
            # The IO cores' debug UART (0x21040000) and the A7's debug UART (0x31040000, AzureSphereOS
            # mt3620.dtsi uart1) behave alike: brought up by the OS before apps run.
            self.isu = None
        else:
            raise ValueError(f"Mt3620Uart: 0x{self.base_address:08x} is neither a debug UART nor an ISU UART")
        self.uart_clock_hz = int(attributes.get("uart_clock_hz", UART_CLOCK_HZ))
        # The debug UART is brought up by the Azure Sphere OS before an RTApp starts (emulator-defined: 115200 8N1,
        # FIFOs on). ISU UARTs start with FIFOs off until the app opens them.
        self.preconfigured = bool(attributes.get("preconfigured", self.isu is None))
        self._tx_listeners: list[Callable[[int], None]] = []
        # Virtual-FIFO DMA handshake (ISU UARTs only): channels 13 + 2n (TX) and 14 + 2n (RX) of the IO core's DMA
        # (CTD uart.h MT3620_UART_DMA_TX/RX, MediaTek os_hal_dma.h VDMA_ISUn_TX/RX).
        self._shared = attributes.get("shared_objects") if isinstance(attributes.get("shared_objects"), dict) else None
        self._dma_obj = attributes.get("dma")
        self.cpu = attributes.get("cpu")
        self._tx_event = None
        self._rx_event = None
        self._timeout_event = None
        super().__init__(name or (f"isu{self.isu}_uart" if self.isu is not None else "debug_uart"), clock,
                         **attributes)
        if self.isu is not None and self._shared is not None:
            # An ISU is a shared block (cpu None): either IO core's DMA may serve it, whichever runs its channels.
            for cpu in self._dma_cpus():
                peers = self._shared.setdefault(f"m4dma_peers_{cpu}", {})
                for ch in self.dma_channels:
                    peers[ch] = self
                dma = self._shared.get(f"m4dma_{cpu}")
                if dma is not None:
                    for ch in self.dma_channels:
                        dma.attach_vfifo_peer(ch, self)

    @property
    def dma_channels(self) -> tuple[int, int]:
        """(TX, RX) virtual-FIFO DMA channels of an ISU UART."""
        if self.isu is None:
            return ()
        return (13 + 2 * self.isu, 14 + 2 * self.isu)

    def _dma_cpus(self) -> tuple[str, ...]:
        return (self.cpu,) if self.cpu else ("io0", "io1")

    def _dmas(self) -> list:
        if self._dma_obj is not None:
            return [self._dma_obj]
        if self._shared is None or self.isu is None:
            return []
        return [d for d in (self._shared.get(f"m4dma_{cpu}") for cpu in self._dma_cpus()) if d is not None]

    def _dma(self, channel: int | None = None):
        """The DMA serving this UART: the one running `channel` if any, else the first one present."""
        dmas = self._dmas()
        if channel is not None:
            for dma in dmas:
                if dma.vfifo_running(channel):
                    return dma
        return dmas[0] if dmas else None

    def _vfifo_tx(self) -> bool:
        return self.isu is not None and bool(self.regs["VFIFO_EN"] & 1) and bool(self.regs["EXTEND_ADD"] & 2)

    def _vfifo_rx(self) -> bool:
        return self.isu is not None and bool(self.regs["VFIFO_EN"] & 1) and bool(self.regs["EXTEND_ADD"] & 1)

    # DMA peer interface (see peripherals/dma/m4_dma.py attach_vfifo_peer)
    def vfifo_tx_space(self) -> int:
        return self.depth - len(self.tx_fifo) if self._vfifo_tx() else 0

    def vfifo_tx_put(self, byte: int) -> None:
        self._tx_enqueue(byte)
        self.update_irq()

    def vfifo_rx_drain(self) -> None:
        dma = self._dma(self.dma_channels[1] if self.dma_channels else None)
        if dma is None or not self._vfifo_rx():
            return
        while self.rx_fifo and dma.vfifo_rx_put(self.dma_channels[1], self.rx_fifo[0]):
            self.rx_fifo.pop(0)
        self.update_irq()

    def _dma_config_written(self, value: int) -> None:
        if self._vfifo_tx():
            for dma in self._dmas():
                dma.vfifo_tx_ready(self.dma_channels[0])
        if self._vfifo_rx():
            self.vfifo_rx_drain()

    @property
    def irq_number(self) -> int | None:
        """IO-core NVIC input of this UART (CTD uart.h MT3620_UART_INTERRUPT); None for the A7's debug UART."""
        if self.isu is None:
            return 4 if self.base_address == DEBUG_UART_BASE else None
        return 47 + 4 * self.isu

    # ---- life cycle -------------------------------------------------------------------------------------------
    def reset(self) -> None:
        super().reset()
        for ev in (self._tx_event, self._rx_event, self._timeout_event):
            if ev is not None:
                ev.cancel()
        self._tx_event = self._rx_event = self._timeout_event = None
        self.banked = dict(BANKED_RESET)
        self.ier = 0
        self.fcr = FCR_FIFOE if self.preconfigured else 0
        self.mcr = 0
        self.scr = 0
        self.lsr_errors = 0
        self.rx_fifo: list[int] = []
        self.tx_fifo: list[int] = []
        self.tx_shift: int | None = None
        self.tx_done_at: int | None = None
        self.rx_pending: list[int] = []     # bytes on the wire, not yet received
        self.rx_next_at: int | None = None
        self.rx_timeout = False
        self.rx_timeout_at: int | None = None
        self.thre_pending = False
        self.tx_overruns = 0
        self.rx_since_ack = False          # VFIFO mode: bytes handed to the DMA since the last timeout ack
        self.update_irq()

    def restore(self, snap: dict[str, Any]) -> None:
        for ev in (self._tx_event, self._rx_event, self._timeout_event):
            if ev is not None:
                ev.cancel()
        super().restore(snap)
        # Re-arm the events the snapshot recorded by time.
        self._tx_event = (self.clock.schedule_at(self.tx_done_at, self._tx_done, f"{self.name}.tx")
                          if self.tx_done_at is not None else None)
        self._rx_event = (self.clock.schedule_at(self.rx_next_at, self._rx_arrive, f"{self.name}.rx")
                          if self.rx_next_at is not None else None)
        self._timeout_event = (self.clock.schedule_at(self.rx_timeout_at, self._rx_timeout_fire,
                                                      f"{self.name}.rto")
                               if self.rx_timeout_at is not None else None)

    # ---- outside world ----------------------------------------------------------------------------------------
    def add_tx_listener(self, fn: Callable[[int], None]) -> None:
        """`fn(byte)` is called when a byte has finished transmitting (its stop bit is on the wire)."""
        self._tx_listeners.append(fn)

    def feed(self, data: bytes) -> None:
        """Bytes arriving on RX. They enter the RX FIFO one frame time apart, the first one frame from now."""
        if isinstance(data, int):
            data = bytes([data])
        self.rx_pending.extend(bytes(data))
        if self._rx_event is None and self.rx_pending:
            self._schedule_rx()

    # ---- derived values ---------------------------------------------------------------------------------------
    @property
    def lcr(self) -> int:
        return self.regs["LCR"] & 0xFF

    @property
    def fifo_enabled(self) -> bool:
        return bool(self.fcr & FCR_FIFOE)

    @property
    def depth(self) -> int:
        return FIFO_DEPTH if self.fifo_enabled else 1

    def _bank(self) -> str:
        if self.lcr == LCR_EFR_BANK:
            return "efr"
        return "dlab" if self.lcr & LCR_DLAB else "normal"

    def frame_bits(self) -> int:
        lcr = self.lcr
        data_bits = 5 + (lcr & 3)
        parity = 1 if lcr & 0x08 else 0
        stop = 2 if lcr & 0x04 else 1
        return 1 + data_bits + parity + stop

    def _bit_time_x10_cycles(self) -> int:
        """Ten bit times, in UART clock cycles (integer, so fractional dividers stay exact)."""
        dl = (self.banked["DLM"] << 8) | self.banked["DLL"]
        speed = self.regs["HIGHSPEED"] & 3
        if dl == 0:
            return 0
        if speed == 0:
            return 10 * 16 * dl
        if speed == 1:
            return 10 * 8 * dl
        if speed == 2:
            return 10 * 4 * dl
        # HIGHSPEED 3: each bit lasts SAMPLE_COUNT + 1 divided clocks; the ten FRACDIV bits add one clock to the
        # corresponding bit of a 10-bit frame (CTD UART.c UART_Open / mt3620_uart_fract_lut).
        frac = ((self.regs["FRACDIV_M"] & 3) << 8) | (self.regs["FRACDIV_L"] & 0xFF)
        return dl * (10 * ((self.regs["SAMPLE_COUNT"] & 0xFF) + 1) + bin(frac).count("1"))

    @property
    def baud(self) -> float:
        x10 = self._bit_time_x10_cycles()
        if x10 == 0:
            return float(DEFAULT_BAUD)
        return self.uart_clock_hz * 10 / x10

    def frame_ps(self) -> int:
        x10 = self._bit_time_x10_cycles()
        bits = self.frame_bits()
        if x10 == 0:
            # A zero divisor is not a working configuration; the emulator keeps the line at 115200.
            return -(-bits * PS_PER_SECOND // DEFAULT_BAUD)
        return -(-bits * x10 * PS_PER_SECOND // (10 * self.uart_clock_hz))

    def rx_trigger(self) -> int:
        if not self.fifo_enabled:
            return 1
        rftl = (self.fcr >> 6) & 3
        if rftl == 3:
            return min(FIFO_DEPTH, max(1, self.regs["RXTRIG"] & 0x3F))
        return RX_TRIGGER[rftl]

    def tx_trigger(self) -> int:
        if not self.fifo_enabled:
            return 0
        return TX_TRIGGER[(self.fcr >> 4) & 3]

    def _thr_condition(self) -> bool:
        return len(self.tx_fifo) <= self.tx_trigger()

    def lsr(self) -> int:
        value = self.lsr_errors
        if self.rx_fifo:
            value |= LSR_DR
        if not self.tx_fifo:
            value |= LSR_THRE
            if self.tx_shift is None:
                value |= LSR_TEMT
        return value

    def iir_id(self) -> int:
        """Highest-priority pending interrupt: line status > RX data > RX timeout > THR empty."""
        if self.ier & IER_ELSI and self.lsr_errors & LSR_ERRORS:
            return IIR_LINE_STATUS
        if self.ier & IER_ERBFI:
            if self.rx_fifo and len(self.rx_fifo) >= self.rx_trigger():
                return IIR_RX_DATA
            if self.rx_timeout and (self.rx_fifo or self.rx_since_ack):
                return IIR_RX_TIMEOUT
        if self.ier & IER_ETBEI and self.thre_pending:
            return IIR_THRE
        return IIR_NONE

    def update_irq(self) -> None:
        self.irq[0].set(self.iir_id() != IIR_NONE)

    # ---- register callbacks -----------------------------------------------------------------------------------
    def _read_rbr(self) -> int:
        if self._bank() != "normal":
            return self.banked["DLL"]
        if not self.rx_fifo:
            return 0
        byte = self.rx_fifo.pop(0)
        self.rx_timeout = False
        self._restart_rx_timeout()
        self.update_irq()
        return byte

    def _write_thr(self, value: int) -> None:
        if self._bank() != "normal":
            self.banked["DLL"] = value & 0xFF
            self._baud_changed(value)
            return
        self.thre_pending = False
        self._tx_enqueue(value)
        self.update_irq()

    def _tx_enqueue(self, value: int) -> None:
        if len(self.tx_fifo) >= self.depth:
            # A write to a full TX FIFO is lost (counted, logged once per overrun burst).
            self.tx_overruns += 1
            log.info("%s: THR write 0x%02x with a full TX FIFO: byte dropped", self.name, value & 0xFF)
        else:
            self.tx_fifo.append(value & 0xFF)
            if self.tx_shift is None:
                self._start_next_frame()

    def _read_ier(self) -> int:
        if self._bank() != "normal":
            return self.banked["DLM"]
        return self.ier

    def _write_ier(self, value: int) -> None:
        if self._bank() != "normal":
            self.banked["DLM"] = value & 0xFF
            self._baud_changed(value)
            return
        old = self.ier
        self.ier = value & 0xEF     # bit 4 reserved
        # Enabling the THR-empty interrupt while the condition holds raises it (16550 behaviour).
        if self.ier & IER_ETBEI and not old & IER_ETBEI and self._thr_condition():
            self.thre_pending = True
        self.update_irq()

    def _read_iir(self) -> int:
        if self._bank() == "efr":
            return self.banked["EFR"]
        ident = self.iir_id()
        if ident == IIR_THRE:
            # Reading IIR while it reports THR empty acknowledges that interrupt (16550 behaviour).
            self.thre_pending = False
            self.update_irq()
        return ident | (0xC0 if self.fifo_enabled else 0)

    def _write_fcr(self, value: int) -> None:
        if self._bank() == "efr":
            self.banked["EFR"] = value & 0xDF
            return
        value &= 0xFF
        was_enabled = self.fifo_enabled
        self.fcr = value & 0xF1     # CLRR/CLRT self-clear; bit 3 reserved
        if value & FCR_CLRR or was_enabled != self.fifo_enabled:
            self.rx_fifo.clear()
            self.rx_timeout = False
        if value & FCR_CLRT or was_enabled != self.fifo_enabled:
            self.tx_fifo.clear()
            if self._thr_condition():
                self.thre_pending = bool(self.ier & IER_ETBEI)
        self.update_irq()

    def _after_lcr(self, value: int) -> None:
        self.update_irq()

    def _read_mcr(self) -> int:
        return self.banked["XON1"] if self._bank() == "efr" else self.mcr

    def _write_mcr(self, value: int) -> None:
        if self._bank() == "efr":
            self.banked["XON1"] = value & 0xFF
        else:
            self.mcr = value & 0x1F

    def _read_lsr(self) -> int:
        if self._bank() == "efr":
            return self.banked["XON2"]
        value = self.lsr()
        # Error bits clear when LSR is read (16550 behaviour).
        if self.lsr_errors:
            self.lsr_errors = 0
            self.update_irq()
        return value

    def _write_lsr(self, value: int) -> None:
        if self._bank() == "efr":
            self.banked["XON2"] = value & 0xFF
        # LSR itself is read-only.

    def _read_msr(self) -> int:
        if self._bank() == "efr":
            return self.banked["XOFF1"]
        if self.mcr & 0x10:
            # Loopback: CTS<-RTS, DSR<-DTR, RI<-OUT1, DCD<-OUT2.
            m = self.mcr
            return ((m & 2) << 3) | ((m & 1) << 5) | ((m & 4) << 4) | ((m & 8) << 4)
        # No modem partner is modelled: CTS, DSR and DCD read as asserted.
        return 0xB0

    def _write_msr(self, value: int) -> None:
        if self._bank() == "efr":
            self.banked["XOFF1"] = value & 0xFF

    def _read_scr(self) -> int:
        return self.banked["XOFF2"] if self._bank() == "efr" else self.scr

    def _write_scr(self, value: int) -> None:
        if self._bank() == "efr":
            self.banked["XOFF2"] = value & 0xFF
        else:
            self.scr = value & 0xFF

    def _baud_changed(self, value: int) -> None:
        """A new divisor applies from the next frame; the frame in flight finishes at the old rate."""

    def _read_vfifo_en(self) -> int:
        # CTD UART.c: reading VFIFO_EN acknowledges the RX timeout interrupt.
        if self.rx_timeout or self.rx_since_ack:
            self.rx_timeout = False
            self.rx_since_ack = False
            self.update_irq()
        return self.regs["VFIFO_EN"] & 1

    def _read_fcr_rd(self) -> int:
        return self.fcr & 0xF1

    def _read_rx_offset(self) -> int:
        return len(self.rx_fifo)

    def _read_tx_offset(self) -> int:
        return len(self.tx_fifo)

    def _read_interrupt_sta(self) -> int:
        ident = self.iir_id()
        return {IIR_LINE_STATUS: 0x01, IIR_RX_TIMEOUT: 0x02, IIR_RX_DATA: 0x04, IIR_THRE: 0x08}.get(ident, 0)

    # ---- transmitter -------------------------------------------------------------------------------------------
    def _start_next_frame(self) -> None:
        if not self.tx_fifo:
            return
        self.tx_shift = self.tx_fifo.pop(0)
        self.tx_done_at = self.clock.now + self.frame_ps()
        self._tx_event = self.clock.schedule_at(self.tx_done_at, self._tx_done, f"{self.name}.tx")
        if self._thr_condition() and self.ier & IER_ETBEI:
            self.thre_pending = True

    def _tx_done(self) -> None:
        byte = self.tx_shift
        self.tx_shift = None
        self.tx_done_at = None
        self._tx_event = None
        if byte is not None:
            if self.mcr & 0x10:
                self._receive(byte)        # loopback: the frame goes to our own receiver
            else:
                for fn in list(self._tx_listeners):
                    fn(byte)
        self._start_next_frame()
        if self._thr_condition() and self.ier & IER_ETBEI:
            self.thre_pending = True
        if self._vfifo_tx():
            for dma in self._dmas():
                dma.vfifo_tx_ready(self.dma_channels[0])
        self.update_irq()

    # ---- receiver ---------------------------------------------------------------------------------------------
    def _schedule_rx(self) -> None:
        self.rx_next_at = self.clock.now + self.frame_ps()
        self._rx_event = self.clock.schedule_at(self.rx_next_at, self._rx_arrive, f"{self.name}.rx")

    def _rx_arrive(self) -> None:
        self._rx_event = None
        self.rx_next_at = None
        if self.rx_pending:
            self._receive(self.rx_pending.pop(0))
        if self.rx_pending:
            self._schedule_rx()

    def _receive(self, byte: int) -> None:
        if self._vfifo_rx() and not self.rx_fifo:
            dma = self._dma(self.dma_channels[1])
            if dma is not None and dma.vfifo_rx_put(self.dma_channels[1], byte):
                # Virtual-FIFO mode: the byte went straight to the DMA ring.
                self.rx_since_ack = True
                self._restart_rx_timeout()
                self.update_irq()
                return
        if len(self.rx_fifo) >= self.depth:
            self.lsr_errors |= LSR_OE      # overrun: the new byte is lost
        else:
            self.rx_fifo.append(byte & 0xFF)
        self._restart_rx_timeout()
        self.update_irq()

    def _restart_rx_timeout(self) -> None:
        """RX timeout: data below the trigger level and no activity for four character times."""
        if self._timeout_event is not None:
            self._timeout_event.cancel()
            self._timeout_event = None
            self.rx_timeout_at = None
        if self.rx_fifo or self.rx_since_ack:
            self.rx_timeout_at = self.clock.now + 4 * self.frame_ps()
            self._timeout_event = self.clock.schedule_at(self.rx_timeout_at, self._rx_timeout_fire,
                                                         f"{self.name}.rto")

    def _rx_timeout_fire(self) -> None:
        self._timeout_event = None
        self.rx_timeout_at = None
        if self.rx_fifo or self.rx_since_ack:
            self.rx_timeout = True
            self.update_irq()
