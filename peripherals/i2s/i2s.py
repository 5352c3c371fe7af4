"""MT3620 I2S controllers I2S0 (0x380D0000, IRQ 68) and I2S1 (0x380E0000, IRQ 69), and their FIFO data ports
(0x380F0000 and 0x38100000).

Register map: CodethinkLabs/mt3620-m4-drivers mt3620/i2s.h (mt3620_i2s_t, the FIFO ports mt3620_i2s_fifo) and
MediaTek-Labs/mt3620_m4_software MT3620_M4_Driver/HDL/inc/hdl_i2s.h (fields); use: CodethinkLabs I2S.c, MediaTek
hdl_i2s.c / mhal_i2s.c / OS_HAL os_hal_i2s.c. DL is the output ("TX", chip to codec), UL the input ("RX").

Frames. The sample rate is DL/UL_CONTROL.SR: ((SR & 3) + 4) << ((SR >> 2) + 1) kHz (CodethinkLabs
MT3620_I2S_SR_CALC: 8, 12, 16, 24, 32, 48 kHz...). FMT 1 = I2S (two channels), 0 = TDM with 2 << CH_PER_S channels.
WLEN 0 = 16-bit samples, two per 32-bit FIFO word (the left/first one in the low half: CodethinkLabs' audio callback
writes left then right int16s into the DMA ring), 1 = 32-bit samples, one per word (MediaTek's sample,
MHAL_I2S_BITS_PER_SAMPLE_32). GLOBAL_CONTROL.DL_MONO sends one 16-bit sample per FIFO entry (CodethinkLabs uses
16-bit DMA beats for one channel), duplicated to both channels with DL_MONO_DUP. GLOBAL_CONTROL.LOOPBACK routes the
output frames back to the input (MediaTek "internal loopback mode": no pins needed); otherwise output goes to the
codec on the link and input comes from it.

Data path: each direction has a FIFO fed (DL) or drained (UL) by the CPU through the FIFO port or by DMA virtual-FIFO
channels 25 + 2i (DL) and 26 + 2i (UL) (CodethinkLabs MT3620_I2S_DMA_TX/RX, MediaTek VDMA_I2S0_TX_CH25 ...): a
running channel moves data whatever DMA_IF_CONTROL and the FIFO enable bits hold (CodethinkLabs sets DMA_MODE_SEL
and DL/ULFIFO_EN, MediaTek's driver neither; emulator-defined).
Frames move on the virtual clock at the sample rate, in batches of 16 frames (emulator-defined granularity).

Emulator-defined (docs/peripherals.md): FIFOs of 32 words; a DL frame due with the FIFO empty plays
DL_EMPTY_VALUE (with DL_EMPTY_VALUE_EN, else 0) and sets GLOBAL_INT_STS.DL_MI_UNDR; an UL frame arriving to a full
FIFO is dropped and sets UL_MI_OVF; GLOBAL_INT_STS_CLR clears the bits written 1; the interrupt line is STS & EN.
The frame clock runs from the SR field whether the controller is clock master or subordinate (SRC; the codec is
taken to run at the rate the chip expects). SOFT_RESET's bits reset the FIFOs and the engine while set.
"""
from __future__ import annotations

import logging
from collections import deque
from typing import Any

from mt3620.engine.simulation.clock import VirtualClock, ps_for_cycles
from mt3620.engine.simulation.peripheral import (COLD, Field, Link, Peripheral, Register, RegisterView, ResetKind,
                                                 Timer)
from mt3620.engine.simulation.protocols import DmaChannelHost
from mt3620.peripherals.buses.i2s import I2sDevice, I2sFormat, to_signed

log = logging.getLogger("mt3620.i2s")

I2S_BASES = (0x380D0000, 0x380E0000)
FIFO_PORT_BASES = (0x380F0000, 0x38100000)
FIFO_DEPTH = 32
BATCH = 16

# GLOBAL_INT_* bits (CTD mt3620_i2s_global_int_t)
DL_WFIFO_FULL, DL_RFIFO_EMPT, DL_FIFO_WRDY, DL_FIFO_RRDY = 1 << 0, 1 << 1, 1 << 4, 1 << 5
UL_WFIFO_FULL, UL_RFIFO_EMPT, UL_FIFO_WRDY, UL_FIFO_RRDY = 1 << 8, 1 << 9, 1 << 12, 1 << 13
DL_MI_OVF, DL_MI_UNDR, UL_MI_OVF, UL_MI_UNDR = 1 << 16, 1 << 17, 1 << 18, 1 << 19


