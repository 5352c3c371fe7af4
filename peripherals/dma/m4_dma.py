"""MT3620 IO-core DMA (0x21080000, 30 channels of 0x100 bytes; global registers at +0x4000), IRQ 77.

Register map: CodethinkLabs/mt3620-m4-drivers mt3620/dma.h (mt3620_dma_t, mt3620_dma_global_t) and
MediaTek-Labs/mt3620_m4_software MT3620_M4_Driver/HDL/inc/hdl_dma.h (offsets and bits). Channel kinds
(os_hal_dma.h enum dma_channel): 0-9 half-size (ISU TX/RX), 12 full-size (memory to memory), 13-22 virtual-FIFO
(VFF) ISU0-4 TX/RX, 25-28 VFF I2S0/1 TX/RX, 29 VFF ADC RX.

Channel registers (+0x100 * n): 0x00 SRC, 0x04 DST, 0x08 WPPT, 0x0C WPTO, 0x10 COUNT (LEN[15:0], RLLEN bit16),
0x14 CON (SIZE[1:0], SINC 2, DINC 3, DREQ 4, B2W 5, BURST[10:8], HITEN 13, TOEN 14, ITEN 15, WPSD 16, WPEN 17,
DIR 18), 0x18 START (STR bit15), 0x1C INTSTA (HINT 13, INT 15, TOINT 16), 0x20 ACKINT (same bits, write 1),
0x24 RLCT, 0x28 LIMITER, 0x2C PGMADDR, 0x38 FFCNT, 0x3C FFSTA (FULL 0, EMPTY 1, ALERT 2), 0x40 ALTLEN, 0x44 FFSIZE,
0x50 TO, 0x58 HWPTR, 0x5C SWPTR (pointer [15:0], wrap bit16), 0x60 FIXADDR.
Global (+0x4000): 0x00/0x04 GLBSTA0/1 (channel n: RUN bit 2(n%16), IT bit 2(n%16)+1), 0x08 CH_RST, 0x0C GLO_CON,
0x10/0x14 GROUP0/1, 0x18 ISU_VFIFO, 0x1C ISU_VFIFO_ERR, 0x20 CH_EN, 0x24 CH_EN_SET, 0x28 CH_EN_CLR, 0x30 GLB_PAUSE,
0x34 GLB_STA_PAUSE, 0x50 SET_DREQ, 0x58 CLR_DREQ.

Data moves through a `memory` object (read(addr, size, access) -> bytes, write(addr, data, access)), normally
the IO core's bus view: the required keyword argument `memory=` (the machine passes the view), or with
memory=None the machine's shared object "memory_<cpu>". Timing
(emulator-defined): a full-size or free-running half-size transfer moves one beat per HCLK cycle and its data is
written when it completes (or up to the beat reached when it is stopped early); virtual-FIFO channels move data as
soon as both the ring and the peripheral allow it.

Virtual FIFOs (VFF): a ring of FFSIZE beats at PGMADDR. For a TX channel (DIR 0) software writes data and
advances SWPTR; the DMA feeds the peripheral from HWPTR. For an RX channel (DIR 1) the DMA writes at HWPTR and
software consumes up to SWPTR. The wrap bits make a full ring distinguishable from an empty one. Starting a VFF
channel (STR 0 -> 1) puts HWPTR back to 0 (CodethinkLabs UART.c rewrites its TX ring from index 0 for every
transfer). Peripherals take part through `attach_vfifo_peer(channel, peer)` (the ISU UARTs do it themselves).
"""
from __future__ import annotations

import logging
from typing import Any

from mt3620.engine.simulation.access import TEST_ACCESS, Access, BusError
from mt3620.engine.simulation.clock import VirtualClock, ps_for_cycles
from mt3620.engine.simulation.peripheral import Field, Peripheral, Register

log = logging.getLogger("mt3620.dma")

CHANNELS = 30
CH_STRIDE = 0x100
GLOBAL = 0x4000
HALF_SIZE = frozenset(range(0, 10))
FULL_SIZE = frozenset({12})
VFF = frozenset(list(range(13, 23)) + list(range(25, 30)))
DMA_ACCESS = Access("dma")
XTAL_HZ = 26_000_000

