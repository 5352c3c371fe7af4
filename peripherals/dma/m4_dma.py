"""MT3620 IO-core DMA (0x21080000, 30 channels of 0x100 bytes; global registers at +0x4000), IRQ 77.

Register map: CodethinkLabs/mt3620-m4-drivers mt3620/dma.h (mt3620_dma_t, mt3620_dma_global_t) and
MediaTek-Labs/mt3620_m4_software MT3620_M4_Driver/HDL/inc/hdl_dma.h (offsets and bits). Channel kinds
(os_hal_dma.h enum dma_channel): 0-9 half-size (ISU TX/RX), 12 full-size (memory to memory), 13-22 virtual-FIFO
(VFF) ISU0-4 TX/RX, 25-28 VFF I2S0/1 TX/RX, 29 VFF ADC RX.

The register map is declared below (REGISTERS): 30 channels of 0x100 bytes (an array), the global block at +0x4000.

Data moves through a `memory` object (read(addr, size, access) -> bytes, write(addr, data, access)), the IO
core's bus view: the required keyword argument `memory=` (the machine passes the view). The bus clock comes from
the `hclk` link (the core's RGU; 26 MHz without one). Timing (emulator-defined): a full-size or free-running
half-size transfer moves one beat per HCLK cycle and its data is written when it completes (or up to the beat reached when it is stopped early); virtual-FIFO channels move data as
soon as both the ring and the peripheral allow it.

Virtual FIFOs (VFF): a ring of FFSIZE beats at PGMADDR; SWPTR and HWPTR are byte offsets into it (FFSIZE, FFCNT
and COUNT count beats: MediaTek hdl_dma.c converts bytes to beats for FFSIZE/COUNT/FFCNT and not for the pointers,
mhal_dma.c mtk_mhal_dma_update_swptr advances SWPTR by bytes; CodethinkLabs ADC.c and I2S.c shift SWPTR by the
beat size). For a TX channel (DIR 0) software writes data and advances SWPTR; the DMA feeds the peripheral from
HWPTR. For an RX channel (DIR 1) the DMA writes at HWPTR and
software consumes up to SWPTR. The wrap bits make a full ring distinguishable from an empty one. Starting a VFF
channel (STR 0 -> 1) puts HWPTR back to 0 (CodethinkLabs UART.c rewrites its TX ring from index 0 for every
transfer). Peripherals take part through `attach_vfifo_peer(channel, peer)` (an ISU UART does it when the platform
links it to this DMA: `dma: [io0_dma, io1_dma]`); a beat is handed over as an integer of the beat's size.

DREQ-paced half-size channels (the ISU I2C and SPI FIFOs): the peripheral registers with
`attach_dreq_peer(channel, peer)`; starting such a channel calls `peer.dma_started(channel)`, and the peripheral
moves beats with `request(channel, beats)` whenever its FIFO can give or take them (the DMA handshake).
"""
from __future__ import annotations

import logging
from typing import Any

from mt3620.engine.simulation.access import Access, BusError
from mt3620.engine.simulation.clock import PS_PER_SECOND, VirtualClock, ps_for_cycles
from mt3620.engine.simulation.peripheral import (COLD, Field, Link, Peripheral, Register, RegisterArray,
                                                 RegisterView, ResetKind, Timer)
from mt3620.engine.simulation.protocols import ClockSource, DmaRequestPeer, VfifoPeer

log = logging.getLogger("mt3620.dma")

CHANNELS = 30
CH_STRIDE = 0x100
GLOBAL = 0x4000
HALF_SIZE = frozenset(range(0, 10))
FULL_SIZE = frozenset({12})
VFF = frozenset(list(range(13, 23)) + list(range(25, 30)))
DMA_ACCESS = Access("dma")
XTAL_HZ = 26_000_000
ALL_CHANNELS = (1 << CHANNELS) - 1
BEAT_BYTES = {0: 1, 1: 2, 2: 4}             # CON.SIZE; 3 is taken as 4 bytes


def _pointer(name: str, access: str = "rw") -> tuple[Field, ...]:
    """A ring pointer: index in beats and the wrap bit that tells a full ring from an empty one."""
    return (Field(name, 0, 16, access), Field(f"{name}_WRAP", 16, 1, access))


