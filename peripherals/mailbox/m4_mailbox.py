"""MT3620 mailboxes of an IO core: to the A7 (0x21050000, IRQ 6-11) and to the other IO core (0x21060000, IRQ 12-17).

Register map: CodethinkLabs/mt3620-m4-drivers mt3620/mbox.h (mt3620_mbox_t), MediaTek-Labs/mt3620_m4_software
MT3620_M4_Driver/HDL/src/hdl_mbox.c (register names); use: CTD MBox.c and Azure/azure-sphere-samples
mt3620-intercore.c (FIFO_POP_CNT, then DATA_POP, then CMD_POP). Bits of INT_EN/INT_STS: MediaTek's
MT3620_M4_Driver/HDL/inc/hdl_mbox.h (NE 0, WR 1, NF 2, RD 3), whose FreeRTOS MBOX sample runs on them; the
AzureSphereOS kernel's mt3620 mailbox driver also clears bit 1 for "data arrived". CodethinkLabs mbox.h has the
same four bits in the opposite order (RD 0 ... NE 3), which none of its samples exercises (docs/EMULATOR-DEFINED.md).

A mailbox is two FIFOs of (cmd, data) pairs, 15 deep, one per direction. `MailboxChannel` is that pure state (no
bus, no clock) with methods for a far side driven from Python; `MailboxPort` is the register view of one side.

  0x00 VER               read-only version
  0x04 GEN_CTRL          bit0 SOFT_RST (both sides), bit1 SOFT_RST_MYSELF (this side); self-clearing
  0x14 SW_TX_INT_PORT    writing bits raises those software interrupts on the far side
  0x18 SW_RX_INT_EN      0x1C SW_RX_INT_STS (W1C)   software interrupts from the far side -> IRQ "sw"
  0x30 NF_THRS, 0x34 NE_THRS, 0x38 INT_EN, 0x3C INT_STS (W1C): bit0 NE (our incoming FIFO rose to NE_THRS
       entries or more), bit1 WR (far side pushed to us), bit2 NF (our outgoing FIFO fell to NF_THRS entries or
       fewer), bit3 RD (far side popped one of ours)
  0x40 CMD_PUSH (the write commits DATA_PUSH + CMD), 0x44 DATA_PUSH, 0x48 FIFO_PUSH_CNT
  0x50 CMD_POP (the read pops), 0x54 DATA_POP (head entry's data), 0x58 FIFO_POP_CNT
  0x60 SEMAPHORE_P       A7 mailbox only: a read returns 1 and takes the semaphore when it is free or ours

IRQ outputs of a port: ("rd", "nf", "wr", "ne", "fifo", "sw") = NVIC 6 + 6*unit + 0..5 (CTD mbox.h; MediaTek
MT3620_M4_BSP/CMSIS/include/irq.h CM4_IRQ_M42A7N_RD = 6 ... CM4_IRQ_A7N2M4_SW = 11: the lines' order is not the bits').
"fifo" is the OR of the four enabled FIFO events (emulator-defined).
"""
from __future__ import annotations

import logging
from collections import deque
from typing import Any, Callable

from mt3620.engine.simulation.clock import VirtualClock
from mt3620.engine.simulation.peripheral import COLD, Field, Peripheral, Register, ResetKind, Shared

log = logging.getLogger("mt3620.mailbox")

FIFO_DEPTH = 15                 # CTD mbox.h MT3620_MBOX_FIFO_COUNT_MAX
VERSION = 0x36200000            # as the Pluton mailbox reads (ASOS); emulator-defined for the IO-core mailboxes
A7_MAILBOX_BASE = 0x21050000
M4_MAILBOX_BASE = 0x21060000
A7_TO_IO0_BASE = 0x31010000
A7_TO_IO1_BASE = 0x31020000
INT_NE, INT_WR, INT_NF, INT_RD = 1, 2, 4, 8     # MediaTek hdl_mbox.h MBOX_INT_*_OFFSET
NF_THRS_RESET = FIFO_DEPTH - 1  # "not full": at most 14 entries queued
NE_THRS_RESET = 1               # "not empty": at least one entry waiting


