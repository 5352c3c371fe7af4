"""MT3620 ADC (0x38000000), IRQ 70: 8 channels (GPIO 41-48), 12 bits, one-shot and periodic scans, a 32-entry
FIFO with a trigger level, and DMA virtual-FIFO channel 29.

Register map: CodethinkLabs/mt3620-m4-drivers mt3620/adc.h (mt3620_adc_t) and MediaTek-Labs/mt3620_m4_software
MT3620_M4_Driver/HDL/inc/hdl_adc.h (offsets and fields); use: CodethinkLabs ADC.c, MediaTek hdl_adc.c,
mhal_adc.c and OS_HAL os_hal_adc.c.

  0x000 ADC_GLOBAL_CTRL   bit 0 ADC_CR_SW_RST_B: 0 holds the ADC in reset (CTD writes 0 then 1; MTK pulses it)
  0x100 ADC_CTL0          FSM_EN, REG_AVG_MODE, REG_T_CH, PMODE_EN, REG_T_INIT, REG_CH_MAP (bits 16-31)
  0x104 REG_PERIOD        periodic mode: idle ADC clocks between scans
  0x108 ADC_CTL2          data sync mode, TIMESTAMP_EN
  0x10C ADC_CTL3          analog settings (stored), VCM_AZURE_EN (the reference range)
  0x200 ADC_FIFO_RBR      the oldest sample (reading removes it); a sample is (value << 4) | channel
  0x204 ADC_FIFO_IER      RXFEN (FIFO at the trigger level), RXTEN (timeout)
  0x208 ADC_FIFO_IIR      UART-style identifier: 0x01 none, 0x04 RX data, 0x0C timeout (CTD adc.h)
  0x214 ADC_FIFO_LSR      bit 0 DR (data ready)
  0x24C ADC_FIFO_DMA_EN   RX_DMA_EN: samples go to DMA channel 29's ring
  0x260 ADC_FIFO_TRI_LVL  RX_TRI_LVL (bits 6:2): the trigger level in samples
  0x2D4 ADC_FIFO_DEBUG16  read pointer (4:0) and write pointer (9:5) of the FIFO
Sample word and FIFO: CodethinkLabs m4dma_irq_b_adc takes value = (raw >> 4) & 0xFFF, channel = raw & 0xF;
MediaTek's ADC sample ADC_DATA_MASK = bits 4-15; ADC_FIFO_SIZE = 32 (hdl_adc.h).

Timing (virtual clock, ADC clock 2 MHz: CodethinkLabs ADC_CLK_FREQUENCY, MediaTek ADC_CLK_RATE): a scan takes
REG_T_INIT + 1 clocks, then per enabled channel (ascending) REG_T_CH + 2 + 2^REG_AVG_MODE + 1 clocks, the sample
entering the FIFO at the end of its channel's slot; periodic mode starts the next scan REG_PERIOD + 1 clocks after
one ends (the arithmetic of mhal_adc.c mtk_mhal_adc_fsm_param_set, which sizes REG_PERIOD this way). One-shot mode
scans once when FSM_EN goes from 0 to 1.

Inputs: a voltage per channel, a constant or a signal over virtual time (mt3620.peripherals.buses.signals), set
from a board file, pytest (`adc.set_input(ch, 1.25)`, `adc.set_input(ch, "sine(1.25, 1, 50Hz)")`) or the
device API. The code is round(V / Vref * 4095), clamped to 0..4095; Vref (`vref`, default 2.5 V as on the RDB,
the 2500 mV every sample passes) is an attribute of the board. A channel with no input reads 0 V.

Emulator-defined (docs/peripherals.md): CH_MAP bits 8-15 name channels that do not exist: they are skipped (no
sample) and logged; a sample arriving to a full FIFO is dropped and counted (`overruns`); RX_TRI_LVL 0 means 1;
with TIMESTAMP_EN bits 31:16 of a sample count the scans since FSM_EN; the RX timeout fires RTOCNT ADC clocks
(at least one sample time) after the last sample while data waits; AVG_MODE does not average (inputs are noise-free).
"""
from __future__ import annotations

import logging
from typing import Any

from mt3620.engine.simulation.clock import VirtualClock, ps_for_cycles
from mt3620.engine.simulation.peripheral import (COLD, Field, Link, Peripheral, Register, RegisterView, ResetKind,
                                                 Timer)