def sample_rate(sr: int) -> int:
    """CodethinkLabs MT3620_I2S_SR_CALC."""
    return (((sr & 3) + 4) << ((sr >> 2) + 1)) * 1000


def _fifo_fields(prefix: str) -> tuple[Field, ...]:
    return (Field(prefix[0], 0, access="ro"), Field(prefix[1], 1, access="ro"), Field("CLEAR", 2),
            Field("FIFO_CNT", 8, 8, "ro"), Field("THR", 16, 8), Field("READY", 24, access="ro"))


class I2s(Peripheral):
    SIZE = 0x10000
    IRQS = ("irq",)
    REGISTERS = (
        Register(0x00, "GLOBAL_CONTROL", write="_control_written", fields=(
            Field("EN", 0), Field("DLFIFO_EN", 1), Field("ULFIFO_EN", 2), Field("ENGEN_EN", 3), Field("EXT_IO_CK", 4),
            Field("EXT", 5), Field("EXT_LRSW", 6), Field("DL_LRSW", 7), Field("DL_MONO", 8), Field("DL_MONO_DUP", 9),
            Field("MCLK_OUTPUT_EN", 10), Field("I2S_IN_CLK_EN", 11), Field("I2S_OUT_CLK_EN", 12),
            Field("X26M_SEL", 18), Field("EXT_BCLK_INV", 19), Field("NEG_CAP", 20), Field("DL_EMPTY_VALUE_EN", 22),
            Field("UL_EMPTY_VALUE_EN", 23), Field("CLK_SEL_IN", 24, 2), Field("CLK_SEL_OUT", 26, 2),
            Field("EXT_MCLK_SEL", 28, 2), Field("LOOPBACK", 31))),
        Register(0x04, "DL_CONTROL", write="_control_written", fields=(
            Field("EN", 0), Field("WLEN", 1), Field("SRC", 2), Field("FMT", 3), Field("DIR", 4), Field("WSINV", 5),
            Field("DLFIFO_2DEQ", 7), Field("SR", 8, 4), Field("BIT_PER_S", 13, 2), Field("WS_RSYNC", 15),
            Field("MSB_OFFSET", 17, 7), Field("CH_PER_S", 29, 2))),
        Register(0x08, "UL_CONTROL", write="_control_written", fields=(
            Field("EN", 0), Field("WLEN", 1), Field("SRC", 2), Field("FMT", 3), Field("DIR", 4), Field("WSINV", 5),
            Field("SR", 8, 4), Field("BIT_PER_S", 13, 2), Field("WS_RSYNC", 15), Field("DOWN_RATE", 16),
            Field("MSB_OFFSET", 17, 7), Field("UPDATE_WORD", 24, 5), Field("CH_PER_S", 29, 2), Field("LR_SWAP", 31))),
        Register(0x0C, "SOFT_RESET", write="_soft_reset_written", fields=(
            Field("SOFT_RST", 0), Field("GLB_SOFT_RST", 1), Field("DL_SOFT_RST", 4), Field("UL_SOFT_RST", 8))),
        Register(0x10, "DL_FIFO_W_CONTROL", read="_read_dl_w", write="_fifo_control_written",
                 fields=_fifo_fields(("AFULL", "FULL"))),
        Register(0x14, "DL_FIFO_R_CONTROL", read="_read_dl_r", write="_fifo_control_written",
                 fields=_fifo_fields(("AEMPTY", "EMPTY"))),
        Register(0x18, "UL_FIFO_W_CONTROL", read="_read_ul_w", write="_fifo_control_written",
                 fields=_fifo_fields(("AFULL", "FULL"))),
        Register(0x1C, "UL_FIFO_R_CONTROL", read="_read_ul_r", write="_fifo_control_written",
                 fields=_fifo_fields(("AEMPTY", "EMPTY"))),
        Register(0x20, "DL_EMPTY_VALUE_LR", fields=(Field("R", 0, 16), Field("L", 16, 16))),
        Register(0x24, "DL_EMPTY_VALUE_L1R1", fields=(Field("R1", 0, 16), Field("L1", 16, 16))),
        Register(0x28, "DEBUG_CONTROL", fields=(Field("DBG_SEL", 0, 4), Field("DBG_SWAP", 6),
                                                Field("DBG_SEL_SRC", 7))),
        Register(0x2C, "DEBUG_PROBE", access="ro"),
        Register(0x30, "DMA_IF_CONTROL", write="_control_written", fields=(
            Field("DL_DMAREQ_MI_NUM", 0, 2), Field("DL_AHB_EARLY_EN", 4), Field("DL_DMA_MODE_SEL", 15),
            Field("UL_DMAREQ_MI_NUM", 16, 2), Field("UL_AHB_EARLY_EN", 20), Field("UL_DMA_MODE_SEL", 31))),
        Register(0x40, "GLOBAL_INT_EN", write="_int_written"),
        Register(0x44, "GLOBAL_INT_STS_CLR", write="_sts_clr_written", access="wo"),
        Register(0x48, "GLOBAL_INT_STS", access="ro"),
    )
    STATE = ("dl", "ul", "frames_out", "frames_in", "underruns", "overflows", "_loop")

    tick = Timer("_tick")
    dma = Link(DmaChannelHost, many=True, bind="_serve_dma",
               doc="the IO cores' DMA controllers that may run this I2S's virtual-FIFO channels")

    def __init__(self, name: str | None = None, clock: VirtualClock | None = None, **attributes: Any) -> None:
        base = attributes.get("base_address")
        base = I2S_BASES[0] if base is None else int(base)
        if base not in I2S_BASES:
            raise ValueError(f"I2s: 0x{base:08x} is not an I2S controller (0x380D0000 or 0x380E0000)")
        self.index = I2S_BASES.index(base)
        self.devices: list[I2sDevice] = []
        super().__init__(name or f"i2s{self.index}", clock, **attributes)

    def reset(self, kind: ResetKind = COLD) -> None:
        super().reset(kind)
        self.dl: deque[int] = deque()
        self.ul: deque[int] = deque()
        self.frames_out = 0
        self.frames_in = 0
        self.underruns = 0
        self.overflows = 0
        self._loop: list[tuple[int, ...]] = []
        self.update_irq()

    # ---- wiring -------------------------------------------------------------------------------------------------
    @property
    def dma_channels(self) -> tuple[int, int]:
        return (25 + 2 * self.index, 26 + 2 * self.index)

    def _serve_dma(self, dma: DmaChannelHost) -> None:
        for ch in self.dma_channels:
            dma.attach_vfifo_peer(ch, self)

    def attach(self, device: I2sDevice) -> I2sDevice:
        """Put a codec on this controller's pins."""
        self.devices.append(device)
        return device

    def _dma_for(self, channel: int) -> DmaChannelHost | None:
        for dma in self.dma:
            if dma.vfifo_running(channel):
                return dma
        return None

    # VfifoPeer
    def vfifo_tx_space(self) -> int:
        return FIFO_DEPTH - len(self.dl) if self._dl_dma() else 0

    def vfifo_tx_put(self, value: int) -> None:
        if len(self.dl) < FIFO_DEPTH:
            self.dl.append(value & 0xFFFFFFFF)

    def vfifo_rx_drain(self) -> None:
        if not self._ul_dma():
            return
        dma = self._dma_for(self.dma_channels[1])
        while dma is not None and self.ul and dma.vfifo_rx_put(self.dma_channels[1], self.ul[0]):
            self.ul.popleft()

    def _dl_dma(self) -> bool:
        """A running DL channel feeds the FIFO whatever DMA_IF_CONTROL and DLFIFO_EN say: CodethinkLabs I2S.c
        sets DL_DMA_MODE_SEL and DLFIFO_EN, MediaTek's hdl_i2s.c sets neither (emulator-defined)."""
        return self._dma_for(self.dma_channels[0]) is not None

    def _ul_dma(self) -> bool:
        return self._dma_for(self.dma_channels[1]) is not None

    # ---- formats -----------------------------------------------------------------------------------------------------
    def _format(self, ctl: RegisterView) -> I2sFormat:
        channels = 2 if ctl.FMT else 2 << ctl.CH_PER_S
        return I2sFormat(sample_rate(ctl.SR), channels, 32 if ctl.WLEN else 16, tdm=not ctl.FMT)

    def output_format(self) -> I2sFormat:
        return self._format(self.regs.DL_CONTROL)

    def input_format(self) -> I2sFormat:
        return self._format(self.regs.UL_CONTROL)

    def _dl_words_per_frame(self, fmt: I2sFormat) -> int:
        if self.regs.GLOBAL_CONTROL.DL_MONO:
            return 1
        return max(1, fmt.channels * fmt.bits // 32)

    def _frame_from_words(self, words: list[int], fmt: I2sFormat) -> tuple[int, ...]:
        if self.regs.GLOBAL_CONTROL.DL_MONO:
            s = to_signed(words[0], 16)
            return (s, s if self.regs.GLOBAL_CONTROL.DL_MONO_DUP else 0) + (0,) * (fmt.channels - 2)
        if fmt.bits == 16:
            samples = []
            for w in words:
                samples += [to_signed(w, 16), to_signed(w >> 16, 16)]
        else:
            samples = [to_signed(w, 32) for w in words]
        frame = tuple(samples[:fmt.channels]) + (0,) * max(0, fmt.channels - len(samples))
        if self.regs.GLOBAL_CONTROL.DL_LRSW and len(frame) >= 2:
            frame = (frame[1], frame[0]) + frame[2:]
        return frame

    @staticmethod
    def _words_from_frame(frame: tuple[int, ...], fmt: I2sFormat, swap: bool) -> list[int]:
        frame = tuple(frame) + (0,) * max(0, fmt.channels - len(frame))
        if swap and len(frame) >= 2:
            frame = (frame[1], frame[0]) + frame[2:]
        if fmt.bits == 16:
            return [(frame[i] & 0xFFFF) | (frame[i + 1] & 0xFFFF) << 16 for i in range(0, fmt.channels, 2)]
        return [v & 0xFFFFFFFF for v in frame[:fmt.channels]]

    # ---- the engine ---------------------------------------------------------------------------------------------------
    def _dl_on(self) -> bool:
        g = self.regs.GLOBAL_CONTROL
        return bool(g.EN and self.regs.DL_CONTROL.EN and not self._in_reset())

    def _ul_on(self) -> bool:
        g = self.regs.GLOBAL_CONTROL
        return bool(g.EN and self.regs.UL_CONTROL.EN and not self._in_reset())

    def _in_reset(self) -> bool:
        return bool(self.regs.SOFT_RESET.value & 0x13)

    def _batch_ps(self) -> int:
        ctl = self.regs.DL_CONTROL if self.regs.DL_CONTROL.EN else self.regs.UL_CONTROL
        return ps_for_cycles(BATCH, sample_rate(ctl.SR))

    def _control_written(self, value: int) -> None:
        if (self._dl_on() or self._ul_on()) and not self.tick.armed:
            self.tick.start(self._batch_ps())
        elif not (self._dl_on() or self._ul_on()):
            self.tick.cancel()
        self.vfifo_rx_drain()
        if self._dl_dma():
            for dma in self.dma:
                dma.vfifo_tx_ready(self.dma_channels[0])

    def _tick(self) -> None:
        now = self.clock.now
        out_frames: list[tuple[int, ...]] = []
        if self._dl_on():
            fmt = self.output_format()
            per = self._dl_words_per_frame(fmt)
            for _ in range(BATCH):
                if len(self.dl) >= per:
                    words = [self.dl.popleft() for _ in range(per)]
                    out_frames.append(self._frame_from_words(words, fmt))
                else:
                    self.dl.clear()
                    self.underruns += 1
                    self._status(DL_MI_UNDR)
                    empty = self.regs.DL_EMPTY_VALUE_LR
                    if self.regs.GLOBAL_CONTROL.DL_EMPTY_VALUE_EN:
                        frame = (to_signed(empty.L, 16), to_signed(empty.R, 16))
                    else:
                        frame = (0, 0)
                    out_frames.append(frame + (0,) * (fmt.channels - 2))
            self.frames_out += len(out_frames)
            if self.regs.GLOBAL_CONTROL.LOOPBACK:
                self._loop.extend(out_frames)
            else:
                for device in self.devices:
                    device.i2s_playback(out_frames, fmt, now)
            if self._dl_dma():
                for dma in self.dma:
                    dma.vfifo_tx_ready(self.dma_channels[0])
        if self._ul_on():
            fmt = self.input_format()
            if self.regs.GLOBAL_CONTROL.LOOPBACK:
                frames = self._loop[:BATCH]
                del self._loop[:BATCH]
                frames += [(0,) * fmt.channels] * (BATCH - len(frames))
            elif self.devices:
                frames = self.devices[0].i2s_capture(BATCH, fmt, now)
            else:
                frames = [(0,) * fmt.channels] * BATCH
            swap = bool(self.regs.UL_CONTROL.LR_SWAP)
            for frame in frames:
                for word in self._words_from_frame(frame, fmt, swap):
                    if len(self.ul) >= FIFO_DEPTH:
                        self.overflows += 1
                        self._status(UL_MI_OVF)
                        self.vfifo_rx_drain()
                        if len(self.ul) >= FIFO_DEPTH:
                            continue
                    self.ul.append(word)
                self.vfifo_rx_drain()
            self.frames_in += len(frames)
        elif self._loop:
            self._loop.clear()
        if self._dl_on() or self._ul_on():
            self.tick.start(self._batch_ps())

    # ---- status and interrupts ------------------------------------------------------------------------------------------
    def _status(self, bits: int) -> None:
        self.regs.GLOBAL_INT_STS.value |= bits
        self.update_irq()

    def update_irq(self) -> None:
        self.irq[0].set(bool(self.regs.GLOBAL_INT_STS.value & self.regs.GLOBAL_INT_EN.value))

    def _int_written(self, value: int) -> None:
        self.update_irq()

    def _sts_clr_written(self, value: int) -> None:
        self.regs.GLOBAL_INT_STS.value &= ~value
        self.regs.GLOBAL_INT_STS_CLR.value = 0
        self.update_irq()

    def _soft_reset_written(self, value: int) -> None:
        r = self.regs.SOFT_RESET
        if r.SOFT_RST or r.GLB_SOFT_RST or r.DL_SOFT_RST:
            self.dl.clear()
        if r.SOFT_RST or r.GLB_SOFT_RST or r.UL_SOFT_RST:
            self.ul.clear()
            self._loop.clear()
        if r.GLB_SOFT_RST:
            self.regs.GLOBAL_INT_STS.value = 0
        self._control_written(value)

    def _fifo_reg(self, fifo: deque, name: str, full_side: bool) -> int:
        reg = self.regs.view(name)
        count = len(fifo)
        value = reg.value & 0x00FF0004             # THR and CLEAR as written
        if full_side:
            value |= int(count >= FIFO_DEPTH - 1) | int(count >= FIFO_DEPTH) << 1
            value |= int(count < FIFO_DEPTH) << 24
        else:
            value |= int(count <= 1) | int(count == 0) << 1
            value |= int(count > 0) << 24
        return value | count << 8

    def _read_dl_w(self) -> int:
        return self._fifo_reg(self.dl, "DL_FIFO_W_CONTROL", True)

    def _read_dl_r(self) -> int:
        return self._fifo_reg(self.dl, "DL_FIFO_R_CONTROL", False)

    def _read_ul_w(self) -> int:
        return self._fifo_reg(self.ul, "UL_FIFO_W_CONTROL", True)

    def _read_ul_r(self) -> int:
        return self._fifo_reg(self.ul, "UL_FIFO_R_CONTROL", False)

    def _fifo_control_written(self, value: int) -> None:
        if self.regs.DL_FIFO_W_CONTROL.CLEAR or self.regs.DL_FIFO_R_CONTROL.CLEAR:
            self.dl.clear()
        if self.regs.UL_FIFO_W_CONTROL.CLEAR or self.regs.UL_FIFO_R_CONTROL.CLEAR:
            self.ul.clear()
        for name in ("DL_FIFO_W_CONTROL", "DL_FIFO_R_CONTROL", "UL_FIFO_W_CONTROL", "UL_FIFO_R_CONTROL"):
            self.regs.view(name).CLEAR = 0

    # ---- the FIFO port (CPU access) ---------------------------------------------------------------------------------------
    def port_write(self, value: int) -> None:
        if len(self.dl) < FIFO_DEPTH:
            self.dl.append(value & 0xFFFFFFFF)
        else:
            self._status(DL_MI_OVF)

    def port_read(self) -> int:
        if not self.ul:
            self._status(UL_MI_UNDR)
            return 0
        return self.ul.popleft()


class I2sFifoPort(Peripheral):
    """The FIFO data port of an I2S controller (CodethinkLabs mt3620_i2s_fifo: 0x380F0000 for I2S0, 0x38100000 for
    I2S1): a write queues a word for output, a read takes a received word. Linked to its controller (`i2s`)."""
    SIZE = 0x1000
    REGISTERS = (Register(0x00, "FIFO", read="_read_fifo", write="_write_fifo"),)

    i2s = Link(I2s, doc="the I2S controller whose FIFOs this port reaches")

    def __init__(self, name: str | None = None, clock: VirtualClock | None = None, **attributes: Any) -> None:
        base = attributes.get("base_address")
        if base is not None and int(base) not in FIFO_PORT_BASES:
            raise ValueError(f"I2sFifoPort: 0x{int(base):08x} is not an I2S FIFO port (0x380F0000 or 0x38100000)")
        super().__init__(name or "i2s_fifo", clock, **attributes)

    def read(self, offset: int, size: int = 4, access: Any = None) -> int:
        value = self._read_fifo() if self.i2s is not None else 0
        return (value >> ((offset & 3) * 8)) & ((1 << (8 * size)) - 1)

    def write(self, offset: int, size: int, value: int, access: Any = None) -> None:
        if self.i2s is not None:
            self.i2s.port_write(value)

    def _read_fifo(self) -> int:
        return self.i2s.port_read() if self.i2s is not None else 0

    def _write_fifo(self, value: int) -> None:
        if self.i2s is not None:
            self.i2s.port_write(value)