class MailboxChannel:
    """Both directions of one mailbox. fifo[s] holds what side s pushed and the other side pops."""

    def __init__(self, has_semaphore: bool = False, name: str = "mailbox") -> None:
        self.name = name
        self.has_semaphore = has_semaphore
        self._observers: list[Callable[[], None]] = []
        self._push_listeners: list[Callable[[int], None]] = []
        self._sw_listeners: list[Callable[[int, int], None]] = []
        self.reset()

    def reset(self) -> None:
        self.fifo: list[deque] = [deque(), deque()]
        self.data_latch = [0, 0]
        self.int_en = [0, 0]
        self.int_sts = [0, 0]
        self.sw_en = [0, 0]
        self.sw_sts = [0, 0]
        self.nf_thrs = [NF_THRS_RESET, NF_THRS_RESET]
        self.ne_thrs = [NE_THRS_RESET, NE_THRS_RESET]
        self.semaphore_owner: int | None = None
        self.overflows = [0, 0]
        self._notify()

    # ---- observers --------------------------------------------------------------------------------------------
    def observe(self, fn: Callable[[], None]) -> None:
        """`fn()` after every change (ports use it to re-derive their IRQ lines)."""
        self._observers.append(fn)

    def add_push_listener(self, fn: Callable[[int], None]) -> None:
        """`fn(side)` after side `side` committed an entry."""
        self._push_listeners.append(fn)

    def add_sw_listener(self, fn: Callable[[int, int], None]) -> None:
        """`fn(to_side, bits)` after software interrupts `bits` were raised toward `to_side`."""
        self._sw_listeners.append(fn)

    def _notify(self) -> None:
        for fn in list(getattr(self, "_observers", ())):
            fn()

    # ---- operations (either side) -----------------------------------------------------------------------------
    def set_data(self, side: int, data: int) -> None:
        self.data_latch[side] = data & 0xFFFFFFFF

    def push(self, side: int, cmd: int, data: int | None = None) -> bool:
        """Side `side` commits (cmd, data); data defaults to the DATA_PUSH latch. False when the FIFO is full."""
        if data is not None:
            self.set_data(side, data)
        q = self.fifo[side]
        if len(q) >= FIFO_DEPTH:
            # Hardware gives no error: a push into a full FIFO is lost (emulator-defined), counted here.
            self.overflows[side] += 1
            log.info("%s: side %d pushed cmd 0x%08x into a full FIFO: dropped", self.name, side, cmd)
            return False
        q.append((cmd & 0xFFFFFFFF, self.data_latch[side]))
        other = 1 - side
        self.int_sts[other] |= INT_WR
        if len(q) == self.ne_thrs[other]:
            self.int_sts[other] |= INT_NE
        self._notify()
        for fn in list(self._push_listeners):
            fn(side)
        return True

    def peek_data(self, side: int) -> int:
        """DATA_POP of side `side`: data of the entry at the head of its incoming FIFO (0 when empty)."""
        q = self.fifo[1 - side]
        return q[0][1] if q else 0

    def pop(self, side: int) -> tuple[int, int] | None:
        """Side `side` pops the head of its incoming FIFO: (cmd, data), or None when empty."""
        q = self.fifo[1 - side]
        if not q:
            return None
        entry = q.popleft()
        pusher = 1 - side
        self.int_sts[pusher] |= INT_RD
        if len(q) == self.nf_thrs[pusher]:
            self.int_sts[pusher] |= INT_NF
        self._notify()
        return entry

    def outgoing(self, side: int) -> int:
        return len(self.fifo[side])

    def incoming(self, side: int) -> int:
        return len(self.fifo[1 - side])

    def raise_sw(self, from_side: int, bits: int) -> None:
        """Side `from_side` writes SW_TX_INT_PORT: the bits become pending on the other side."""
        bits &= 0xFF
        if not bits:
            return
        self.sw_sts[1 - from_side] |= bits
        self._notify()
        for fn in list(self._sw_listeners):
            fn(1 - from_side, bits)

    def configure(self, side: int, int_en: int, sw_en: int, nf_thrs: int, ne_thrs: int) -> None:
        """Side `side`'s interrupt enables and thresholds (its port's registers)."""
        self.int_en[side], self.sw_en[side] = int_en, sw_en
        self.nf_thrs[side], self.ne_thrs[side] = nf_thrs, ne_thrs
        self._notify()

    def clear_sw(self, side: int, bits: int) -> None:
        self.sw_sts[side] &= ~bits & 0xFF
        self._notify()

    def soft_reset(self, side: int | None = None) -> None:
        """GEN_CTRL: SOFT_RST (side None) empties both FIFOs; SOFT_RST_MYSELF empties this side's outgoing FIFO
        and clears its status (emulator-defined split)."""
        sides = (0, 1) if side is None else (side,)
        for s in sides:
            self.fifo[s].clear()
            self.int_sts[s] = 0
            self.sw_sts[s] = 0
            self.data_latch[s] = 0
        self._notify()

    def semaphore_read(self, side: int) -> int:
        if not self.has_semaphore:
            return 0
        if self.semaphore_owner in (None, side):
            self.semaphore_owner = side
            return 1
        return 0

    def semaphore_write(self, side: int, value: int) -> None:
        if self.has_semaphore and value & 1 == 0 and self.semaphore_owner == side:
            self.semaphore_owner = None

    # ---- derived ----------------------------------------------------------------------------------------------
    def fifo_events(self, side: int) -> int:
        return self.int_en[side] & self.int_sts[side]

    def sw_events(self, side: int) -> int:
        return self.sw_en[side] & self.sw_sts[side]

    # ---- snapshots --------------------------------------------------------------------------------------------
    def state(self) -> dict:
        return {"fifo": [list(q) for q in self.fifo], "data_latch": list(self.data_latch),
                "int_en": list(self.int_en), "int_sts": list(self.int_sts), "sw_en": list(self.sw_en),
                "sw_sts": list(self.sw_sts), "nf_thrs": list(self.nf_thrs), "ne_thrs": list(self.ne_thrs),
                "semaphore_owner": self.semaphore_owner, "overflows": list(self.overflows)}

    def set_state(self, s: dict) -> None:
        self.fifo = [deque(tuple(e) for e in q) for q in s["fifo"]]
        for key in ("data_latch", "int_en", "int_sts", "sw_en", "sw_sts", "nf_thrs", "ne_thrs", "overflows"):
            setattr(self, key, list(s[key]))
        self.semaphore_owner = s["semaphore_owner"]
        self._notify()


