"""Register-level tests of the IO-core mailboxes and the intercore protocol far end."""
import struct
import uuid

import pytest

from mt3620.engine.simulation.clock import VirtualClock
from mt3620.peripherals.mailbox.intercore import (ByteMemory, IntercoreA7Endpoint, IntercoreError, SETUP_INBOUND,
                                                  SETUP_OUTBOUND, START)
from mt3620.peripherals.mailbox.m4_mailbox import MailboxChannel, MailboxPort

VER, GEN_CTRL, SW_TX, SW_EN, SW_STS = (MailboxPort.offset(n) for n in ("MBOX_VER", "MBOX_GEN_CTRL", "SW_TX_INT_PORT",
                                                                        "SW_RX_INT_EN", "SW_RX_INT_STS"))
NF_THRS, NE_THRS, INT_EN, INT_STS = (MailboxPort.offset(n) for n in ("MBOX_NF_THRS", "MBOX_NE_THRS", "MBOX_INT_EN",
                                                                    "MBOX_INT_STS"))
CMD_PUSH, DATA_PUSH, PUSH_CNT, CMD_POP, DATA_POP, POP_CNT, SEM = (
    MailboxPort.offset(n) for n in ("CMD_PUSH", "DATA_PUSH", "FIFO_PUSH_CNT", "CMD_POP", "DATA_POP", "FIFO_POP_CNT",
                                    "SEMAPHORE_P"))
RD, NF, WR, NE, FIFO, SW = range(6)                  # IRQ outputs, in line order (NVIC 6 + 6 * unit + n)
BIT_NE, BIT_WR, BIT_NF, BIT_RD = 1, 2, 4, 8           # INT_EN/INT_STS bits (MediaTek hdl_mbox.h)


@pytest.fixture
def port():
    return MailboxPort(clock=VirtualClock(), base_address=0x21050000, cpu="io0")


def test_reset_values_and_irq_numbers(port):
    assert port.read(VER) == 0x36200000
    assert port.read(PUSH_CNT) == 0 and port.read(POP_CNT) == 0
    assert port.read(INT_EN) == 0 and port.read(INT_STS) == 0
    assert port.read(NF_THRS) == 14 and port.read(NE_THRS) == 1
    assert port.irq_numbers() == {"rd": 6, "nf": 7, "wr": 8, "ne": 9, "fifo": 10, "sw": 11}
    assert MailboxPort(base_address=0x21060000).irq_numbers()["sw"] == 17
    assert not any(l.level for l in port.irq)


def test_data_then_cmd_commits_and_far_side_pops(port):
    ch = port.channel
    port.write(DATA_PUSH, 4, 0xD0)
    assert port.read(PUSH_CNT) == 0                 # DATA alone does not commit
    port.write(CMD_PUSH, 4, 0xC0)
    port.write(CMD_PUSH, 4, 0xC1)                   # latch keeps the last DATA
    assert port.read(PUSH_CNT) == 2
    assert ch.pop(1) == (0xC0, 0xD0)
    assert ch.pop(1) == (0xC1, 0xD0)
    assert ch.pop(1) is None
    assert port.read(PUSH_CNT) == 0


def test_receive_with_interrupts(port):
    ch = port.channel
    port.write(INT_EN, 4, 0xF)
    ch.push(1, 0xBA5E0001, 0x1234)
    assert port.irq[WR].level and port.irq[NE].level and port.irq[FIFO].level
    assert port.read(POP_CNT) == 1
    assert port.read(DATA_POP) == 0x1234
    assert port.read(DATA_POP) == 0x1234            # DATA_POP does not pop
    assert port.read(CMD_POP) == 0xBA5E0001
    assert port.read(POP_CNT) == 0
    assert port.read(CMD_POP) == 0                  # empty FIFO reads 0
    assert port.read(INT_STS) == BIT_WR | BIT_NE
    port.write(INT_STS, 4, BIT_WR)                  # W1C just WR
    assert not port.irq[WR].level and port.irq[NE].level
    port.write(INT_STS, 4, 0xF)
    assert not port.irq[FIFO].level


def test_tx_confirmed_and_not_full(port):
    ch = port.channel
    port.write(INT_EN, 4, BIT_RD | BIT_NF)
    for i in range(15):
        port.write(CMD_PUSH, 4, i)
    assert port.read(PUSH_CNT) == 15
    port.write(CMD_PUSH, 4, 99)                     # full: dropped
    assert port.read(PUSH_CNT) == 15 and ch.overflows[0] == 1
    assert not port.irq[RD].level
    assert ch.pop(1) == (0, 0)
    assert port.irq[RD].level                       # far side consumed one
    assert port.irq[NF].level                       # 14 <= NF_THRS
    assert port.read(INT_STS) == BIT_RD | BIT_NF
    assert [ch.pop(1)[0] for _ in range(14)] == list(range(1, 15))