from mt3620.engine.simulation.protocols import DmaChannelHost
from mt3620.peripherals.buses.signals import Signal, SignalError, parse_signal

log = logging.getLogger("mt3620.adc")

ADC_BASE = 0x38000000
ADC_CLOCK_HZ = 2_000_000
CHANNELS = 8
FIFO_DEPTH = 32
DMA_CHANNEL = 29                     # CTD adc.h MT3620_ADC_DMA_CHANNEL, MTK VDMA_ADC_RX_CH29
FULL_SCALE = 4095
IIR_NONE, IIR_RX_DATA, IIR_RX_TIMEOUT = 0x01, 0x04, 0x0C


class Adc(Peripheral):
    SIZE = 0x1000
    IRQS = ("irq",)
    REGISTERS = (
        Register(0x000, "ADC_GLOBAL_CTRL", write="_global_written", fields=(Field("ADC_CR_SW_RST_B", 0, reset=1),)),
        Register(0x100, "ADC_CTL0", write="_ctl0_written", fields=(
            Field("ADC_FSM_EN", 0), Field("REG_AVG_MODE", 1, 3), Field("REG_T_CH", 4, 4), Field("PMODE_EN", 8),
            Field("REG_T_INIT", 9, 7), Field("REG_CH_MAP", 16, 16))),
        Register(0x104, "REG_PERIOD"),
        Register(0x108, "ADC_CTL2", fields=(
            Field("REG_ADC_DATA_SYNC_MODE", 20), Field("REG_ADC_TIMESTAMP_EN", 21),
            Field("REG_INTERNAL_CLK_SAMPLE_DATA_EN", 22))),
        Register(0x10C, "ADC_CTL3", fields=(
            Field("COMP_TIME_DELAY", 0, 2), Field("COMP_PREAMP_CURRENT", 2, 2), Field("COMP_PREAMP_EN", 4),
            Field("DITHER_EN", 6), Field("DITHER_STEP_SIZE", 8, 2), Field("AUXADC_IN_MUX_EN", 11),
            Field("VCM_GEN_EN", 13), Field("AUXADC_CLK_GEN_EN", 15), Field("AUXADC_PMU_CLK_INV", 16),
            Field("AUXADC_CLK_SRC", 17), Field("VCM_AZURE_EN", 31))),
        Register(0x110, "ADC_CTL4", access="ro"),
        Register(0x200, "ADC_FIFO_RBR", access="ro", read="_read_rbr"),
        Register(0x204, "ADC_FIFO_IER", write="_changed", fields=(Field("RXFEN", 0), Field("RXTEN", 2))),
        Register(0x208, "ADC_FIFO_IIR", read="_read_iir"),
        Register(0x20C, "ADC_FIFO_FAKELCR"),
        Register(0x214, "ADC_FIFO_LSR", access="ro", read="_read_lsr"),
        Register(0x248, "ADC_FIFO_SLEEP_EN"),
        Register(0x24C, "ADC_FIFO_DMA_EN", write="_dma_en_written", fields=(
            Field("RX_DMA_EN", 0), Field("TO_CNT_AUTORST", 2))),
        Register(0x254, "ADC_FIFO_RTOCNT", fields=(Field("RTOCNT", 0, 18),)),
        Register(0x260, "ADC_FIFO_TRI_LVL", reset=0x1C, write="_changed", fields=(
            Field("RX_TRI_LVL", 2, 5, reset=7), Field("ADC_LOOP", 7))),
        Register(0x264, "ADC_FIFO_WAK"),
        Register(0x268, "ADC_FIFO_WAT_TIME", fields=(Field("WAT_TIME_1", 0, 3), Field("WAT_TIME_2", 3, 3))),
        Register(0x26C, "ADC_FIFO_HANDSHAKE", fields=(
            Field("HANDSHAKE_EN", 0), Field("HIGH_SPEED_EN", 1), Field("RTO_EXT", 2))),
        Register(0x2D4, "ADC_FIFO_DEBUG16", access="ro", read="_read_debug16"),
    )
    STATE = ("fifo", "rptr", "wptr", "scan", "scans", "overruns", "timed_out", "absent_channels")

    sample = Timer("_sample")                # the next channel's conversion ends
    rx_timeout = Timer("_timeout_fire")
    dma = Link(DmaChannelHost, many=True, bind="_serve_dma",
               doc="the IO cores' DMA controllers that may run the ADC's virtual-FIFO channel 29")

    def __init__(self, name: str | None = None, clock: VirtualClock | None = None, **attributes: Any) -> None:
        base = attributes.get("base_address")
        if base is not None and int(base) != ADC_BASE:
            raise ValueError(f"Adc: 0x{int(base):08x} is not the ADC (0x{ADC_BASE:08x})")
        self.vref = float(attributes.get("vref", 2.5))
        if not self.vref > 0:
            raise ValueError(f"Adc: vref {self.vref!r} must be positive")
        self.inputs: dict[int, Signal] = {}
        self._listeners: list = []
        super().__init__(name or "adc", clock, **attributes)

    def reset(self, kind: ResetKind = COLD) -> None:
        super().reset(kind)
        self.fifo: list[int] = []
        self.rptr = 0
        self.wptr = 0
        self.scan: list[int] | None = None        # channels still to convert in the running scan
        self.scans = 0
        self.overruns = 0
        self.timed_out = False
        self.absent_channels = 0
        self.update_irq()

    # ---- inputs (the board side) ----------------------------------------------------------------------------------
    def set_input(self, channel: int, value: float | str | Signal | None) -> None:
        """The voltage on ADC channel `channel` (0..7): volts, a signal description or a Signal; None = 0 V."""
        if not isinstance(channel, int) or not 0 <= channel < CHANNELS:
            raise ValueError(f"{self.name}: ADC channel {channel!r} does not exist (0..{CHANNELS - 1})")
        if value is None:
            self.inputs.pop(channel, None)
            return
        try:
            self.inputs[channel] = parse_signal(value)
        except SignalError as exc:
            raise ValueError(f"{self.name}: channel {channel}: {exc}") from None

    def voltage(self, channel: int) -> float:
        signal = self.inputs.get(channel)
        return signal.value_at(self.clock.now) if signal is not None else 0.0

    def code(self, channel: int) -> int:
        """The 12-bit code channel `channel` converts to now."""
        value = round(self.voltage(channel) / self.vref * FULL_SCALE)
        return max(0, min(FULL_SCALE, value))

    # ---- wiring -----------------------------------------------------------------------------------------------------
    def _serve_dma(self, dma: DmaChannelHost) -> None:
        dma.attach_vfifo_peer(DMA_CHANNEL, self)

    def _dma_for(self) -> DmaChannelHost | None:
        for dma in self.dma:
            if dma.vfifo_running(DMA_CHANNEL):
                return dma
        return None

    # VfifoPeer: the ADC only feeds an RX ring.
    def vfifo_tx_space(self) -> int:
        return 0

    def vfifo_tx_put(self, byte: int) -> None:
        pass

    def vfifo_rx_drain(self) -> None:
        if not self.regs.ADC_FIFO_DMA_EN.RX_DMA_EN:
            return
        dma = self._dma_for()
        moved = False
        while dma is not None and self.fifo and dma.vfifo_rx_put(DMA_CHANNEL, self.fifo[0]):
            self._pop()
            moved = True
        if moved:
            self.update_irq()

    def _dma_en_written(self, value: int) -> None:
        self.vfifo_rx_drain()

    # ---- scanning ---------------------------------------------------------------------------------------------------
    def _running(self) -> bool:
        return bool(self.regs.ADC_GLOBAL_CTRL.ADC_CR_SW_RST_B and self.regs.ADC_CTL0.ADC_FSM_EN)

    def _channels(self) -> list[int]:
        chmap = self.regs.ADC_CTL0.REG_CH_MAP
        absent = chmap >> CHANNELS
        if absent and absent != self.absent_channels:
            self.absent_channels = absent
            log.warning("%s: REG_CH_MAP 0x%04x names channels %s that do not exist: skipped", self.name, chmap,
                        [CHANNELS + i for i in range(8) if absent >> i & 1])
        return [ch for ch in range(CHANNELS) if chmap >> ch & 1]

    def _slot_clocks(self) -> int:
        ctl0 = self.regs.ADC_CTL0
        return ctl0.REG_T_CH + 2 + (1 << ctl0.REG_AVG_MODE) + 1

    def _begin_scan(self, delay_clocks: int) -> None:
        channels = self._channels()
        if not channels:
            self.scan = None
            return
        self.scan = channels
        self.sample.start(ps_for_cycles(delay_clocks + self.regs.ADC_CTL0.REG_T_INIT + 1 + self._slot_clocks(),
                                        ADC_CLOCK_HZ))

    def _ctl0_written(self, value: int, old: RegisterView) -> None:
        if self.regs.ADC_CTL0.ADC_FSM_EN and not old.ADC_FSM_EN and self.regs.ADC_GLOBAL_CTRL.ADC_CR_SW_RST_B:
            self.scans = 0
            self._begin_scan(0)
        elif not self.regs.ADC_CTL0.ADC_FSM_EN:
            self.sample.cancel()
            self.scan = None

    def _global_written(self, value: int, old: RegisterView) -> None:
        if not self.regs.ADC_GLOBAL_CTRL.ADC_CR_SW_RST_B:
            # Software reset: every register but this one to its reset value, FIFO empty, FSM stopped.
            ctrl = self.regs.ADC_GLOBAL_CTRL.value
            self.reset(COLD)
            self.regs.ADC_GLOBAL_CTRL.value = ctrl

    def _sample(self) -> None:
        if not self._running() or not self.scan:
            self.scan = None
            return
        channel = self.scan.pop(0)
        word = (self.code(channel) << 4) | channel
        if self.regs.ADC_CTL2.REG_ADC_TIMESTAMP_EN:
            word |= (self.scans & 0xFFFF) << 16
        self._push(word)
        if self.scan:
            self.sample.start(ps_for_cycles(self._slot_clocks(), ADC_CLOCK_HZ))
            return
        self.scan = None
        self.scans += 1
        if self.regs.ADC_CTL0.PMODE_EN:
            self._begin_scan(self.regs.REG_PERIOD.value + 1)

    def _push(self, word: int) -> None:
        if len(self.fifo) >= FIFO_DEPTH:
            self.overruns += 1
            if self.overruns == 1:
                log.warning("%s: FIFO full (32 samples): samples are dropped until software or the DMA reads",
                            self.name)
        else:
            self.fifo.append(word & 0xFFFFFFFF)
            self.wptr = (self.wptr + 1) % FIFO_DEPTH
        self.vfifo_rx_drain()
        self.timed_out = False
        self._arm_timeout()
        self.update_irq()

    def _pop(self) -> int:
        word = self.fifo.pop(0)
        self.rptr = (self.rptr + 1) % FIFO_DEPTH
        return word

    def _arm_timeout(self) -> None:
        if self.fifo and self.regs.ADC_FIFO_IER.RXTEN:
            clocks = max(self.regs.ADC_FIFO_RTOCNT.RTOCNT, self._slot_clocks())
            self.rx_timeout.start(ps_for_cycles(clocks, ADC_CLOCK_HZ))
        else:
            self.rx_timeout.cancel()

    def _timeout_fire(self) -> None:
        if self.fifo:
            self.timed_out = True
            self.update_irq()

    # ---- FIFO registers -------------------------------------------------------------------------------------------
    def trigger_level(self) -> int:
        return max(1, self.regs.ADC_FIFO_TRI_LVL.RX_TRI_LVL)

    def _rx_pending(self) -> bool:
        return bool(self.regs.ADC_FIFO_IER.RXFEN and len(self.fifo) >= self.trigger_level())

    def _timeout_pending(self) -> bool:
        return bool(self.regs.ADC_FIFO_IER.RXTEN and self.timed_out and self.fifo)

    def update_irq(self) -> None:
        self.irq[0].set(self._rx_pending() or self._timeout_pending())

    def _changed(self, value: int) -> None:
        self._arm_timeout()
        self.update_irq()

    def _read_rbr(self) -> int:
        if not self.fifo:
            return 0
        word = self._pop()
        self.timed_out = False
        self._arm_timeout()
        self.update_irq()
        return word

    def _read_iir(self) -> int:
        if self._rx_pending():
            return IIR_RX_DATA
        if self._timeout_pending():
            return IIR_RX_TIMEOUT
        return IIR_NONE

    def _read_lsr(self) -> int:
        return int(bool(self.fifo))

    def _read_debug16(self) -> int:
        return self.rptr | self.wptr << 5