def _shared_channel(key: str, attributes: dict) -> MailboxChannel:
    """A channel named in the platform (`channel: "mbox_io0_io1"`): made once, shared by every port naming it. Only
    the IO0-IO1 mailbox (0x21060000) lacks the semaphore."""
    base = attributes.get("base_address")
    return MailboxChannel(has_semaphore=base is None or int(base) != M4_MAILBOX_BASE, name=key)


def _fifo_events() -> tuple[Field, ...]:
    return (Field("NE", 0), Field("WR", 1), Field("NF", 2), Field("RD", 3))


class MailboxPort(Peripheral):
    """One side's register view of a `MailboxChannel`. This side's enables and thresholds are stored here and
    handed to the channel when written; FIFOs and status live in the channel (set by either side), so those
    registers are windows onto it (read and write callbacks)."""
    SIZE = 0x100
    IRQS = ("rd", "nf", "wr", "ne", "fifo", "sw")

    REGISTERS = (
        Register(0x00, "MBOX_VER", reset=VERSION, access="ro"),
        Register(0x04, "MBOX_GEN_CTRL", fields=(Field("SOFT_RST", 0, 1, "wo"), Field("SOFT_RST_MYSELF", 1, 1, "wo")),
                 write="_write_gen_ctrl"),
        Register(0x08, "MBOX_DBG_IDX"),
        Register(0x0C, "MBOX_DBG_PROBE"),
        Register(0x14, "SW_TX_INT_PORT", fields=(Field("SW_TX_INT", 0, 8, "wo"),), write="_write_sw_tx"),
        Register(0x18, "SW_RX_INT_EN", fields=(Field("SW_RX_INT_EN", 0, 8),), write="_config_written"),
        Register(0x1C, "SW_RX_INT_STS", fields=(Field("SW_RX_INT_STS", 0, 8),), read="_read_sw_sts",
                 write="_write_sw_sts", doc="write 1 to clear"),
        Register(0x20, "MBOX_FIFO_CTRL", fields=(Field("RD_DLY", 0, 8), Field("RCS_DLY", 8, 2))),
        Register(0x30, "MBOX_NF_THRS", fields=(Field("NF_THRS", 0, 4, reset=NF_THRS_RESET),), write="_config_written"),
        Register(0x34, "MBOX_NE_THRS", fields=(Field("NE_THRS", 0, 4, reset=NE_THRS_RESET),), write="_config_written"),
        Register(0x38, "MBOX_INT_EN", fields=_fifo_events(), write="_config_written"),
        Register(0x3C, "MBOX_INT_STS", fields=_fifo_events(), read="_read_int_sts", write="_write_int_sts",
                 doc="write 1 to clear"),
        Register(0x40, "CMD_PUSH", access="wo", write="_write_cmd_push"),
        Register(0x44, "DATA_PUSH", access="wo", write="_write_data_push"),
        Register(0x48, "FIFO_PUSH_CNT", access="ro", read="_read_push_cnt"),
        Register(0x50, "CMD_POP", access="ro", read="_read_cmd_pop"),
        Register(0x54, "DATA_POP", access="ro", read="_read_data_pop"),
        Register(0x58, "FIFO_POP_CNT", access="ro", read="_read_pop_cnt"),
        Register(0x60, "SEMAPHORE_P", fields=(Field("SEMAPHORE", 0),), read="_read_sem", write="_write_sem"),
    )
    STATE = ("channel_state",)

    channel = Shared(MailboxChannel, _shared_channel, doc="the two-sided mailbox this port is one side of")

    def __init__(self, name: str | None = None, clock: VirtualClock | None = None, **attributes: Any) -> None:
        base = attributes.get("base_address")
        self.base_address = A7_MAILBOX_BASE if base is None else int(base)
        # The A7's views of its mailboxes to IO core 0 / 1 (MT3620-FACTS; MTK memmap, ASOS mt3620.dtsi) are the far
        # side (side 1) of the IO cores' 0x21050000 mailboxes.
        a7_view = self.base_address in (A7_TO_IO0_BASE, A7_TO_IO1_BASE)
        if self.base_address not in (A7_MAILBOX_BASE, M4_MAILBOX_BASE) and not a7_view:
            raise ValueError(f"MailboxPort: 0x{self.base_address:08x} is not a mailbox (0x21050000, 0x21060000, "
                             f"0x31010000, 0x31020000)")
        self.unit = 1 if self.base_address == M4_MAILBOX_BASE else 0
        side = attributes.get("side")
        if side is None:
            # The IO0-IO1 mailbox: io0 is side 0, io1 side 1 (emulator-defined); on an A7 mailbox the IO core is
            # side 0 and the A7 side 1.
            side = 1 if (self.unit == 1 and attributes.get("cpu") == "io1") or a7_view else 0
        if side not in (0, 1):
            raise ValueError(f"MailboxPort: side must be 0 or 1, not {side!r}")
        self.side = int(side)
        channel = attributes.get("channel")
        if channel is None:
            # A port built on its own (a unit test) talks to a channel of its own; the platform names shared ones.
            channel = MailboxChannel(has_semaphore=self.unit == 0, name=name or "mailbox")
        if not isinstance(channel, MailboxChannel):
            raise TypeError(f"MailboxPort: channel must be a MailboxChannel, not {type(channel).__name__}")
        self.channel = channel
        super().__init__(name or ("mbox_a7" if self.unit == 0 else "mbox_m4"), clock, **attributes)
        channel.observe(self.update_irq)

    def irq_numbers(self) -> dict[str, int]:
        return {n: 6 + 6 * self.unit + i for i, n in enumerate(self.IRQS)}

    def reset(self, kind: ResetKind = COLD) -> None:
        """Every kind of reset clears this side's enables, status and thresholds; FIFO contents belong to the
        channel (reset it with `channel.reset()`)."""
        super().reset(kind)
        self.channel.int_sts[self.side] = self.channel.sw_sts[self.side] = 0
        self._config_written(0)

    @property
    def channel_state(self) -> dict:
        return self.channel.state()

    @channel_state.setter
    def channel_state(self, s: dict) -> None:
        self.channel.set_state(s)

    def update_irq(self) -> None:
        events = self.channel.fifo_events(self.side)
        for i, bit in enumerate((INT_RD, INT_NF, INT_WR, INT_NE)):
            self.irq[i].set(bool(events & bit))
        self.irq[4].set(bool(events))
        self.irq[5].set(bool(self.channel.sw_events(self.side)))

    # ---- register callbacks: windows onto this side of the channel ------------------------------------------------
    def _write_gen_ctrl(self, value: int) -> None:
        ctrl = self.regs.MBOX_GEN_CTRL
        if ctrl.SOFT_RST:
            self.channel.soft_reset(None)
        elif ctrl.SOFT_RST_MYSELF:
            self.channel.soft_reset(self.side)
        ctrl.value = 0                                  # both bits self-clear

    def _write_sw_tx(self, value: int) -> None:
        self.channel.raise_sw(self.side, self.regs.SW_TX_INT_PORT.SW_TX_INT)

    def _read_sw_sts(self) -> int:
        return self.channel.sw_sts[self.side]

    def _write_sw_sts(self, value: int) -> None:
        self.channel.clear_sw(self.side, self.regs.SW_RX_INT_STS.SW_RX_INT_STS)

    def _config_written(self, value: int) -> None:
        regs = self.regs
        self.channel.configure(self.side, regs.MBOX_INT_EN.value, regs.SW_RX_INT_EN.value, regs.MBOX_NF_THRS.NF_THRS,
                               regs.MBOX_NE_THRS.NE_THRS)

    def _read_int_sts(self) -> int:
        return self.channel.int_sts[self.side]

    def _write_int_sts(self, value: int) -> None:
        self.channel.int_sts[self.side] &= ~self.regs.MBOX_INT_STS.value
        self.channel._notify()

    def _write_cmd_push(self, value: int) -> None:
        self.channel.push(self.side, value)

    def _write_data_push(self, value: int) -> None:
        self.channel.set_data(self.side, value)

    def _read_push_cnt(self) -> int:
        return self.channel.outgoing(self.side)

    def _read_cmd_pop(self) -> int:
        entry = self.channel.pop(self.side)
        return 0 if entry is None else entry[0]

    def _read_data_pop(self) -> int:
        return self.channel.peek_data(self.side)

    def _read_pop_cnt(self) -> int:
        return self.channel.incoming(self.side)

    def _read_sem(self) -> int:
        return self.channel.semaphore_read(self.side)

    def _write_sem(self, value: int) -> None:
        self.channel.semaphore_write(self.side, self.regs.SEMAPHORE_P.SEMAPHORE)