def test_int_en_gates_lines(port):
    port.channel.push(1, 1, 1)
    assert port.read(INT_STS) == BIT_WR | BIT_NE
    assert not port.irq[WR].level
    port.write(INT_EN, 4, BIT_NE)
    assert port.irq[NE].level and not port.irq[WR].level
    port.write(INT_EN, 4, BIT_WR)
    assert port.irq[WR].level and not port.irq[NE].level


def test_software_interrupts_both_ways(port):
    ch = port.channel
    seen = []
    ch.add_sw_listener(lambda side, bits: seen.append((side, bits)))
    port.write(SW_TX, 4, 0x1)                       # M4 -> A7 "message sent"
    assert seen == [(1, 1)] and ch.sw_sts[1] == 1
    assert port.read(SW_TX) == 0
    ch.raise_sw(1, 0x2)                             # A7 -> M4
    assert port.read(SW_STS) == 0x2
    assert not port.irq[SW].level
    port.write(SW_EN, 4, 0x3)
    assert port.irq[SW].level
    port.write(SW_STS, 4, 0x1)                      # clears nothing pending
    assert port.irq[SW].level
    port.write(SW_STS, 4, 0xFF)                     # CTD clears with 0xFF
    assert not port.irq[SW].level and port.read(SW_STS) == 0


def test_soft_reset_and_semaphore(port):
    ch = port.channel
    port.write(CMD_PUSH, 4, 1)
    ch.push(1, 2, 2)
    port.write(GEN_CTRL, 4, 0x2)                    # myself: our outgoing FIFO
    assert port.read(PUSH_CNT) == 0 and port.read(POP_CNT) == 1
    port.write(GEN_CTRL, 4, 0x1)                    # both
    assert port.read(POP_CNT) == 0
    assert port.read(GEN_CTRL) == 0
    assert port.read(SEM) == 1                      # acquired
    assert ch.semaphore_read(1) == 0                # the far side is refused
    assert port.read(SEM) == 1                      # still ours
    port.write(SEM, 4, 0)
    assert ch.semaphore_read(1) == 1
    m4 = MailboxPort(base_address=0x21060000)
    assert m4.read(SEM) == 0                        # no semaphore between the IO cores


def test_io0_io1_shared_channel():
    clock = VirtualClock()
    ch = MailboxChannel(name="io0-io1")
    p0 = MailboxPort(clock=clock, base_address=0x21060000, cpu="io0", channel=ch)
    p1 = MailboxPort(clock=clock, base_address=0x21060000, cpu="io1", channel=ch)
    assert (p0.side, p1.side) == (0, 1)
    p1.write(INT_EN, 4, BIT_WR)
    p0.write(DATA_PUSH, 4, 7)
    p0.write(CMD_PUSH, 4, 8)
    assert p1.irq[WR].level and not p0.irq[WR].level
    assert (p1.read(DATA_POP), p1.read(CMD_POP)) == (7, 8)
    p1.write(SW_EN, 4, 1)
    p0.write(SW_TX, 4, 1)
    assert p1.irq[SW].level


def test_bad_construction_and_nonsense(port):
    with pytest.raises(ValueError):
        MailboxPort(base_address=0x21050000, side=2)
    with pytest.raises(TypeError):
        MailboxPort(base_address=0x21050000, channel="nope")
    port.write(VER, 4, 0)
    port.write(POP_CNT, 4, 5)
    port.write(0xF0, 4, 5)
    assert port.read(VER) == 0x36200000 and port.read(POP_CNT) == 0 and port.read(0xF0) == 0


def test_snapshot_restore(port):
    port.write(INT_EN, 4, BIT_WR)
    port.channel.push(1, 0x11, 0x22)
    snap = port.snapshot()
    other = MailboxPort(base_address=0x21050000)
    other.restore(snap)
    assert other.irq[WR].level
    assert (other.read(DATA_POP), other.read(CMD_POP)) == (0x22, 0x11)


# ---- intercore protocol ------------------------------------------------------------------------------------------
class RtAppEnd:
    """The IO-core end, written from the published protocol description, using only registers and memory."""

    def __init__(self, port, mem):
        self.port, self.mem = port, mem

    def get_buffers(self):
        base_read = base_write = 0
        while True:
            assert self.port.read(POP_CNT) > 0
            data = self.port.read(DATA_POP)
            cmd = self.port.read(CMD_POP)
            if cmd == SETUP_INBOUND:
                base_write = data
            elif cmd == SETUP_OUTBOUND:
                base_read = data
            elif cmd == START:
                break
        assert base_read & 0x1F == base_write & 0x1F
        self.size = (1 << (base_read & 0x1F)) - 64
        self.inbound, self.outbound = base_read & ~0x1F, base_write & ~0x1F

    def _u32(self, addr):
        return struct.unpack("<I", self.mem.read(addr, 4))[0]

    def enqueue(self, data):
        remote_read = self._u32(self.inbound + 4)
        wpos = self._u32(self.outbound)
        avail = remote_read - wpos + (self.size if remote_read <= wpos else 0)
        assert avail >= 4 + len(data) + 16
        ring = self.outbound + 64
        first = min(len(data), self.size - wpos - 4)
        self.mem.write(ring + wpos, struct.pack("<I", len(data)) + data[:first])
        self.mem.write(ring, data[first:])
        wpos = (wpos + 4 + len(data) + 15) & ~15
        wpos -= self.size if wpos >= self.size else 0
        self.mem.write(self.outbound, struct.pack("<I", wpos))
        self.port.write(SW_TX, 4, 1)

    def dequeue(self):
        remote_write = self._u32(self.inbound)
        rpos = self._u32(self.outbound + 4)
        avail = remote_write - rpos + (self.size if remote_write < rpos else 0)
        if avail < 4:
            return None
        ring = self.inbound + 64
        size = self._u32(ring + rpos)
        first = min(size, self.size - rpos - 4)
        data = self.mem.read(ring + rpos + 4, first) + self.mem.read(ring, size - first)
        rpos = (rpos + 4 + size + 15) & ~15
        rpos -= self.size if rpos >= self.size else 0
        self.mem.write(self.outbound + 4, struct.pack("<I", rpos))
        self.port.write(SW_TX, 4, 2)
        return data


