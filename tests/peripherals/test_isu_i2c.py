"""Register-level tests of the ISU I2C controller: master packets, repeated starts, NACKs, FIFOs, timing at
100/400/1000 kHz on the virtual clock, clock stretching, DMA handshakes, subordinate mode, the ISU's clock gate,
ten-bit addresses, arbitration, snapshots. Virtual time is stepped explicitly."""
import pytest

from mt3620.engine.simulation.clock import PS_PER_SECOND, VirtualClock
from mt3620.peripherals.buses.i2c import WAIT, I2cBusy, I2cNack, I2cTarget, RegisterTarget
from mt3620.peripherals.dma.m4_dma import M4Dma
from mt3620.peripherals.isu.i2c import IsuI2c
from mt3620.peripherals.isu.isu_config import IsuConfig
from mt3620.peripherals.mailbox.intercore import ByteMemory

O = IsuI2c.offset
US = PS_PER_SECOND // 1_000_000
SYSRAM = 0x22000000
RX_EMP, TX_EMP, TX_UDR, TX_OVF, RX_UDR = 1, 1 << 4, 1 << 6, 1 << 7, 1 << 2


class Bus(ByteMemory):
    """SYSRAM plus the ISU2 I2C registers, as an IO core's bus view offers them to its DMA."""

    def __init__(self, i2c):
        super().__init__(SYSRAM, 0x10000)
        self.i2c = i2c

    def read(self, address, length, access=None):
        if 0x38090200 <= address < 0x38090300:
            return self.i2c.read(address - 0x38090200, length).to_bytes(length, "little")
        return super().read(address, length, access)

    def write(self, address, data, access=None):
        if 0x38090200 <= address < 0x38090300:
            self.i2c.write(address - 0x38090200, len(data), int.from_bytes(data, "little"))
            return
        super().write(address, data, access)


@pytest.fixture
def chip():
    clock = VirtualClock()
    cfg = IsuConfig(clock=clock, base_address=0x38090000)
    i2c = IsuI2c(clock=clock, base_address=0x38090200, isu=cfg)
    mem = Bus(i2c)
    dma = M4Dma(clock=clock, base_address=0x21080000, cpu="io0", memory=mem)
    i2c.link("dma", dma)
    return clock, i2c, dma, mem, cfg


def speed(i2c, hz):
    """MediaTek mhal_i2c.c phase arithmetic (facts) for a 40 MHz source, sync + deglitch 1."""
    ratio = 40_000_000 // hz
    phase, rem = ratio // 4 - 1, ratio % 4
    p0, p1, p2, p3 = phase + (rem >= 1), phase, phase + (rem >= 2), phase + (rem >= 3)
    shift = 5 if hz == 400_000 else 3
    p0, p2 = p0 + shift, p2 - shift
    p1 -= 7
    i2c.write(O("MM_PAD_CON0"), 4, 0x81)
    i2c.write(O("MM_CNT_VAL_PHL"), 4, p1 << 8 | p0)
    i2c.write(O("MM_CNT_VAL_PHH"), 4, p3 << 8 | p2)


def transfer(i2c, addr, packets, gmode=True):
    """packets: [(rw, length)]; write data must already be in the FIFO."""
    i2c.write(O("MM_CON0"), 4, 1 << 15 | (gmode << 14))
    i2c.write(O("MM_ID_CON0"), 4, addr)
    rw = sum(r << i for i, (r, _) in enumerate(packets))
    i2c.write(O("MM_PACK_CON0"), 4, rw | (len(packets) - 1) << 4)
    for i, (_, n) in enumerate(packets):
        i2c.write(O(f"MM_CNT_BYTE_VAL_PK{i}"), 4, n)
    i2c.write(O("I2C_INT_CTRL"), 4, 1 << 1)
    i2c.write(O("MM_CON0"), 4, 1 << 15 | (gmode << 14) | 1)