class M4Dma(Peripheral):
    SIZE = 0x5000
    IRQS = ("irq",)
    REGISTERS = (
        RegisterArray("CH", 0, count=CHANNELS, stride=CH_STRIDE, names="CH{i}_{reg}", registers=(
            Register(0x00, "SRC"),
            Register(0x04, "DST"),
            Register(0x08, "WPPT", fields=(Field("WPPT", 0, 16),)),
            Register(0x0C, "WPTO"),
            Register(0x10, "COUNT", fields=(Field("LEN", 0, 16), Field("RLLEN", 16))),
            Register(0x14, "CON", write="_con_written", fields=(
                Field("SIZE", 0, 2), Field("SINC", 2), Field("DINC", 3), Field("DREQ", 4), Field("B2W", 5),
                Field("BURST", 8, 3), Field("HITEN", 13), Field("TOEN", 14), Field("ITEN", 15),
                Field("WPSD", 16, doc="1 = wrap the destination"), Field("WPEN", 17),
                Field("DIR", 18, doc="1 = peripheral to memory (RX)"))),
            Register(0x18, "START", fields=(Field("STR", 15),), write="_start_written"),
            Register(0x1C, "INTSTA", fields=(Field("HINT", 13, access="ro"), Field("INT", 15, access="ro"),
                                             Field("TOINT", 16, access="ro"))),
            Register(0x20, "ACKINT", write="_ack_written", fields=(
                Field("HACK", 13, access="wo"), Field("ACK", 15, access="wo"), Field("TOACK", 16, access="wo"))),
            Register(0x24, "RLCT", access="ro", read="_read_rlct", volatile=True),
            Register(0x28, "LIMITER", fields=(Field("LIMITER", 0, 8),)),
            Register(0x2C, "PGMADDR"),
            Register(0x38, "FFCNT", access="ro", read="_read_ffcnt"),
            Register(0x3C, "FFSTA", read="_read_ffsta", fields=(
                Field("FULL", 0, access="ro"), Field("EMPTY", 1, access="ro", reset=1), Field("ALT", 2, access="ro"))),
            Register(0x40, "ALTLEN", fields=(Field("ALTLEN", 0, 16), Field("ALTSCM", 31))),
            Register(0x44, "FFSIZE", fields=(Field("FFSIZE", 0, 16),)),
            Register(0x50, "TO"),
            Register(0x58, "HWPTR", fields=_pointer("HWPTR", "ro")),
            Register(0x5C, "SWPTR", fields=_pointer("SWPTR"), write="_swptr_written"),
            Register(0x60, "FIXADDR"),
        )),
        Register(GLOBAL + 0x00, "GLBSTA0", access="ro", read="_read_glbsta0"),
        Register(GLOBAL + 0x04, "GLBSTA1", access="ro", read="_read_glbsta1"),
        Register(GLOBAL + 0x08, "CH_RST", reset=ALL_CHANNELS, write="_ch_rst_written",
                 doc="bit n low holds channel n in reset (hdl_dma.c mtk_hdl_dma_reset_chn pulses it low)"),
        Register(GLOBAL + 0x0C, "GLO_CON"),
        Register(GLOBAL + 0x10, "GROUP0"),
        Register(GLOBAL + 0x14, "GROUP1"),
        Register(GLOBAL + 0x18, "ISU_VFIFO"),
        Register(GLOBAL + 0x1C, "ISU_VFIFO_ERR", access="w1c"),
        Register(GLOBAL + 0x20, "CH_EN", access="ro", doc="channel clocks: a channel starts only with its bit set"),
        Register(GLOBAL + 0x24, "CH_EN_SET", fields=(Field("EN", 0, CHANNELS, "w1s"),), alias_of="CH_EN",
                 read="_read_ch_en"),
        Register(GLOBAL + 0x28, "CH_EN_CLR", fields=(Field("EN", 0, CHANNELS, "w1c"),), alias_of="CH_EN",
                 read="_read_ch_en", write="_ch_en_cleared"),
        Register(GLOBAL + 0x30, "GLB_PAUSE", write="_pause_written"),
        Register(GLOBAL + 0x34, "GLB_STA_PAUSE", access="ro", read="_read_sta_pause"),
        Register(GLOBAL + 0x50, "SET_DREQ", write="_set_dreq"),
        Register(GLOBAL + 0x58, "CLR_DREQ", write="_clr_dreq"),
    )
    STATE = ("running", "started_at", "beats_done", "dreq", "bus_errors")

    block = Timer("_block_done", count=CHANNELS)       # a block transfer (full-size, free-running half-size) ends
    hclk = Link(ClockSource, doc="the core's bus clock (the RGU): one beat per HCLK cycle")

    def __init__(self, name: str | None = None, clock: VirtualClock | None = None, *, memory: Any,
                 **attributes: Any) -> None:
        """`memory`: what transfers go through (required keyword, so the machine passes the core's bus view)."""
        self._peers: dict[int, VfifoPeer] = {}
        self._dreq_peers: dict[int, list[DmaRequestPeer]] = {}
        self._memory = memory
        super().__init__(name or "m4_dma", clock, **attributes)

    # ---- life cycle -------------------------------------------------------------------------------------------
    def reset(self, kind: ResetKind = COLD) -> None:
        super().reset(kind)
        self.running = [False] * CHANNELS
        self.started_at: list[int | None] = [None] * CHANNELS
        self.beats_done = [0] * CHANNELS      # beats already written for a stopped/completed block transfer
        self.dreq = 0
        self.bus_errors = 0
        self.update_irq()

    # ---- wiring -------------------------------------------------------------------------------------------------
    def attach_memory(self, memory: Any) -> None:
        self._memory = memory

    def attach_vfifo_peer(self, channel: int, peer: VfifoPeer) -> None:
        """`peer` serves VFF `channel`: TX peers offer vfifo_tx_space() and vfifo_tx_put(byte); RX peers offer
        vfifo_rx_drain() (called when the ring gained room)."""
        self._peers[channel] = peer

    def attach_dreq_peer(self, channel: int, peer: DmaRequestPeer) -> None:
        """`peer` paces DREQ half-size `channel`: told by `dma_started(channel)` when it starts, it then calls
        `request(channel, beats)` as its FIFO allows. An ISU's I2C, SPI master and SPI subordinate share its two
        channels: each is told, and the one in DMA mode takes it."""
        peers = self._dreq_peers.setdefault(channel, [])
        if peer not in peers:
            peers.append(peer)

    def channel_running(self, n: int) -> bool:
        return 0 <= n < CHANNELS and self.running[n]

    @property
    def hclk_hz(self) -> int:
        return self.hclk.hz if self.hclk is not None else XTAL_HZ

    # ---- derived --------------------------------------------------------------------------------------------------
    def kind(self, n: int) -> str:
        return "full" if n in FULL_SIZE else "half" if n in HALF_SIZE else "vff" if n in VFF else "none"

    def _unit(self, n: int) -> int:
        return BEAT_BYTES.get(self.regs.CH[n].CON.SIZE, 4)

    def _length(self, n: int) -> int:
        return self.regs.CH[n].COUNT.LEN

    def update_irq(self) -> None:
        self.irq[0].set(any(ch.INTSTA.value for ch in self.regs.CH))

    def _set_int(self, n: int) -> None:
        self.regs.CH[n].INTSTA.INT = 1
        self.update_irq()

    # ---- read hooks ---------------------------------------------------------------------------------------------
    def _beats_now(self, n: int) -> int:
        if not self.running[n] or self.started_at[n] is None:
            return self.beats_done[n]
        elapsed = self.clock.now - self.started_at[n]
        return min(self._length(n), elapsed * self.hclk_hz // PS_PER_SECOND)

    def _read_rlct(self, n: int) -> int:
        if n in VFF:
            return 0
        return max(0, self._length(n) - self._beats_now(n))

    def _ring(self, n: int) -> int:
        return self.regs.CH[n].FFSIZE.FFSIZE

    def ffcnt(self, n: int) -> int:
        size = self._ring(n)
        if n not in VFF or size == 0:
            return 0
        ch = self.regs.CH[n]
        unit = self._unit(n)
        hw = self._pos(ch.HWPTR.HWPTR // unit, ch.HWPTR.HWPTR_WRAP, size)
        sw = self._pos(ch.SWPTR.SWPTR // unit, ch.SWPTR.SWPTR_WRAP, size)
        writer, reader = (sw, hw) if self._is_tx(n) else (hw, sw)
        return (writer - reader) % (2 * size)

    @staticmethod
    def _pos(index: int, wrap: int, size: int) -> int:
        """A ring pointer (in beats) -> position on a 2*size circle."""
        return index % size + (size if wrap else 0)

    def _is_tx(self, n: int) -> bool:
        return not self.regs.CH[n].CON.DIR

    def _read_ffcnt(self, n: int) -> int:
        return self.ffcnt(n)

    def _read_ffsta(self, n: int) -> int:
        sta = self.regs.CH[n].FFSTA
        if n in VFF:
            cnt, size, alt = self.ffcnt(n), self._ring(n), self.regs.CH[n].ALTLEN.ALTLEN
            sta.FULL, sta.EMPTY, sta.ALT = bool(size and cnt >= size), cnt == 0, bool(alt and size - cnt <= alt)
        return sta.value                  # a channel without a FIFO reads empty (the reset value)

    def _glbsta(self, first: int) -> int:
        value = 0
        for n in range(first, min(first + 16, CHANNELS)):
            if self.running[n]:
                value |= 1 << (2 * (n % 16))
            if self.regs.CH[n].INTSTA.value:
                value |= 2 << (2 * (n % 16))
        return value

    def _read_glbsta0(self) -> int:
        return self._glbsta(0)

    def _read_glbsta1(self) -> int:
        return self._glbsta(16)

    def _read_ch_en(self) -> int:
        return self.regs.CH_EN.value

    def _read_sta_pause(self) -> int:
        return self.regs.GLB_PAUSE.value & sum(1 << n for n in range(CHANNELS) if self.running[n])

    def _paused(self, n: int) -> bool:
        return bool(self.regs.GLB_PAUSE.value >> n & 1)

    # ---- write hooks (channel) ----------------------------------------------------------------------------------
    def _con_written(self, n: int, value: int) -> None:
        if n in VFF and self.running[n]:
            self._pump(n)

    def _start_written(self, n: int, value: int, old: RegisterView) -> None:
        now_on = bool(self.regs.CH[n].START.STR)
        if now_on and not old.STR:
            self._start(n)
        elif not now_on and old.STR:
            self._stop(n)

    def _ack_written(self, n: int, value: int) -> None:
        ch = self.regs.CH[n]
        ch.INTSTA.value &= ~ch.ACKINT.value         # ACKINT bits line up with the INTSTA bits they clear
        ch.ACKINT.value = 0
        if n in VFF and self.running[n]:
            self._vff_check_threshold(n)            # the threshold condition is a level: still met, raised again
        self.update_irq()

    def _swptr_written(self, n: int, value: int) -> None:
        if n in VFF and self.running[n]:
            self._pump(n)

    # ---- write hooks (global) -----------------------------------------------------------------------------------
    def _ch_en_cleared(self, value: int) -> None:
        for n in range(CHANNELS):
            if self.running[n] and not self.regs.CH_EN.value >> n & 1:
                self._stop(n)

    def _ch_rst_written(self, value: int) -> None:
        for n in range(CHANNELS):
            if not value >> n & 1:
                self._reset_channel(n)

    def _pause_written(self, value: int) -> None:
        for n in range(CHANNELS):
            if self.running[n] and not value >> n & 1 and n in VFF:
                self._pump(n)

    def _set_dreq(self, value: int) -> None:
        self.dreq |= value & ALL_CHANNELS

    def _clr_dreq(self, value: int) -> None:
        self.dreq &= ~value

    # ---- channel engine -----------------------------------------------------------------------------------------
    def _reset_channel(self, n: int) -> None:
        self.block[n].cancel()
        self.regs.CH[n].reset()
        self.running[n] = False
        self.started_at[n] = None
        self.beats_done[n] = 0
        self.update_irq()

    def _start(self, n: int) -> None:
        if not self.regs.CH_EN.value >> n & 1 or self.kind(n) == "none":
            # A channel without its clock (CH_EN) or a channel number the chip lacks does not start; STR reads 0.
            log.info("%s: channel %d cannot start (%s)", self.name, n,
                     "no such channel" if self.kind(n) == "none" else "clock off in CH_EN")
            self.regs.CH[n].START.STR = 0
            return
        self.running[n] = True
        self.beats_done[n] = 0
        if n in VFF:
            self.regs.CH[n].HWPTR.value = 0
            self._pump(n)
            return
        if n in HALF_SIZE and self.regs.CH[n].CON.DREQ:
            # Paced by the peripheral's requests (`request(n)`): tell it the channel is ready.
            self.started_at[n] = None
            for peer in list(self._dreq_peers.get(n, ())):
                if self.running[n]:
                    peer.dma_started(n)
            return
        self.started_at[n] = self.clock.now
        remaining = self._length(n) - self._beats_now(n)
        self.block[n].start(ps_for_cycles(remaining, self.hclk_hz) if remaining > 0 else 0)

    def _stop(self, n: int) -> None:
        self.block[n].cancel()
        if self.running[n] and n not in VFF and self.started_at[n] is not None:
            done = self._beats_now(n)
            self._copy_beats(n, self.beats_done[n], done)
            self.beats_done[n] = done
        self.running[n] = False
        self.started_at[n] = None
        self.update_irq()

    def _block_done(self, n: int) -> None:
        length = self._length(n)
        self._copy_beats(n, self.beats_done[n], length)
        self.beats_done[n] = length
        self.running[n] = False
        self.started_at[n] = None
        ch = self.regs.CH[n]
        if ch.CON.ITEN:
            ch.INTSTA.INT = 1
        if n in HALF_SIZE and ch.CON.HITEN:
            ch.INTSTA.HINT = 1
        ch.START.STR = 0
        self.update_irq()

    def _addresses(self, n: int) -> tuple[int, int]:
        """(source, destination) base addresses: full-size SRC/DST; half-size PGMADDR <-> FIXADDR by DIR."""
        ch = self.regs.CH[n]
        if n in FULL_SIZE:
            return ch.SRC.value, ch.DST.value
        pgm, fix = ch.PGMADDR.value, ch.FIXADDR.value
        return (fix, pgm) if ch.CON.DIR else (pgm, fix)

    def _copy_beats(self, n: int, first: int, last: int) -> None:
        """Perform beats [first, last) of a block transfer through the memory object."""
        if last <= first:
            return
        mem = self._memory
        if mem is None:
            log.warning("%s: channel %d has no memory to transfer through (attribute `memory`)", self.name, n)
            self.bus_errors += 1
            return
        ch = self.regs.CH[n]
        con = ch.CON
        unit = self._unit(n)
        sinc, dinc = bool(con.SINC), bool(con.DINC)
        if n in HALF_SIZE:
            # The memory side increments, the peripheral side is fixed (FIXADDR).
            sinc, dinc = (False, True) if con.DIR else (True, False)
        src0, dst0 = self._addresses(n)
        wrap_at = ch.WPPT.WPPT if con.WPEN else 0
        wrap_to = ch.WPTO.value
        wrap_dst = bool(con.WPSD)
        try:
            if sinc and dinc and not wrap_at:
                data = mem.read(src0 + first * unit, (last - first) * unit, DMA_ACCESS)
                mem.write(dst0 + first * unit, data, DMA_ACCESS)
                return
            for beat in range(first, last):
                s = self._beat_address(src0, beat, unit, sinc, wrap_at if not wrap_dst else 0, wrap_to)
                d = self._beat_address(dst0, beat, unit, dinc, wrap_at if wrap_dst else 0, wrap_to)
                mem.write(d, mem.read(s, unit, DMA_ACCESS), DMA_ACCESS)
        except BusError as exc:
            # A transfer that reaches nothing stops the channel; the guest sees it never completing.
            self.bus_errors += 1
            log.warning("%s: channel %d stopped by a bus error: %s", self.name, n, exc)

    @staticmethod
    def _beat_address(base: int, beat: int, unit: int, inc: bool, wrap_at: int, wrap_to: int) -> int:
        if not inc:
            return base
        if wrap_at and beat >= wrap_at:
            return wrap_to + (beat - wrap_at) * unit
        return base + beat * unit

    def request(self, n: int, beats: int = 1) -> int:
        """A peripheral's DMA request for a DREQ-paced half-size channel: move up to `beats` beats now; returns how
        many moved (0 when the channel is not running or has finished)."""
        if not (0 <= n < CHANNELS and self.running[n] and n in HALF_SIZE) or beats <= 0:
            return 0
        length = self._length(n)
        first = self.beats_done[n]
        target = min(length, first + beats)
        errors = self.bus_errors
        self._copy_beats(n, first, target)
        if self.bus_errors != errors:
            # A beat that reaches nothing stops the channel: it never completes (logged in _copy_beats).
            self.running[n] = False
            return 0
        self.beats_done[n] = target
        if target >= length:
            self._block_done(n)
        return target - first

    def remaining(self, n: int) -> int:
        """Beats a running half-size or full-size channel has still to move."""
        if not (0 <= n < CHANNELS) or not self.running[n]:
            return 0
        return max(0, self._length(n) - self._beats_now(n))

    # ---- virtual FIFOs ------------------------------------------------------------------------------------------
    def _advance_hwptr(self, n: int, size: int, unit: int) -> None:
        """HWPTR moves one beat (`unit` bytes) around a ring of `size` beats, toggling its wrap bit at the end."""
        hw = self.regs.CH[n].HWPTR
        offset = (hw.HWPTR // unit + 1) * unit
        if offset >= size * unit:
            offset = 0
            hw.HWPTR_WRAP ^= 1
        hw.HWPTR = offset & 0xFFFF

    def _vff_check_threshold(self, n: int) -> None:
        if not self.regs.CH[n].CON.ITEN:
            return
        threshold = self._length(n)
        cnt = self.ffcnt(n)
        # RX: data count reached the threshold; TX: data count fell to it or below (os_hal_dma.h fifo_thrsh).
        if (self._is_tx(n) and cnt <= threshold) or (not self._is_tx(n) and cnt >= threshold):
            self._set_int(n)

    def _ring_address(self, n: int, unit: int) -> int:
        ch = self.regs.CH[n]
        return ch.PGMADDR.value + (ch.HWPTR.HWPTR // unit) * unit

    def _pump(self, n: int) -> None:
        """Move what the ring and the peripheral allow on a running VFF channel."""
        if not self.running[n] or self._paused(n):
            return
        size = self._ring(n)
        if size == 0:
            return
        peer = self._peers.get(n)
        if not self._is_tx(n):
            if peer is not None:
                peer.vfifo_rx_drain()
            return
        mem = self._memory
        if peer is None or mem is None:
            self._vff_check_threshold(n)
            return
        unit = self._unit(n)
        while self.ffcnt(n) > 0 and peer.vfifo_tx_space() > 0:
            try:
                data = mem.read(self._ring_address(n, unit), unit, DMA_ACCESS)
            except BusError as exc:
                self.bus_errors += 1
                log.warning("%s: channel %d stopped by a bus error: %s", self.name, n, exc)
                self.running[n] = False
                return
            self._advance_hwptr(n, size, unit)
            peer.vfifo_tx_put(int.from_bytes(data, "little"))
        self._vff_check_threshold(n)                # a TX ring at or below its threshold asks for data

    def vfifo_tx_ready(self, n: int) -> None:
        """The TX peer has room again (its FIFO drained)."""
        if n in VFF and self.running[n]:
            self._pump(n)

    def vfifo_rx_put(self, n: int, byte: int) -> bool:
        """An RX peer hands over one received beat (a byte, or a 16/32-bit word on wider channels); False when the
        channel is not running or the ring is full."""
        if n not in VFF or not self.running[n] or self._is_tx(n) or self._paused(n):
            return False
        size = self._ring(n)
        if size == 0 or self.ffcnt(n) >= size:
            return False
        mem = self._memory
        if mem is None:
            return False
        unit = self._unit(n)
        try:
            mem.write(self._ring_address(n, unit), (byte & ((1 << (8 * unit)) - 1)).to_bytes(unit, "little"),
                      DMA_ACCESS)
        except BusError as exc:
            self.bus_errors += 1
            log.warning("%s: channel %d stopped by a bus error: %s", self.name, n, exc)
            self.running[n] = False
            return False
        self._advance_hwptr(n, size, unit)
        self._vff_check_threshold(n)
        return True

    def vfifo_running(self, n: int) -> bool:
        return n in VFF and self.running[n]