def test_intercore_round_trip_with_wraparound(port):
    mem = ByteMemory(0x20100000, 0x2000)
    cid = uuid.UUID("005180bc-402f-4cb3-a662-72937dbcde47")
    a7 = IntercoreA7Endpoint(port.channel, mem, cid)
    a7.start()
    m4 = RtAppEnd(port, mem)
    m4.get_buffers()
    assert m4.size == 4096 - 64
    port.write(SW_EN, 4, 0x3)
    for i in range(40):                              # 40 * ~150 bytes wraps the 4032-byte rings several times
        payload = bytes([i]) * (100 + i)
        a7.send(payload)
        assert port.irq[SW].level and port.read(SW_STS) & 0x2
        port.write(SW_STS, 4, 0xFF)
        block = m4.dequeue()
        assert block[:16] == cid.bytes_le and block[20:] == payload
        assert m4.dequeue() is None
        m4.enqueue(block[:20] + payload[::-1])
        got = a7.receive()
        assert got == (cid.bytes_le, payload[::-1])
        assert a7.receive() is None
    assert port.channel.sw_sts[1] & 0x3 == 0x3       # the A7 saw "sent" and "consumed"


def test_intercore_errors(port):
    mem = ByteMemory(0x20100000, 0x2000)
    a7 = IntercoreA7Endpoint(port.channel, mem, "005180bc-402f-4cb3-a662-72937dbcde47")
    with pytest.raises(IntercoreError):
        a7.send(b"x")                                # not started
    a7.start()
    with pytest.raises(IntercoreError):
        a7.send(bytes(1025))
    for _ in range(3):
        a7.send(bytes(1000))
    with pytest.raises(IntercoreError):
        a7.send(bytes(1000))                         # ring full: the RTApp reads nothing
    mem.write(0x20100000, struct.pack("<I", 5000))   # RTApp write position outside the ring
    with pytest.raises(IntercoreError):
        a7.receive()
    with pytest.raises(ValueError):
        IntercoreA7Endpoint(port.channel, mem, b"short")
    with pytest.raises(ValueError):
        IntercoreA7Endpoint(port.channel, mem, bytes(16), inbound_addr=0x20100004)


def test_platform_names_the_shared_channels():
    from mt3620.engine.machine import Machine
    m = Machine()
    p0, p1 = m.device("io0_mbox_m4"), m.device("io1_mbox_m4")
    a0, a1 = m.device("io0_mbox_a7"), m.device("io1_mbox_a7")
    assert p0.channel is p1.channel is m.shared_objects["mbox_io0_io1"]
    assert (p0.side, p1.side) == (0, 1)
    assert a0.channel is m.shared_objects["mbox_a7_io0"] and a1.channel is m.shared_objects["mbox_a7_io1"]
    assert a0.channel is not a1.channel
    p0.write(CMD_PUSH, 4, 5)
    assert p1.read(POP_CNT) == 1 and a0.read(POP_CNT) == 0


def test_a7_side_ports_are_the_far_side():
    io0 = MailboxPort(base_address=0x21050000, cpu="io0")
    a7_0 = MailboxPort(base_address=0x31010000, channel=io0.channel)
    a7_1 = MailboxPort(base_address=0x31020000)
    assert a7_0.side == 1 and a7_0.channel is io0.channel
    assert a7_1.side == 1 and a7_1.channel is not io0.channel
    a7_0.write(DATA_PUSH, 4, 0x1000 | 12)
    a7_0.write(CMD_PUSH, 4, SETUP_INBOUND)
    assert (io0.read(DATA_POP), io0.read(CMD_POP)) == (0x1000 | 12, SETUP_INBOUND)
    io0.write(SW_TX, 4, 1)
    assert a7_0.read(SW_STS) == 1
    with pytest.raises(ValueError):
        MailboxPort(base_address=0x21070000)