def settle(clock, ms=5):
    clock.advance_to(clock.now + int(ms * PS_PER_SECOND) // 1000)


def test_reset_values(chip):
    _, i2c, _, _, _ = chip
    assert i2c.read(O("MM_STATUS")) == 0x4                      # START_READY, not busy
    assert i2c.read(O("MM_FIFO_STATUS")) == RX_EMP | TX_EMP
    assert i2c.read(O("S_FIFO_STATUS")) == RX_EMP | TX_EMP
    assert i2c.read(O("MM_CON0")) == 0 and not i2c.irq[0].level


def test_write_then_read_with_repeated_start(chip):
    clock, i2c, _, _, _ = chip
    dev = i2c.attach(RegisterTarget(name="sensor", registers={0x0F: 0x69, 0x10: 0x11}), 0x6A)
    events = []
    i2c.bus.monitors.append(lambda e: events.append((e.kind, e.value, e.ack)))
    speed(i2c, 100_000)
    i2c.write(O("MM_FIFO_DATA"), 4, 0x0F)
    transfer(i2c, 0x6A, [(0, 1), (1, 2)])
    assert i2c.read(O("MM_STATUS")) & 1 and not i2c.read(O("MM_STATUS")) & 4   # busy, not ready
    settle(clock)
    assert i2c.irq[0].level and i2c.read(O("I2C_INT_CTRL")) & 1
    assert [i2c.read(O("MM_FIFO_DATA")) for _ in range(2)] == [0x69, 0x11]
    assert i2c.read(O("MM_ACK_VAL")) == 0
    assert events == [("start", 0xD4, True), ("write", 0x0F, True), ("start", 0xD5, True), ("read", 0x69, True),
                      ("read", 0x11, False), ("stop", 0, None)]
    assert dev.pointer == 0x11
    i2c.write(O("I2C_INT_CTRL"), 4, 1 | 1 << 1)                 # W1C the status, keep the enable
    assert not i2c.irq[0].level and i2c.read(O("MM_CON0")) & 1 == 0


def test_gmode_zero_stops_between_packets(chip):
    clock, i2c, _, _, _ = chip
    i2c.attach(RegisterTarget(name="s"), 0x10)
    kinds = []
    i2c.bus.monitors.append(lambda e: kinds.append(e.kind))
    i2c.write(O("MM_FIFO_DATA"), 4, 1)
    transfer(i2c, 0x10, [(0, 1), (1, 1)], gmode=False)
    settle(clock)
    assert kinds == ["start", "write", "stop", "start", "read", "stop"]


@pytest.mark.parametrize("hz,periods_ps", [(100_000, 10_000_000), (400_000, 2_500_000), (1_000_000, 1_000_000)])
def test_bus_speed_is_timed_on_the_virtual_clock(chip, hz, periods_ps):
    clock, i2c, _, _, _ = chip
    i2c.attach(RegisterTarget(name="s"), 0x10)
    speed(i2c, hz)
    assert i2c.bit_period_ps() == periods_ps
    for b in range(4):
        i2c.write(O("MM_FIFO_DATA"), 4, b)
    t0 = clock.now
    transfer(i2c, 0x10, [(0, 4)])
    # START (1) + address (9) + 4 bytes (36) + STOP (1) = 47 SCL periods
    clock.advance_to(t0 + 47 * periods_ps - 1)
    assert not i2c.irq[0].level
    clock.advance_to(t0 + 47 * periods_ps)
    assert i2c.irq[0].level


def test_address_nack_ends_the_transfer(chip):
    clock, i2c, _, _, _ = chip
    i2c.write(O("MM_FIFO_DATA"), 4, 0x55)
    transfer(i2c, 0x33, [(0, 1), (1, 4)])
    settle(clock)
    assert i2c.irq[0].level
    assert i2c.read(O("MM_ACK_VAL")) == 0x101                     # packet 0's address, first byte sent
    assert not i2c.read(O("MM_FIFO_STATUS")) & TX_EMP              # the data byte never left


class NackAfter(I2cTarget):
    def __init__(self, n):
        self.n, self.got = n, []

    def i2c_write(self, byte):
        self.got.append(byte)
        return len(self.got) < self.n


def test_data_nack_records_the_byte_and_stops(chip):
    clock, i2c, _, _, _ = chip
    target = i2c.attach(NackAfter(2), 0x20)
    for b in (1, 2, 3):
        i2c.write(O("MM_FIFO_DATA"), 4, b)
    transfer(i2c, 0x20, [(0, 3)])
    settle(clock)
    assert target.got == [1, 2]
    assert i2c.read(O("MM_ACK_VAL")) == 1 << 2                     # address, byte 1 ACKed; byte 2 NACKed


def test_fifo_overflow_and_underflow_flags(chip):
    clock, i2c, _, _, _ = chip
    i2c.attach(RegisterTarget(name="s"), 0x10)
    for b in range(9):
        i2c.write(O("MM_FIFO_DATA"), 4, b)
    assert i2c.read(O("MM_FIFO_STATUS")) & TX_OVF                  # the ninth byte was dropped
    # a write of 12 bytes with 8 queued and no DMA: the FIFO runs dry, the transfer ends with TX_UDR
    transfer(i2c, 0x10, [(0, 12)])
    settle(clock)
    assert i2c.irq[0].level and i2c.underruns == 1
    assert i2c.read(O("MM_FIFO_STATUS")) & TX_UDR
    assert i2c.read(O("MM_FIFO_DATA")) == 0 and i2c.read(O("MM_FIFO_STATUS")) & RX_UDR
    i2c.write(O("MM_FIFO_CON0"), 4, 3)
    assert i2c.read(O("MM_FIFO_STATUS")) == RX_EMP | TX_EMP


def test_fifo_pointers_count_to_eight_from_a_clear_fifo(chip):
    _, i2c, _, _, _ = chip
    for b in range(8):
        i2c.write(O("MM_FIFO_DATA"), 4, b)
    ptr = i2c.read(O("MM_FIFO_PTR"))
    assert (ptr >> 12 & 0xF) - (ptr >> 8 & 0xF) == 8               # MediaTek's count of a full FIFO
    assert i2c.read(O("MM_FIFO_STATUS")) & (1 << 5)                # TX full


class Stretcher(I2cTarget):
    """Holds SCL low on the first read until released."""

    def __init__(self):
        self.held = False

    def i2c_read(self):
        if not self.held:
            self.held = True
            return WAIT
        return 0x42


def test_clock_stretching_waits_for_the_target(chip):
    clock, i2c, _, _, _ = chip
    target = i2c.attach(Stretcher(), 0x30)
    transfer(i2c, 0x30, [(1, 1)])
    settle(clock, 10)
    assert not i2c.irq[0].level and i2c.read(O("MM_STATUS")) & 1   # still busy: SCL held low
    target.bus.resume()
    settle(clock, 1)
    assert i2c.irq[0].level and i2c.read(O("MM_FIFO_DATA")) == 0x42


def test_fixed_stretch_adds_to_each_byte(chip):
    clock, i2c, _, _, _ = chip
    slow = RegisterTarget(name="slow")
    slow.stretch_ps = 20 * US
    i2c.attach(slow, 0x31)
    speed(i2c, 1_000_000)
    t0 = clock.now
    transfer(i2c, 0x31, [(1, 4)])
    # START + address + 4 bytes (each 9 us + 20 us stretch) + STOP
    clock.advance_to(t0 + (1 + 9 + 4 * 9 + 1) * US + 4 * 20 * US - 1)
    assert not i2c.irq[0].level
    clock.advance_to(clock.now + 1)
    assert i2c.irq[0].level


def dreq_channel(dma, ch, mem_addr, fifo, length, rx):
    dma.write(M4Dma.offset("CH_EN_SET"), 4, 1 << ch)
    dma.write(M4Dma.offset(f"CH{ch}_CON"), 4, (1 << 4) | ((1 << 18 | 1 << 3) if rx else 1 << 2))
    dma.write(M4Dma.offset(f"CH{ch}_PGMADDR"), 4, mem_addr)
    dma.write(M4Dma.offset(f"CH{ch}_FIXADDR"), 4, fifo)
    dma.write(M4Dma.offset(f"CH{ch}_COUNT"), 4, length)
    dma.write(M4Dma.offset(f"CH{ch}_START"), 4, 1 << 15)


def test_dma_moves_transfers_longer_than_the_fifo(chip):
    clock, i2c, dma, mem, _ = chip
    echo = i2c.attach(RegisterTarget(name="mem", auto_increment=True), 0x50)
    data = bytes(range(0x40, 0x40 + 20))
    mem.write(SYSRAM, bytes([0x00]) + data)
    fifo = 0x38090200 + O("MM_FIFO_DATA")
    dreq_channel(dma, 4, SYSRAM, fifo, 21, rx=False)               # ISU2 TX = channel 4
    i2c.write(O("DMA_CON0"), 4, 1 << 4)
    transfer(i2c, 0x50, [(0, 21)])
    settle(clock, 10)
    assert [echo.registers[i] for i in range(20)] == list(data)
    assert not dma.running[4] and dma.read(M4Dma.offset("CH4_RLCT")) == 0
    # read 20 back through the RX channel 5
    i2c.write(O("MM_FIFO_DATA"), 4, 0x00)
    dreq_channel(dma, 5, SYSRAM + 0x100, fifo, 20, rx=True)
    transfer(i2c, 0x50, [(0, 1), (1, 20)])
    settle(clock, 10)
    assert mem.read(SYSRAM + 0x100, 20) == data
    assert i2c.read(O("MM_FIFO_STATUS")) == RX_EMP | TX_EMP


def test_subordinate_receives_and_sends(chip):
    clock, i2c, _, _, _ = chip
    i2c.write(O("S_ID_CON0"), 4, 0x20)
    i2c.write(O("I2C_INT_CTRL"), 4, 1 << 5)
    i2c.write(O("S_CON0"), 4, 1 << 15)
    i2c.bus.write_to(0x20, b"hi!")                                 # a Python master on the same wires
    assert i2c.irq[0].level and i2c.read(O("S_ID_RECEIVED0")) == 0x20
    assert [i2c.read(O("S_FIFO_DATA")) for _ in range(3)] == list(b"hi!")
    i2c.write(O("I2C_INT_CTRL"), 4, 1 << 4 | 1 << 5)
    for b in b"ok":
        i2c.write(O("S_FIFO_DATA"), 4, b)
    assert i2c.bus.read_from(0x20, 2) == b"ok"
    assert i2c.read(O("S_ID_RECEIVED0")) == 0xA0                   # read bit
    i2c.write(O("S_CON0"), 4, 0)
    with pytest.raises(I2cNack):
        i2c.bus.write_to(0x20, b"x")


def test_subordinate_stretches_when_its_fifo_is_full(chip):
    clock, i2c, _, _, _ = chip
    master = IsuI2c(clock=clock, base_address=0x38080200)
    master.join(i2c)
    i2c.write(O("S_ID_CON0"), 4, 0x20)
    i2c.write(O("S_CON0"), 4, 1 << 15)
    speed(master, 100_000)
    for b in range(8):
        master.write(O("MM_FIFO_DATA"), 4, b)
    transfer(master, 0x20, [(0, 10)])                             # 10 > the subordinate's 8-byte FIFO
    for b in (8, 9):
        settle(clock, 0.2)                                        # two bytes at 100 kHz leave room
        master.write(O("MM_FIFO_DATA"), 4, b)
    settle(clock, 10)
    assert master.read(O("MM_STATUS")) & 1 and i2c._s_stretch == "rx"   # held: SCL low
    got = [i2c.read(O("S_FIFO_DATA")) for _ in range(8)]            # software empties it
    settle(clock, 10)
    got += [i2c.read(O("S_FIFO_DATA")) for _ in range(2)]
    assert got == list(range(10)) and not master.read(O("MM_STATUS")) & 1


def test_isu_clock_gate_and_software_reset(chip):
    clock, i2c, _, _, cfg = chip
    i2c.attach(RegisterTarget(name="s"), 0x10)
    cfg.write(0, 4, 0x6001)                                       # only the UART clocked: the pads are not I2C
    i2c.write(O("MM_FIFO_DATA"), 4, 1)
    transfer(i2c, 0x10, [(0, 1)])
    settle(clock)
    assert i2c.read(O("MM_ACK_VAL")) & 0x100                       # nothing answered
    cfg.write(0, 4, 0x0101)
    i2c.write(O("MM_FIFO_CON0"), 4, 3)
    i2c.write(O("MM_FIFO_DATA"), 4, 1)
    transfer(i2c, 0x10, [(0, 1)])
    settle(clock)
    assert i2c.read(O("MM_ACK_VAL")) == 0
    i2c.write(O("MM_CNT_VAL_PHL"), 4, 0x1234)
    cfg.write(0, 4, 0x0100)                                       # CR_SW_RST low: the ISU's functions reset
    assert i2c.read(O("MM_CNT_VAL_PHL")) == 0 and i2c.read(O("MM_CON0")) == 0


def test_ten_bit_address_through_the_seven_bit_controller(chip):
    clock, i2c, _, _, _ = chip
    target = RegisterTarget(name="ten", registers={5: 0x99})
    i2c.bus.attach(target, 0x2A5, ten_bit=True)
    # 11110 A9A8 0 as the slave id, A7..A0 as the first data byte, then a register write and a read back
    for b in (0xA5, 0x05):
        i2c.write(O("MM_FIFO_DATA"), 4, b)
    transfer(i2c, 0x78 | 0x2, [(0, 2), (1, 1)])
    settle(clock)
    assert i2c.read(O("MM_ACK_VAL")) == 0 and i2c.read(O("MM_FIFO_DATA")) == 0x99
    assert i2c.bus.transfer(0x2A5, [b"\x05", 1], ten_bit=True) == [b"\x99"]


def test_arbitration_lost_when_another_master_owns_the_bus(chip):
    clock, i2c, _, _, _ = chip
    i2c.bus.claim("a7")
    transfer(i2c, 0x10, [(1, 1)])
    assert i2c.read(O("MM_STATUS")) & 2 and i2c.irq[0].level and i2c.arb_losses == 1
    i2c.write(O("MM_STATUS"), 4, 2)
    assert not i2c.read(O("MM_STATUS")) & 2
    i2c.bus.release("a7")
    with pytest.raises(I2cBusy):
        transfer(i2c, 0x10, [(1, 1)])
        i2c.bus.read_from(0x10, 1)


def test_snapshot_mid_transfer_resumes(chip):
    clock, i2c, _, _, _ = chip
    i2c.attach(RegisterTarget(name="s", registers={0: 7}), 0x10)
    transfer(i2c, 0x10, [(1, 1)])
    clock.advance_to(clock.now + 20 * US)
    snap = i2c.snapshot()
    settle(clock)
    first = i2c.read(O("MM_FIFO_DATA"))
    i2c.restore(snap)
    settle(clock)
    assert i2c.read(O("MM_FIFO_DATA")) == first == 7
