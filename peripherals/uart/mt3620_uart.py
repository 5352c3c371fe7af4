"""MT3620 UART: the IO core's debug UART (0x21040000, IRQ 4) and the ISU UARTs (0x38070500 + n*0x10000, IRQ 47+4n).

A 16550-compatible UART with a 32-bit register stride and MediaTek extensions (HIGHSPEED, SAMPLE_COUNT,
SAMPLE_POINT, FRACDIV, VFIFO_EN, TX_OFFSET, ...). Register layout: CodethinkLabs/mt3620-m4-drivers
mt3620/uart.h (mt3620_uart_t); bring-up sequence and baud arithmetic: same repository, UART.c (UART_Open).

Register banks (classic 16550 plus the MediaTek "LCR = 0xBF" bank), selected by LCR:
  "normal"  LCR.DLAB = 0  0x00 RBR/THR, 0x04 IER, 0x08 IIR (read) / FCR (write), 0x10 MCR, 0x14 LSR, 0x18 MSR, 0x1C SCR
  "dlab"    LCR.DLAB = 1  0x00 DLL, 0x04 DLM; 0x08..0x1C as in "normal"
  "efr"     LCR == 0xBF   0x00 DLL, 0x04 DLM (DLAB is set), 0x08 EFR, 0x10 XON1, 0x14 XON2, 0x18 XOFF1, 0x1C XOFF2

Timing: a byte written to THR enters the TX FIFO; the transmitter shifts one frame (start + data + parity + stop
bits) at the baud rate derived from DLL/DLM, HIGHSPEED, SAMPLE_COUNT and FRACDIV, all in virtual time. Bytes fed
with `feed()` arrive one frame time apart, as on a real line.

DMA (ISU UARTs; VFIFO_EN = 1 and EXTEND_ADD's TX/RX_DMA_HSK_EN, as MediaTek hdl_uart.c mtk_hdl_uart_dma_en and
mtk_hdl_uart_tx/rx_dma_handshake set them for both kinds of transfer): the UART's DMA requests serve whichever of
its channels runs, the virtual-FIFO channels 13 + 2n / 14 + 2n or the DREQ half-size channels 2n / 2n + 1
(MediaTek os_hal_uart.c uart_vff_dma_chan / uart_half_dma_chan, chosen by mtk_os_hal_uart_dma_send_data's
vff_mode). On a half-size channel the TX FIFO is filled through THR whenever it has room and the RX FIFO is drained
through RBR whenever it holds a byte (peripherals/dma/m4_dma.py `request`).
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from mt3620.engine.simulation.clock import PS_PER_SECOND, VirtualClock
from mt3620.engine.simulation.fast_path import NativeFastPathModel
from mt3620.engine.simulation.peripheral import (COLD, Field, Link, LinkError, Peripheral, Register, RegisterView,
                                                 ResetKind, Timer)
from mt3620.engine.simulation.protocols import DmaChannelHost

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
IIR_FIFOS_ON = 0xC0                 # IIR bits 7:6 while FIFOs are enabled

# LSR bits (CTD uart.h mt3620_uart_lsr_t)
LSR_DR, LSR_OE, LSR_PE, LSR_FE, LSR_BI, LSR_THRE, LSR_TEMT, LSR_FIFOERR = (1 << i for i in range(8))
LSR_ERRORS = LSR_OE | LSR_PE | LSR_FE | LSR_BI
MSR_NO_MODEM = 0xB0                 # CTS, DSR and DCD asserted

LCR_EFR_BANK = 0xBF

# Trigger levels (emulator-defined encodings, see docs/peripherals.md): RFTL selects how many received bytes
# raise "RX data"; TFTL selects at or below how many queued bytes "THR empty" is raised.
RX_TRIGGER = {0: 1, 1: 6, 2: 12}    # 3 = the RXTRIG register
TX_TRIGGER = {0: 0, 1: 4, 2: 8, 3: 14}
INTERRUPT_STA = {IIR_LINE_STATUS: 0x01, IIR_RX_TIMEOUT: 0x02, IIR_RX_DATA: 0x04, IIR_THRE: 0x08}

NORMAL, DLAB, EFR = "normal", "dlab", "efr"


def _byte(name: str, reset: int = 0) -> tuple[Field, ...]:
    return (Field(name, 0, 8, "rw", reset),)


class Mt3620Uart(NativeFastPathModel, Peripheral):
    SIZE = 0x100
    IRQS = ("irq",)
    BANKS = (NORMAL, DLAB, EFR)

    REGISTERS = (
        Register(0x00, "RBR_THR", banks=(NORMAL,), read="_read_rbr", write="_write_thr",
                 doc="RBR (read) / THR (write)"),
        # A new divisor applies from the next frame; the frame in flight finishes at the old rate.
        Register(0x00, "DLL", banks=(DLAB, EFR), fields=_byte("DLL", 0x01), write="_line_written"),
        Register(0x04, "IER", banks=(NORMAL,), write="_write_ier", fields=(
            Field("ERBFI", 0), Field("ETBEI", 1), Field("ELSI", 2), Field("EDSSI", 3), Field("XOFFI", 5),
            Field("RTSI", 6), Field("CTSI", 7))),
        Register(0x04, "DLM", banks=(DLAB, EFR), fields=_byte("DLM"), write="_line_written"),
        Register(0x08, "IIR_FCR", banks=(NORMAL, DLAB), read="_read_iir", write="_write_fcr",
                 doc="IIR (read) / FCR (write); CLRR and CLRT self-clear", fields=(
                     Field("FIFOE", 0), Field("CLRR", 1, access="wo"), Field("CLRT", 2, access="wo"),
                     Field("TFTL", 4, 2), Field("RFTL", 6, 2))),
        Register(0x08, "EFR", banks=(EFR,), fields=(
            Field("SW_FLOW_CONT", 0, 4), Field("ENABLE_E", 4), Field("AUTO_RTS", 6), Field("AUTO_CTS", 7))),
        Register(0x0C, "LCR", write="_write_lcr", fields=(
            Field("WLS", 0, 2, reset=3, doc="data bits - 5"), Field("STB", 2, doc="2 stop bits"), Field("PEN", 3),
            Field("EPS", 4), Field("SP", 5), Field("SB", 6), Field("DLAB", 7))),
        Register(0x10, "MCR", banks=(NORMAL, DLAB), fields=(
            Field("DTR", 0), Field("RTS", 1), Field("OUT1", 2), Field("OUT2", 3), Field("LOOP", 4))),
        Register(0x10, "XON1", banks=(EFR,), fields=_byte("XON1")),
        Register(0x14, "LSR", banks=(NORMAL, DLAB), access="ro", read="_read_lsr"),
        Register(0x14, "XON2", banks=(EFR,), fields=_byte("XON2")),
        Register(0x18, "MSR", banks=(NORMAL, DLAB), access="ro", read="_read_msr"),
        Register(0x18, "XOFF1", banks=(EFR,), fields=_byte("XOFF1")),
        Register(0x1C, "SCR", banks=(NORMAL, DLAB), fields=_byte("SCR")),
        Register(0x1C, "XOFF2", banks=(EFR,), fields=_byte("XOFF2")),
        Register(0x20, "RX_LEVEL_CTL", fields=(Field("IGNORE_ACK", 6), Field("RX_LEVEL_CTL_EN", 7))),
        Register(0x24, "HIGHSPEED", fields=(Field("SPEED", 0, 2, "rw", 3),), write="_line_written"),
        Register(0x28, "SAMPLE_COUNT", fields=_byte("SAMPLE_COUNT", 224), write="_line_written"),
        Register(0x2C, "SAMPLE_POINT", fields=_byte("SAMPLE_POINT", 110)),
        Register(0x3C, "GUARD", fields=(Field("GUARD_CNT", 0, 4), Field("GUARD_EN", 4))),
        Register(0x40, "ESCAPE_DAT", fields=_byte("ESCAPE_DAT", 0xFF)),
        Register(0x44, "ESCAPE_EN", fields=(Field("ESC_EN", 0),)),
        Register(0x48, "SW_RTO_LIMIT", fields=(Field("SW_RTO_LIMIT_EN", 1), Field("SW_RTO_LIMIT", 2, 6))),
        Register(0x4C, "VFIFO_EN", fields=(Field("VFIFO_EN", 0),), read="_read_vfifo_en", write="_dma_config_written"),
        Register(0x50, "RXTRIG", fields=(Field("RXTRIG", 0, 6),), write="_rxtrig_written"),
        Register(0x54, "FRACDIV_L", fields=_byte("FRACDIV_L", 0xEF), write="_line_written"),
        Register(0x58, "FRACDIV_M", fields=(Field("FRACDIV_M", 0, 2, "rw", 0x1),), write="_line_written"),
        Register(0x5C, "FCR_RD", access="ro", read="_read_fcr_rd"),
        Register(0x64, "EXTEND_ADD", fields=(Field("RX_DMA_HSK_EN", 0), Field("TX_DMA_HSK_EN", 1),
                                             Field("TX_AUTO_TRANS", 2)), write="_dma_config_written"),
        Register(0x68, "RX_OFFSET", access="ro", read="_read_rx_offset"),
        Register(0x6C, "TX_OFFSET", access="ro", read="_read_tx_offset"),
        Register(0x70, "INTERRUPT_STA", access="ro", read="_read_interrupt_sta"),
    )
    STATE = ("lsr_errors", "rx_fifo", "tx_fifo", "tx_shift", "rx_pending", "rx_timeout", "thre_pending",
             "tx_overruns", "rx_since_ack")

    tx_frame = Timer("_tx_done")                 # the frame in the shift register leaves
    rx_frame = Timer("_rx_arrive")               # the next fed byte has arrived
    rx_idle = Timer("_rx_timeout_fire")          # four frame times without RX activity
    dma = Link(DmaChannelHost, many=True, bind="_serve_dma",
               doc="the IO cores' DMA controllers that may run this ISU UART's virtual-FIFO channels")

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
        self._recorders: dict[int, Callable | None] = {}   # listeners that only record, by id: their `many` form
        self.fast_path: Any = None              # a core serving the transmitter (engine/cortex_m/native_devices.py)
        super().__init__(name or (f"isu{self.isu}_uart" if self.isu is not None else "debug_uart"), clock,
                         **attributes)

    @property
    def dreq_channels(self) -> tuple[int, int]:
        """(TX, RX) DREQ half-size DMA channels of an ISU UART: 2n and 2n + 1 (MediaTek os_hal_dma.h
        DMA_ISUn_TX/RX, os_hal_uart.c uart_half_dma_chan)."""
        if self.isu is None:
            return ()
        return (2 * self.isu, 2 * self.isu + 1)

    @property
    def dma_channels(self) -> tuple[int, int]:
        """(TX, RX) virtual-FIFO DMA channels of an ISU UART: 13 + 2n and 14 + 2n (CTD uart.h MT3620_UART_DMA_TX/RX,
        MediaTek os_hal_dma.h VDMA_ISUn_TX/RX)."""
        if self.isu is None:
            return ()
        return (13 + 2 * self.isu, 14 + 2 * self.isu)

    def _serve_dma(self, dma: DmaChannelHost) -> None:
        if self.isu is None:
            raise LinkError(f"{self.name}: a debug UART has no DMA handshake")
        for ch in self.dma_channels:
            dma.attach_vfifo_peer(ch, self)
        for ch in self.dreq_channels:
            dma.attach_dreq_peer(ch, self)

    def _dma_for(self, channel: int) -> DmaChannelHost | None:
        """The DMA serving `channel`: the one running it if any (an ISU is shared: either IO core's DMA may run
        its channels), else the first one linked."""
        for dma in self.dma:
            if dma.vfifo_running(channel):
                return dma
        return self.dma[0] if self.dma else None

    def _vfifo_tx(self) -> bool:
        return self.isu is not None and bool(self.regs.VFIFO_EN.VFIFO_EN and self.regs.EXTEND_ADD.TX_DMA_HSK_EN)

    def _vfifo_rx(self) -> bool:
        return self.isu is not None and bool(self.regs.VFIFO_EN.VFIFO_EN and self.regs.EXTEND_ADD.RX_DMA_HSK_EN)

    # VfifoPeer (see peripherals/dma/m4_dma.py attach_vfifo_peer)
    def vfifo_tx_space(self) -> int:
        return self._depth - len(self.tx_fifo) if self._vfifo_tx() else 0

    def vfifo_tx_put(self, byte: int) -> None:
        self._tx_enqueue(byte)
        self.update_irq()

    def vfifo_rx_drain(self) -> None:
        dma = self._dma_for(self.dma_channels[1]) if self.dma_channels else None
        if dma is None or not self._vfifo_rx():
            return
        while self.rx_fifo and dma.vfifo_rx_put(self.dma_channels[1], self.rx_fifo[0]):
            self.rx_fifo.pop(0)
        self.update_irq()

    def _dma_config_written(self, value: int) -> None:
        if self._vfifo_tx():
            for dma in self.dma:
                dma.vfifo_tx_ready(self.dma_channels[0])
        if self._vfifo_rx():
            self.vfifo_rx_drain()
        self._dreq_pump()

    # DmaRequestPeer (see peripherals/dma/m4_dma.py attach_dreq_peer): the ISU's I2C and SPI blocks share the
    # channels and are told too; the UART moves beats only while its own handshake is on.
    def dma_started(self, channel: int) -> None:
        self._dreq_pump()

    def _dreq_pump(self) -> None:
        """Move what the FIFOs allow on a running DREQ half-size channel: THR writes while the TX FIFO has room, RBR
        reads while the RX FIFO holds a byte (each beat goes through the bus, as the DMA's)."""
        if not self.dreq_channels or not self.dma:
            return
        tx, rx = self.dreq_channels
        if self._vfifo_tx():
            for dma in self.dma:
                while dma.channel_running(tx) and len(self.tx_fifo) < self._depth:
                    if not dma.request(tx, 1):
                        break
        if self._vfifo_rx():
            for dma in self.dma:
                while self.rx_fifo and dma.channel_running(rx):
                    if not dma.request(rx, 1):
                        break

    @property
    def irq_number(self) -> int | None:
        """IO-core NVIC input of this UART (CTD uart.h MT3620_UART_INTERRUPT); None for the A7's debug UART."""
        if self.isu is None:
            return 4 if self.base_address == DEBUG_UART_BASE else None
        return 47 + 4 * self.isu

    # ---- life cycle -------------------------------------------------------------------------------------------
    def reset(self, kind: ResetKind = COLD) -> None:
        self._take_back()
        super().reset(kind)
        self.regs.IIR_FCR.FIFOE = self.preconfigured
        self.derive()
        self.lsr_errors = 0
        self.rx_fifo: list[int] = []
        self.tx_fifo: list[int] = []
        self.tx_shift: int | None = None
        self.rx_pending: list[int] = []     # bytes on the wire, not yet received
        self.rx_timeout = False
        self.thre_pending = False
        self.tx_overruns = 0
        self.rx_since_ack = False          # VFIFO mode: bytes handed to the DMA since the last timeout ack
        self.update_irq()

    # ---- outside world ----------------------------------------------------------------------------------------
    def add_tx_listener(self, fn: Callable[[int], None], *, recorder: bool = False,
                        many: Callable[[bytes, list[int]], None] | None = None) -> None:
        """`fn(byte)` is called when a byte has finished transmitting (its stop bit is on the wire). A `recorder`
        only records what was sent (the machine's output taps): a core's fast path may hand it bytes after the
        fact, with the clock at each byte's time, where any other listener needs them at their very moment; with
        `many(data, times)` it takes them all at once, each with its time."""
        self._tx_listeners.append(fn)
        if recorder:
            self._recorders[id(fn)] = many

    def feed(self, data: bytes) -> None:
        """Bytes arriving on RX. They enter the RX FIFO one frame time apart, the first one frame from now."""
        self._take_back()
        if isinstance(data, int):
            data = bytes([data])
        self.rx_pending.extend(bytes(data))
        if not self.rx_frame.armed and self.rx_pending:
            self.rx_frame.start(self.frame_ps())

    # ---- a core's fast path ----------------------------------------------------------------------------------
    # For the length of a machine window a core may serve the transmitter in C (engine/cortex_m/native_devices.py,
    # native/devices.c): THR and IER writes, IIR, LSR, IER and TX_OFFSET reads, the end of each frame and the
    # THR-empty interrupt, with exactly the rules below. Any other use of the model takes the state back first.

    def tx_fast_path_state(self) -> tuple | None:
        """The transmitter's state for a core's fast path, which serves it from now on (the frame timer stops), or
        None when the fast path cannot serve it: the receiver must be quiet (nothing received, arriving or timing
        out, no line errors), the registers in their normal bank, no loopback, no DMA handshake, no byte in the TX
        FIFO beyond its depth, and every TX listener a recorder. The tuple: IER, IER's writable bits, FIFOs on,
        FIFO depth, THR-empty trigger level, the TX FIFO's bytes, the shift register (-1: empty), THR empty
        pending, the IRQ level, one frame (ps), the end of the frame in flight (None: idle)."""
        if (self.rx_fifo or self.rx_pending or self.rx_frame.armed or self.rx_idle.armed or self.lsr_errors
                or self.rx_timeout or self.rx_since_ack or self._bank != NORMAL or self.regs.MCR.LOOP
                or self._vfifo_tx() or self._vfifo_rx() or len(self.tx_fifo) > self._depth
                or any(id(fn) not in self._recorders for fn in self._tx_listeners)):
            return None
        due = self.tx_frame.when
        self.tx_frame.cancel()
        ier = self.regs.IER
        return (ier.value, ier._WRITABLE, int(self._fifo_on), self._depth, self._tx_trigger,
                bytes(self.tx_fifo), -1 if self.tx_shift is None else self.tx_shift, int(self.thre_pending),
                int(self.irq[0].level), self._frame, due)

    def tx_fast_path_return(self, ier: int, fifo: bytes, shift: int, thre_pending: bool, line: bool,
                            due: int | None) -> None:
        """The fast path hands the transmitter back: IER, the TX FIFO, the shift register, THR empty pending, the
        IRQ level (the NVIC saw it change already) and the end of the frame in flight."""
        self.regs.IER.value = ier
        self._derive_irq_enables()
        self.tx_fifo = list(fifo)
        self.tx_shift = None if shift < 0 else shift
        self.thre_pending = bool(thre_pending)
        self.irq[0].level = bool(line)
        if due is not None:
            self.tx_frame.start_at(due)

    def tx_fast_path_sent(self, data: bytes, times: list[int]) -> None:
        """Bytes the fast path sent (each stop bit went out at its time): to the listeners (all recorders), byte by
        byte with the clock at each byte's time, or all at once to those that take them so; the clock ends at the
        last byte's time."""
        clock = self.clock
        listeners = list(self._tx_listeners)
        for fn in listeners:
            if self._recorders.get(id(fn)) is None:
                for byte, when in zip(data, times):
                    if when > clock.now:
                        clock.now = when
                    fn(byte)
        for fn in listeners:
            many = self._recorders.get(id(fn))
            if many is not None:
                many(data, times)
        if times and times[-1] > clock.now:
            clock.now = times[-1]

    # ---- derived values ---------------------------------------------------------------------------------------
    def derive(self) -> None:
        """What the per-byte path reads, from the line, FIFO and interrupt-enable registers; recomputed by writes to
        them, by reset and by restore."""
        self._derive_irq_enables()
        self._derive_fifo()
        self._derive_line()

    def _derive_irq_enables(self) -> None:
        ier = self.regs.IER
        self._irq_line, self._irq_rx, self._irq_thre = ier.ELSI, ier.ERBFI, ier.ETBEI

    def _derive_fifo(self) -> None:
        fcr = self.regs.IIR_FCR
        self._fifo_on = bool(fcr.FIFOE)
        if self._fifo_on:
            self._depth = FIFO_DEPTH
            rftl = fcr.RFTL
            self._rx_trigger = min(FIFO_DEPTH, max(1, self.regs.RXTRIG.RXTRIG)) if rftl == 3 else RX_TRIGGER[rftl]
            self._tx_trigger = TX_TRIGGER[fcr.TFTL]
        else:
            self._depth, self._rx_trigger, self._tx_trigger = 1, 1, 0

    def _derive_line(self) -> None:
        x10 = self._bit_time_x10_cycles()
        bits = self.frame_bits()
        if x10 == 0:
            # A zero divisor is not a working configuration; the emulator keeps the line at 115200.
            self._frame = -(-bits * PS_PER_SECOND // DEFAULT_BAUD)
        else:
            self._frame = -(-bits * x10 * PS_PER_SECOND // (10 * self.uart_clock_hz))

    def frame_bits(self) -> int:
        lcr = self.regs.LCR
        return 1 + (5 + lcr.WLS) + lcr.PEN + (2 if lcr.STB else 1)

    def _bit_time_x10_cycles(self) -> int:
        """Ten bit times, in UART clock cycles (integer, so fractional dividers stay exact)."""
        regs = self.regs
        dl = (regs.DLM.value << 8) | regs.DLL.value
        speed = regs.HIGHSPEED.SPEED
        if dl == 0:
            return 0
        if speed < 3:
            return 10 * (16, 8, 4)[speed] * dl
        # HIGHSPEED 3: each bit lasts SAMPLE_COUNT + 1 divided clocks; the ten FRACDIV bits add one clock to the
        # corresponding bit of a 10-bit frame (CTD UART.c UART_Open / mt3620_uart_fract_lut).
        frac = (regs.FRACDIV_M.FRACDIV_M << 8) | regs.FRACDIV_L.FRACDIV_L
        return dl * (10 * (regs.SAMPLE_COUNT.SAMPLE_COUNT + 1) + bin(frac).count("1"))

    @property
    def baud(self) -> float:
        x10 = self._bit_time_x10_cycles()
        if x10 == 0:
            return float(DEFAULT_BAUD)
        return self.uart_clock_hz * 10 / x10

    def frame_ps(self) -> int:
        """Time one frame takes on the line with the current settings (a new divisor applies from the next frame)."""
        return self._frame

    def rx_trigger(self) -> int:
        return self._rx_trigger

    def tx_trigger(self) -> int:
        return self._tx_trigger

    def _thr_condition(self) -> bool:
        return len(self.tx_fifo) <= self._tx_trigger

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
        if self._irq_line and self.lsr_errors & LSR_ERRORS:
            return IIR_LINE_STATUS
        if self._irq_rx:
            if self.rx_fifo and len(self.rx_fifo) >= self._rx_trigger:
                return IIR_RX_DATA
            if self.rx_timeout and (self.rx_fifo or self.rx_since_ack):
                return IIR_RX_TIMEOUT
        if self._irq_thre and self.thre_pending:
            return IIR_THRE
        return IIR_NONE

    def update_irq(self) -> None:
        self.irq[0].set(self.iir_id() != IIR_NONE)

    # ---- register callbacks -----------------------------------------------------------------------------------
    def _line_written(self, value: int) -> None:
        """A new divisor or frame format applies from the next frame; the frame in flight finishes as it began."""
        self._derive_line()

    def _rxtrig_written(self, value: int) -> None:
        self._derive_fifo()

    def _write_lcr(self, value: int) -> None:
        lcr = self.regs.LCR
        self.select_bank(EFR if lcr.value == LCR_EFR_BANK else DLAB if lcr.DLAB else NORMAL)
        self._derive_line()
        self.update_irq()

    def _read_rbr(self) -> int:
        if not self.rx_fifo:
            return 0
        byte = self.rx_fifo.pop(0)
        self.rx_timeout = False
        self._restart_rx_timeout()
        self.update_irq()
        return byte

    def _write_thr(self, value: int) -> None:
        self.thre_pending = False
        self._tx_enqueue(value)
        self.update_irq()

    def _tx_enqueue(self, value: int) -> None:
        if len(self.tx_fifo) >= self._depth:
            # A write to a full TX FIFO is lost (counted, logged once per overrun burst).
            self.tx_overruns += 1
            log.info("%s: THR write 0x%02x with a full TX FIFO: byte dropped", self.name, value & 0xFF)
        else:
            self.tx_fifo.append(value & 0xFF)
            if self.tx_shift is None:
                self._start_next_frame()

    def _write_ier(self, value: int, old: RegisterView) -> None:
        self._derive_irq_enables()
        # Enabling the THR-empty interrupt while the condition holds raises it (16550 behaviour).
        if self._irq_thre and not old.ETBEI and self._thr_condition():
            self.thre_pending = True
        self.update_irq()

    def _read_iir(self) -> int:
        ident = self.iir_id()
        if ident == IIR_THRE:
            # Reading IIR while it reports THR empty acknowledges that interrupt (16550 behaviour).
            self.thre_pending = False
            self.update_irq()
        return ident | (IIR_FIFOS_ON if self._fifo_on else 0)

    def _write_fcr(self, value: int, old: RegisterView) -> None:
        self._derive_fifo()
        fcr = self.regs.IIR_FCR
        toggled = old.FIFOE != fcr.FIFOE
        if fcr.CLRR or toggled:
            self.rx_fifo.clear()
            self.rx_timeout = False
        if fcr.CLRT or toggled:
            self.tx_fifo.clear()
            if self._thr_condition():
                self.thre_pending = bool(self._irq_thre)
        fcr.CLRR = fcr.CLRT = 0
        self.update_irq()

    def _read_lsr(self) -> int:
        value = self.lsr()
        # Error bits clear when LSR is read (16550 behaviour).
        if self.lsr_errors:
            self.lsr_errors = 0
            self.update_irq()
        return value

    def _read_msr(self) -> int:
        mcr = self.regs.MCR
        if mcr.LOOP:
            # Loopback: CTS<-RTS, DSR<-DTR, RI<-OUT1, DCD<-OUT2.
            return mcr.RTS << 4 | mcr.DTR << 5 | mcr.OUT1 << 6 | mcr.OUT2 << 7
        # No modem partner is modelled: CTS, DSR and DCD read as asserted.
        return MSR_NO_MODEM

    def _read_vfifo_en(self) -> int:
        # CTD UART.c: reading VFIFO_EN acknowledges the RX timeout interrupt.
        if self.rx_timeout or self.rx_since_ack:
            self.rx_timeout = False
            self.rx_since_ack = False
            self.update_irq()
        return self.regs.VFIFO_EN.value

    def _read_fcr_rd(self) -> int:
        return self.regs.IIR_FCR.value

    def _read_rx_offset(self) -> int:
        return len(self.rx_fifo)

    def _read_tx_offset(self) -> int:
        return len(self.tx_fifo)

    def _read_interrupt_sta(self) -> int:
        return INTERRUPT_STA.get(self.iir_id(), 0)

    # ---- transmitter -------------------------------------------------------------------------------------------
    def _start_next_frame(self) -> None:
        if not self.tx_fifo:
            return
        self.tx_shift = self.tx_fifo.pop(0)
        self.tx_frame.start(self._frame)
        if self._thr_condition() and self._irq_thre:
            self.thre_pending = True

    def _tx_done(self) -> None:
        byte = self.tx_shift
        self.tx_shift = None
        if byte is not None:
            if self.regs.MCR.LOOP:
                self._receive(byte)        # loopback: the frame goes to our own receiver
            else:
                for fn in list(self._tx_listeners):
                    fn(byte)
        self._start_next_frame()
        if self._thr_condition() and self._irq_thre:
            self.thre_pending = True
        if self._vfifo_tx():
            for dma in self.dma:
                dma.vfifo_tx_ready(self.dma_channels[0])
            self._dreq_pump()
        self.update_irq()

    # ---- receiver ---------------------------------------------------------------------------------------------
    def _rx_arrive(self) -> None:
        if self.rx_pending:
            self._receive(self.rx_pending.pop(0))
        if self.rx_pending:
            self.rx_frame.start(self.frame_ps())

    def _receive(self, byte: int) -> None:
        if self._vfifo_rx() and not self.rx_fifo:
            dma = self._dma_for(self.dma_channels[1])
            if dma is not None and dma.vfifo_rx_put(self.dma_channels[1], byte):
                # Virtual-FIFO mode: the byte went straight to the DMA ring.
                self.rx_since_ack = True
                self._restart_rx_timeout()
                self.update_irq()
                return
        if len(self.rx_fifo) >= self._depth:
            self.lsr_errors |= LSR_OE      # overrun: the new byte is lost
        else:
            self.rx_fifo.append(byte & 0xFF)
        self._restart_rx_timeout()
        if self._vfifo_rx():
            self._dreq_pump()
        self.update_irq()

    def _restart_rx_timeout(self) -> None:
        """RX timeout: data below the trigger level and no activity for four character times."""
        self.rx_idle.cancel()
        if self.rx_fifo or self.rx_since_ack:
            self.rx_idle.start(4 * self.frame_ps())

    def _rx_timeout_fire(self) -> None:
        if self.rx_fifo or self.rx_since_ack:
            self.rx_timeout = True
            self.update_irq()