CON_SINC, CON_DINC, CON_DREQ = 1 << 2, 1 << 3, 1 << 4
CON_HITEN, CON_TOEN, CON_ITEN, CON_WPSD, CON_WPEN, CON_DIR = 1 << 13, 1 << 14, 1 << 15, 1 << 16, 1 << 17, 1 << 18
INT_HALF, INT_DONE, INT_TIMEOUT = 1 << 13, 1 << 15, 1 << 16
START_STR = 1 << 15

# Channel register layout: offset -> (name, fields or None, read hook, write hook). Hooks take the channel number.
CHANNEL_LAYOUT = (
    (0x00, "SRC", None, None, None),
    (0x04, "DST", None, None, None),
    (0x08, "WPPT", (Field("WPPT", 0, 16),), None, None),
    (0x0C, "WPTO", None, None, None),
    (0x10, "COUNT", (Field("LEN", 0, 16), Field("RLLEN", 16)), None, None),
    (0x14, "CON", (Field("SIZE", 0, 2), Field("SINC", 2), Field("DINC", 3), Field("DREQ", 4), Field("B2W", 5),
                   Field("BURST", 8, 3), Field("HITEN", 13), Field("TOEN", 14), Field("ITEN", 15),
                   Field("WPSD", 16), Field("WPEN", 17), Field("DIR", 18)), None, "_con_written"),
    (0x18, "START", (Field("STR", 15),), None, "_start_written"),
    (0x1C, "INTSTA", "ro", "_read_intsta", None),
    (0x20, "ACKINT", "wo", None, "_ack_written"),
    (0x24, "RLCT", "ro", "_read_rlct", None),
    (0x28, "LIMITER", (Field("LIMITER", 0, 8),), None, None),
    (0x2C, "PGMADDR", None, None, None),
    (0x38, "FFCNT", "ro", "_read_ffcnt", None),
    (0x3C, "FFSTA", "ro", "_read_ffsta", None),
    (0x40, "ALTLEN", (Field("ALTLEN", 0, 16), Field("ALTSCM", 31)), None, None),
    (0x44, "FFSIZE", (Field("FFSIZE", 0, 16),), None, None),
    (0x50, "TO", None, None, None),
    (0x58, "HWPTR", "ro", "_read_hwptr", None),
    (0x5C, "SWPTR", (Field("SWPTR", 0, 16), Field("SWPTR_WRAP", 16)), None, "_swptr_written"),
    (0x60, "FIXADDR", None, None, None),
)

GLOBAL_LAYOUT = (
    Register(GLOBAL + 0x00, "GLBSTA0", access="ro", read="_read_glbsta0"),
    Register(GLOBAL + 0x04, "GLBSTA1", access="ro", read="_read_glbsta1"),
    Register(GLOBAL + 0x08, "CH_RST", reset=(1 << CHANNELS) - 1, write="_ch_rst_written",
             doc="bit n low holds channel n in reset (hdl_dma.c mtk_hdl_dma_reset_chn pulses it low)"),
    Register(GLOBAL + 0x0C, "GLO_CON"),
    Register(GLOBAL + 0x10, "GROUP0"),
    Register(GLOBAL + 0x14, "GROUP1"),
    Register(GLOBAL + 0x18, "ISU_VFIFO"),
    Register(GLOBAL + 0x1C, "ISU_VFIFO_ERR", access="w1c"),
    Register(GLOBAL + 0x20, "CH_EN", access="ro", read="_read_ch_en"),
    Register(GLOBAL + 0x24, "CH_EN_SET", access="wo", write="_ch_en_set", read="_read_ch_en"),
    Register(GLOBAL + 0x28, "CH_EN_CLR", access="wo", write="_ch_en_clr", read="_read_ch_en"),
    Register(GLOBAL + 0x30, "GLB_PAUSE", write="_pause_written"),
    Register(GLOBAL + 0x34, "GLB_STA_PAUSE", access="ro", read="_read_sta_pause"),
    Register(GLOBAL + 0x50, "SET_DREQ", write="_set_dreq"),
    Register(GLOBAL + 0x58, "CLR_DREQ", write="_clr_dreq"),
)


def _channel_registers() -> tuple[Register, ...]:
    regs = []
    for n in range(CHANNELS):
        for off, name, fields, read, write in CHANNEL_LAYOUT:
            kw: dict[str, Any] = {}
            if isinstance(fields, tuple):
                kw["fields"] = fields
            elif isinstance(fields, str):
                kw["access"] = fields
            regs.append(Register(n * CH_STRIDE + off, f"CH{n}_{name}", **kw))
    return tuple(regs)


CHANNEL_HOOKS = {off: (read, write) for off, _, _, read, write in CHANNEL_LAYOUT}


class M4Dma(Peripheral):
    SIZE = 0x5000
    IRQS = ("irq",)
    REGISTERS = _channel_registers() + GLOBAL_LAYOUT
    # RLCT of a running block transfer is computed from virtual time (engine/cortex_m.py polling-loop skip).
    TIME_VARYING_OFFSETS = frozenset(n * CH_STRIDE + 0x24 for n in range(CHANNELS))

    STATE = ("ch_en", "intsta", "running", "started_at", "beats_done", "hwptr", "dreq", "bus_errors")

    def __init__(self, name: str | None = None, clock: VirtualClock | None = None, *, memory: Any,
                 **attributes: Any) -> None:
        """`memory`: what transfers go through (required keyword, so the machine passes the core's bus view; None
        = look for the machine's shared object "memory_<cpu>" when a transfer starts)."""
        self._events: dict[int, Any] = {}
        self._peers: dict[int, Any] = {}
        self._memory = memory
        self._shared = attributes.get("shared_objects") if isinstance(attributes.get("shared_objects"), dict) else None
        self.cpu = attributes.get("cpu")
        super().__init__(name or "m4_dma", clock, **attributes)
        from mt3620.peripherals.clock.rgu import ClockDomain
        self._domain = ClockDomain.for_attributes(attributes)
        if self._shared is not None:
            # Peripherals with VFIFO handshakes (ISU UARTs) find this DMA under "m4dma_<cpu>" (emulator-defined key)
            self._shared[f"m4dma_{self.cpu or 'io0'}"] = self
            for ch, peer in self._shared.get(f"m4dma_peers_{self.cpu or 'io0'}", {}).items():
                self._peers.setdefault(ch, peer)

    # ---- life cycle -------------------------------------------------------------------------------------------
    def reset(self) -> None:
        super().reset()
        for ev in getattr(self, "_events", {}).values():
            ev.cancel()
        self._events = {}
        self.ch_en = 0
        self.intsta = [0] * CHANNELS
        self.running = [False] * CHANNELS
        self.started_at: list[int | None] = [None] * CHANNELS
        self.beats_done = [0] * CHANNELS      # beats already written for a stopped/completed block transfer
        self.hwptr = [0] * CHANNELS           # VFF hardware pointer incl. wrap bit 16
        self.dreq = 0
        self.bus_errors = 0
        self.update_irq()

    def restore(self, snap: dict[str, Any]) -> None:
        for ev in self._events.values():
            ev.cancel()
        self._events = {}
        super().restore(snap)
        for n in range(CHANNELS):
            if self.running[n] and n not in VFF and self.started_at[n] is not None:
                self._schedule_block(n)

    # ---- wiring -------------------------------------------------------------------------------------------------
    def attach_memory(self, memory: Any) -> None:
        self._memory = memory

    def attach_vfifo_peer(self, channel: int, peer: Any) -> None:
        """`peer` serves VFF `channel`: TX peers offer vfifo_tx_space() and vfifo_tx_put(byte); RX peers offer
        vfifo_rx_drain() (called when the ring gained room)."""
        self._peers[channel] = peer

    def _mem(self) -> Any:
        if self._memory is None and self._shared is not None:
            self._memory = self._shared.get(f"memory_{self.cpu or 'io0'}") or self._shared.get("memory")
        return self._memory

    @property
    def hclk_hz(self) -> int:
        return self._domain.hz if self._domain is not None else XTAL_HZ

    # ---- bus dispatch: channel registers share their hooks --------------------------------------------------------
    def read(self, offset: int, size: int = 4, access: Access = TEST_ACCESS) -> int:
        if offset < CHANNELS * CH_STRIDE:
            n, off = divmod(offset & ~3, CH_STRIDE)
            hook = CHANNEL_HOOKS.get(off, (None, None))[0]
            if hook is not None:
                value = getattr(self, hook)(n)
                return (value >> ((offset & 3) * 8)) & ((1 << (8 * size)) - 1)
        return super().read(offset, size, access)

    def write(self, offset: int, size: int, value: int, access: Access = TEST_ACCESS) -> None:
        old = None
        if offset < CHANNELS * CH_STRIDE:
            n, off = divmod(offset & ~3, CH_STRIDE)
            reg = self._by_offset.get(offset & ~3)
            old = self.regs[reg.name] if reg is not None else None
        super().write(offset, size, value, access)
        if old is not None:
            hook = CHANNEL_HOOKS.get(off, (None, None))[1]
            if hook is not None:
                getattr(self, hook)(n, old)

    def ch(self, n: int, name: str) -> int:
        return self.regs[f"CH{n}_{name}"]

    # ---- derived --------------------------------------------------------------------------------------------------
    def kind(self, n: int) -> str:
        return "full" if n in FULL_SIZE else "half" if n in HALF_SIZE else "vff" if n in VFF else "none"

    def _unit(self, n: int) -> int:
        return {0: 1, 1: 2, 2: 4}.get(self.ch(n, "CON") & 3, 4)

    def _length(self, n: int) -> int:
        return self.ch(n, "COUNT") & 0xFFFF

    def update_irq(self) -> None:
        self.irq[0].set(any(self.intsta))

    def _set_int(self, n: int, bit: int) -> None:
        self.intsta[n] |= bit
        self.update_irq()

    # ---- read hooks ---------------------------------------------------------------------------------------------
    def _read_intsta(self, n: int) -> int:
        return self.intsta[n]

    def _beats_now(self, n: int) -> int:
        if not self.running[n] or self.started_at[n] is None:
            return self.beats_done[n]
        elapsed = self.clock.now - self.started_at[n]
        return min(self._length(n), elapsed * self.hclk_hz // 1_000_000_000_000)

    def _read_rlct(self, n: int) -> int:
        if n in VFF:
            return 0
        return max(0, self._length(n) - self._beats_now(n))

    def _ring(self, n: int) -> int:
        return self.ch(n, "FFSIZE") & 0xFFFF

    def ffcnt(self, n: int) -> int:
        size = self._ring(n)
        if n not in VFF or size == 0:
            return 0
        hw, sw = self._pos(self.hwptr[n], size), self._pos(self.ch(n, "SWPTR"), size)
        writer, reader = (sw, hw) if self._is_tx(n) else (hw, sw)
        return (writer - reader) % (2 * size)

    @staticmethod
    def _pos(ptr: int, size: int) -> int:
        """Pointer (index in beats, wrap bit 16) -> position on a 2*size circle."""
        return (ptr & 0xFFFF) % size + (size if ptr & 0x10000 else 0)

    def _is_tx(self, n: int) -> bool:
        return not self.ch(n, "CON") & CON_DIR

    def _read_ffcnt(self, n: int) -> int:
        return self.ffcnt(n)

    def _read_ffsta(self, n: int) -> int:
        if n not in VFF:
            return 0x2
        cnt, size = self.ffcnt(n), self._ring(n)
        value = 0
        if size and cnt >= size:
            value |= 0x1
        if cnt == 0:
            value |= 0x2
        alt = self.ch(n, "ALTLEN") & 0xFFFF
        if alt and size - cnt <= alt:
            value |= 0x4
        return value

    def _read_hwptr(self, n: int) -> int:
        return self.hwptr[n]

    def _glbsta(self, first: int) -> int:
        value = 0
        for n in range(first, min(first + 16, CHANNELS)):
            if self.running[n]:
                value |= 1 << (2 * (n % 16))
            if self.intsta[n]:
                value |= 2 << (2 * (n % 16))
        return value

    def _read_glbsta0(self) -> int:
        return self._glbsta(0)

    def _read_glbsta1(self) -> int:
        return self._glbsta(16)

    def _read_ch_en(self) -> int:
        return self.ch_en

    def _read_sta_pause(self) -> int:
        return self.regs["GLB_PAUSE"] & sum(1 << n for n in range(CHANNELS) if self.running[n])

    # ---- write hooks (channel) ----------------------------------------------------------------------------------
    def _con_written(self, n: int, old: int) -> None:
        if n in VFF and self.running[n]:
            self._pump(n)

    def _start_written(self, n: int, old: int) -> None:
        now_on = bool(self.ch(n, "START") & START_STR)
        was_on = bool(old & START_STR)
        if now_on and not was_on:
            self._start(n)
        elif not now_on and was_on:
            self._stop(n)

    def _ack_written(self, n: int, old: int) -> None:
        value = self.ch(n, "ACKINT")
        self.intsta[n] &= ~(value & (INT_HALF | INT_DONE | INT_TIMEOUT))
        self.regs[f"CH{n}_ACKINT"] = 0
        self.update_irq()

    def _swptr_written(self, n: int, old: int) -> None:
        if n in VFF and self.running[n]:
            self._pump(n)

    # ---- write hooks (global) -----------------------------------------------------------------------------------
    def _ch_en_set(self, value: int) -> None:
        self.ch_en |= value & ((1 << CHANNELS) - 1)
        self.regs["CH_EN_SET"] = 0

    def _ch_en_clr(self, value: int) -> None:
        self.ch_en &= ~value
        self.regs["CH_EN_CLR"] = 0
        for n in range(CHANNELS):
            if self.running[n] and not self.ch_en >> n & 1:
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
        self.dreq |= value & ((1 << CHANNELS) - 1)

    def _clr_dreq(self, value: int) -> None:
        self.dreq &= ~value

    # ---- channel engine -----------------------------------------------------------------------------------------
    def _reset_channel(self, n: int) -> None:
        ev = self._events.pop(n, None)
        if ev is not None:
            ev.cancel()
        for reg in self.REGISTERS[n * len(CHANNEL_LAYOUT):(n + 1) * len(CHANNEL_LAYOUT)]:
            self.regs[reg.name] = reg.reset
        self.intsta[n] = 0
        self.running[n] = False
        self.started_at[n] = None
        self.beats_done[n] = 0
        self.hwptr[n] = 0
        self.update_irq()

    def _start(self, n: int) -> None:
        if not self.ch_en >> n & 1 or self.kind(n) == "none":
            # A channel without its clock (CH_EN) or a channel number the chip lacks does not start; STR reads 0.
            log.info("%s: channel %d cannot start (%s)", self.name, n,
                     "no such channel" if self.kind(n) == "none" else "clock off in CH_EN")
            self.regs[f"CH{n}_START"] &= ~START_STR
            return
        self.running[n] = True
        self.beats_done[n] = 0
        if n in VFF:
            self.hwptr[n] = 0
            self._pump(n)
            return
        if n in HALF_SIZE and self.ch(n, "CON") & CON_DREQ:
            # Paced by the peripheral's requests (`request(n)`); no ISU I2C/SPI model drives them yet.
            self.started_at[n] = None
            return
        self.started_at[n] = self.clock.now
        self._schedule_block(n)

    def _schedule_block(self, n: int) -> None:
        remaining = self._length(n) - self._beats_now(n)
        delay = ps_for_cycles(max(remaining, 0), self.hclk_hz) if remaining > 0 else 0
        self._events[n] = self.clock.schedule(delay, lambda n=n: self._block_done(n), f"{self.name}.ch{n}")

    def _stop(self, n: int) -> None:
        ev = self._events.pop(n, None)
        if ev is not None:
            ev.cancel()
        if self.running[n] and n not in VFF and self.started_at[n] is not None:
            done = self._beats_now(n)
            self._copy_beats(n, self.beats_done[n], done)
            self.beats_done[n] = done
        self.running[n] = False
        self.started_at[n] = None
        self.update_irq()

    def _block_done(self, n: int) -> None:
        self._events.pop(n, None)
        length = self._length(n)
        self._copy_beats(n, self.beats_done[n], length)
        self.beats_done[n] = length
        self.running[n] = False
        self.started_at[n] = None
        con = self.ch(n, "CON")
        if con & CON_ITEN:
            self.intsta[n] |= INT_DONE
        if n in HALF_SIZE and con & CON_HITEN:
            self.intsta[n] |= INT_HALF
        self.regs[f"CH{n}_START"] &= ~START_STR
        self.update_irq()

    def _addresses(self, n: int) -> tuple[int, int]:
        """(source, destination) base addresses: full-size SRC/DST; half-size PGMADDR <-> FIXADDR by DIR."""
        if n in FULL_SIZE:
            return self.ch(n, "SRC"), self.ch(n, "DST")
        pgm, fix = self.ch(n, "PGMADDR"), self.ch(n, "FIXADDR")
        return (fix, pgm) if self.ch(n, "CON") & CON_DIR else (pgm, fix)

    def _copy_beats(self, n: int, first: int, last: int) -> None:
        """Perform beats [first, last) of a block transfer through the memory object."""
        if last <= first:
            return
        mem = self._mem()
        if mem is None:
            log.warning("%s: channel %d has no memory to transfer through (attribute `memory`)", self.name, n)
            self.bus_errors += 1
            return
        con = self.ch(n, "CON")
        unit = self._unit(n)
        sinc, dinc = bool(con & CON_SINC), bool(con & CON_DINC)
        if n in HALF_SIZE:
            # The memory side increments, the peripheral side is fixed (FIXADDR).
            to_mem = bool(con & CON_DIR)
            sinc, dinc = (False, True) if to_mem else (True, False)
        src0, dst0 = self._addresses(n)
        wrap_at = self.ch(n, "WPPT") & 0xFFFF if con & CON_WPEN else 0
        wrap_to = self.ch(n, "WPTO")
        wrap_dst = bool(con & CON_WPSD)
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

    def request(self, n: int, beats: int = 1) -> None:
        """A peripheral's DMA request for a DREQ-paced half-size channel: move `beats` beats now."""
        if not (self.running[n] and n in HALF_SIZE):
            return
        length = self._length(n)
        target = min(length, self.beats_done[n] + beats)
        self._copy_beats(n, self.beats_done[n], target)
        self.beats_done[n] = target
        if target >= length:
            self._block_done(n)

    # ---- virtual FIFOs ------------------------------------------------------------------------------------------
    def _advance(self, ptr: int, size: int) -> int:
        index = (ptr & 0xFFFF) + 1
        wrap = ptr & 0x10000
        if index >= size:
            index = 0
            wrap ^= 0x10000
        return wrap | index

    def _vff_check_threshold(self, n: int) -> None:
        con = self.ch(n, "CON")
        if not con & CON_ITEN:
            return
        threshold = self._length(n)
        cnt = self.ffcnt(n)
        # RX: data count reached the threshold; TX: data count fell to it or below (os_hal_dma.h fifo_thrsh).
        if (self._is_tx(n) and cnt <= threshold) or (not self._is_tx(n) and cnt >= threshold):
            self._set_int(n, INT_DONE)

    def _pump(self, n: int) -> None:
        """Move what the ring and the peripheral allow on a running VFF channel."""
        if not self.running[n] or self.regs["GLB_PAUSE"] >> n & 1:
            return
        size = self._ring(n)
        if size == 0:
            return
        if self._is_tx(n):
            peer = self._peers.get(n)
            mem = self._mem()
            if peer is None or mem is None:
                self._vff_check_threshold(n)
                return
            moved = False
            unit = self._unit(n)
            while self.ffcnt(n) > 0 and peer.vfifo_tx_space() > 0:
                addr = self.ch(n, "PGMADDR") + (self.hwptr[n] & 0xFFFF) * unit
                try:
                    data = mem.read(addr, unit, DMA_ACCESS)
                except BusError as exc:
                    self.bus_errors += 1
                    log.warning("%s: channel %d stopped by a bus error: %s", self.name, n, exc)
                    self.running[n] = False
                    return
                self.hwptr[n] = self._advance(self.hwptr[n], size)
                peer.vfifo_tx_put(data[0])
                moved = True
            if moved:
                self._vff_check_threshold(n)
        else:
            peer = self._peers.get(n)
            if peer is not None and hasattr(peer, "vfifo_rx_drain"):
                peer.vfifo_rx_drain()

    def vfifo_tx_ready(self, n: int) -> None:
        """The TX peer has room again (its FIFO drained)."""
        if n in VFF and self.running[n]:
            self._pump(n)

    def vfifo_rx_put(self, n: int, byte: int) -> bool:
        """An RX peer hands over one received byte; False when the channel is not running or the ring is full."""
        if n not in VFF or not self.running[n] or self._is_tx(n) or self.regs["GLB_PAUSE"] >> n & 1:
            return False
        size = self._ring(n)
        if size == 0 or self.ffcnt(n) >= size:
            return False
        mem = self._mem()
        if mem is None:
            return False
        unit = self._unit(n)
        try:
            mem.write(self.ch(n, "PGMADDR") + (self.hwptr[n] & 0xFFFF) * unit,
                      bytes([byte & 0xFF]) + bytes(unit - 1), DMA_ACCESS)
        except BusError as exc:
            self.bus_errors += 1
            log.warning("%s: channel %d stopped by a bus error: %s", self.name, n, exc)
            self.running[n] = False
            return False
        self.hwptr[n] = self._advance(self.hwptr[n], size)
        self._vff_check_threshold(n)
        return True

    def vfifo_running(self, n: int) -> bool:
        return n in VFF and self.running[n]
