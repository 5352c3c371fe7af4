"""Register-level tests of the ISU SPI master: half and full duplex transfers, the four modes, CSA/CSB and their
polarity, GPIO chip selects, timing at the programmed clock on the virtual clock, the interrupt, the DMA dataport,
transfers longer than the buffer, the ISU's clock gate. Virtual time is stepped explicitly."""
import logging

import pytest

from mt3620.engine.simulation.clock import PS_PER_SECOND, VirtualClock
from mt3620.peripherals.buses.spi import SpiTarget
from mt3620.peripherals.devices.loopback import SpiLoopback
from mt3620.peripherals.dma.m4_dma import M4Dma
from mt3620.peripherals.isu.isu_config import IsuConfig
from mt3620.peripherals.isu.spi_master import IsuSpiMaster
from mt3620.peripherals.mailbox.intercore import ByteMemory

O = IsuSpiMaster.offset
SYSRAM = 0x22000000
BASE = 0x38080300                          # ISU1: DMA channels 2 (TX) and 3 (RX)
MORE_BUF, INT_EN, FULL = 1 << 2, 1 << 9, 1 << 10


class Bus(ByteMemory):
    def __init__(self, spi):
        super().__init__(SYSRAM, 0x10000)
        self.spi = spi

    def read(self, address, length, access=None):
        if BASE <= address < BASE + 0x100:
            return self.spi.read(address - BASE, length).to_bytes(length, "little")
        return super().read(address, length, access)

    def write(self, address, data, access=None):
        if BASE <= address < BASE + 0x100:
            self.spi.write(address - BASE, len(data), int.from_bytes(data, "little"))
            return
        super().write(address, data, access)


class Recorder(SpiTarget):
    """Records every byte and select edge; answers from a queue (0xFF when empty)."""

    def __init__(self, reply=b"", modes=frozenset({0, 3})):
        self.reply, self.modes = list(reply), frozenset(modes)
        self.got, self.edges = [], []

    def spi_select(self):
        self.edges.append("select")

    def spi_deselect(self):
        self.edges.append("deselect")

    def spi_exchange(self, byte):
        self.got.append(byte)
        return self.reply.pop(0) if self.reply else 0xFF


@pytest.fixture
def chip():
    clock = VirtualClock()
    cfg = IsuConfig(clock=clock, base_address=0x38080000)
    spi = IsuSpiMaster(clock=clock, base_address=BASE, isu=cfg)
    mem = Bus(spi)
    dma = M4Dma(clock=clock, base_address=0x21080000, cpu="io0", memory=mem)
    spi.link("dma", dma)
    return clock, spi, dma, mem, cfg


def smmr(cs=0, clk_sel=0, mode=0, extra=0):
    return MORE_BUF | INT_EN | (mode >> 1) << 4 | (mode & 1) << 5 | clk_sel << 16 | cs << 29 | extra


def program(spi, cmd=b"", mosi=b"", miso=0, cs=0, clk_sel=0, mode=0, extra=0):
    spi.write(O("SOAR"), 4, int.from_bytes(cmd, "big") if cmd else 0)
    sdor = mosi.ljust(32, b"\0")[:32]
    for i in range(8):
        spi.write(O(f"SDOR{i}"), 4, int.from_bytes(sdor[4 * i:4 * i + 4], "little"))
    spi.write(O("SMMR"), 4, smmr(cs, clk_sel, mode, extra))
    spi.write(O("SMBCR"), 4, 8 * len(cmd) << 24 | 8 * miso << 12 | 8 * len(mosi))


def start(spi):
    spi.write(O("STCSR"), 4, 1 << 8)


def sdir(spi, start=0, n=32):
    raw = b"".join(spi.read(O(f"SDIR{i}")).to_bytes(4, "little") for i in range(8))
    return raw[start:start + n]


def settle(clock, us=100):
    clock.advance_to(clock.now + us * PS_PER_SECOND // 1_000_000)


def test_reset_values(chip):
    _, spi, _, _, _ = chip
    assert spi.read(O("STCSR")) == 0 and spi.read(O("SCSR")) == 0 and not spi.irq[0].level
    assert spi.bus.line_levels == [1, 1]          # CS idle high


def test_half_duplex_command_write_then_read(chip):
    clock, spi, _, _, _ = chip
    dev = spi.attach(Recorder(reply=b"\xff\xff\xff\x11\x22\x33"), "csA")
    program(spi, cmd=b"\x9f", mosi=b"\x01\x02", miso=3)
    start(spi)
    assert spi.read(O("STCSR")) & (1 << 16)                        # busy
    settle(clock)
    assert spi.irq[0].level
    assert dev.got == [0x9F, 1, 2, 0xFF, 0xFF, 0xFF]                # MOSI held high while the reply is read
    assert dev.edges == ["select", "deselect"]
    assert sdir(spi, 0, 3) == b"\x11\x22\x33"
    assert spi.read(O("SCSR")) == 0b111                             # OK, RX, TX
    assert not spi.irq[0].level and spi.read(O("SCSR")) == 0         # read to clear


def test_full_duplex_reply_lands_at_sdir_byte_16(chip):
    clock, spi, _, _, _ = chip
    spi.attach(SpiLoopback(), "always")
    program(spi, mosi=bytes(range(1, 9)), miso=8, extra=FULL)
    start(spi)
    settle(clock)
    assert sdir(spi, 16, 8) == bytes(range(1, 9))
    assert sdir(spi, 0, 8) == bytes(8)


@pytest.mark.parametrize("mode", [0, 1, 2, 3])
def test_modes_reach_a_device_of_the_same_mode(chip, mode):
    clock, spi, _, _, _ = chip
    dev = spi.attach(Recorder(reply=b"\xff\xa5", modes={mode}), "csB")
    program(spi, cmd=b"\x3c", miso=1, cs=1, mode=mode)
    start(spi)
    settle(clock)
    assert dev.got[0] == 0x3C and sdir(spi, 0, 1) == b"\xa5"


def test_wrong_mode_sees_bits_one_late(chip):
    clock, spi, _, _, _ = chip
    dev = spi.attach(Recorder(reply=b"\xff\xa5", modes={0}), "csA")
    program(spi, cmd=b"\x3c", miso=1, mode=1)
    start(spi)
    settle(clock)
    assert dev.got[0] != 0x3C and sdir(spi, 0, 1) != b"\xa5"


def test_chip_select_lines_and_polarity(chip):
    clock, spi, _, _, _ = chip
    a, b = spi.attach(Recorder(), "csA"), spi.attach(Recorder(), "csB+")
    spi.write(O("CSPOL"), 4, 0b10)                                   # CSB active high
    assert spi.bus.line_levels[1] == 0                                # idle low now
    program(spi, cmd=b"\x01", cs=1)
    start(spi)
    settle(clock)
    assert b.got == [1] and a.got == []
    program(spi, cmd=b"\x02", cs=0)
    start(spi)
    settle(clock)
    assert a.got == [2] and b.got == [1]


def test_gpio_chip_select_and_cs_null(chip):
    clock, spi, _, _, _ = chip
    dev = spi.attach(Recorder(reply=b"\xff\x5a"), "gpio0")
    program(spi, cmd=b"\x0b", miso=1, cs=7)                          # MT3620_CS_NULL: firmware owns the select
    start(spi)
    settle(clock)
    assert dev.got == [] and sdir(spi, 0, 1) == b"\xff"              # not selected: MISO floats high
    spi.bus.gpio_changed(0, 0)
    start(spi)
    settle(clock)
    assert dev.got == [0x0B, 0xFF] and sdir(spi, 0, 1) == b"\x5a"


@pytest.mark.parametrize("clk_sel", [0, 2, 78])
def test_transfer_time_follows_the_programmed_clock(chip, clk_sel):
    clock, spi, _, _, _ = chip
    spi.attach(SpiLoopback(), "always")
    program(spi, cmd=b"\x01\x02", mosi=bytes(4), clk_sel=clk_sel)
    assert spi.sclk_hz() == pytest.approx(79_040_000 / (clk_sel + 2))
    t0 = clock.now
    start(spi)
    periods = 8 * 6 + 2                                              # 48 bits + CS setup and hold (1 + 1)
    end = t0 + periods * (clk_sel + 2) * PS_PER_SECOND // 79_040_000
    clock.advance_to(end - 1000)
    assert not spi.irq[0].level and spi.read(O("STCSR")) & (1 << 16)
    clock.advance_to(end + 1000)
    assert spi.irq[0].level and not spi.read(O("STCSR")) & (1 << 16)


def test_lsb_first_reverses_bits_on_the_wire(chip):
    clock, spi, _, _, _ = chip
    dev = spi.attach(Recorder(), "csA")
    program(spi, cmd=b"\x01", extra=1 << 3)
    start(spi)
    settle(clock)
    assert dev.got == [0x80]


def test_a_transfer_longer_than_the_buffer_wraps_and_is_logged(chip, caplog):
    clock, spi, _, _, _ = chip
    dev = spi.attach(Recorder(), "csA")
    program(spi, mosi=bytes(range(32)))
    spi.write(O("SMBCR"), 4, 8 * 40)                                 # 40 bytes out of a 32-byte buffer
    with caplog.at_level(logging.WARNING):
        start(spi)
        settle(clock)
    assert dev.got == list(range(32)) + list(range(8)) and spi.wrapped == 1
    assert "longer than the 32-byte buffer" in caplog.text


def test_nothing_attached_reads_ff(chip):
    clock, spi, _, _, _ = chip
    program(spi, cmd=b"\x9f", miso=4)
    start(spi)
    settle(clock)
    assert sdir(spi, 0, 4) == b"\xff" * 4 and spi.read(O("SCSR")) & 1


def test_isu_clock_gate(chip):
    clock, spi, _, _, cfg = chip
    dev = spi.attach(Recorder(reply=b"\xff\x12"), "csA")
    cfg.write(0, 4, 0x0101)                                          # I2C clocked, not the SPI master
    program(spi, cmd=b"\x9f", miso=1)
    start(spi)
    settle(clock)
    assert dev.got == [] and sdir(spi, 0, 1) == b"\xff"
    cfg.write(0, 4, 0x1E01)
    start(spi)
    settle(clock)
    assert dev.got == [0x9F, 0xFF] and sdir(spi, 0, 1) == b"\x12"


def dreq(dma, ch, addr, fifo, words, rx):
    dma.write(M4Dma.offset("CH_EN_SET"), 4, 1 << ch)
    size = 2 << 0                                                    # 4-byte beats
    con = size | (1 << 4) | ((1 << 18 | 1 << 3) if rx else 1 << 2)
    dma.write(M4Dma.offset(f"CH{ch}_CON"), 4, con)
    dma.write(M4Dma.offset(f"CH{ch}_PGMADDR"), 4, addr)
    dma.write(M4Dma.offset(f"CH{ch}_FIXADDR"), 4, fifo)
    dma.write(M4Dma.offset(f"CH{ch}_COUNT"), 4, words)
    dma.write(M4Dma.offset(f"CH{ch}_START"), 4, 1 << 15)


def test_dma_dataport_runs_a_configuration_block(chip):
    """A 12-word configuration block (+ the padding word, dropped while busy) through the TX channel, the reply
    through the RX channel; twice, as CodethinkLabs' driver runs one block per transfer."""
    clock, spi, dma, mem, _ = chip
    spi.attach(SpiLoopback(), "always")
    port = BASE + O("DATAPORT")
    for k in range(2):
        words = [0] + [int.from_bytes(bytes([k * 32 + 4 * i + j for j in range(4)]), "little") for i in range(8)]
        words += [smmr(extra=FULL), 8 * 16 << 12 | 8 * 16, 1 << 8, 0]   # SMMR, SMBCR, STCSR (start), padding
        mem.write(SYSRAM, b"".join(w.to_bytes(4, "little") for w in words))
        spi.write(O("CSPOL"), 4, 1 << 8)                              # DMA mode
        dreq(dma, 3, SYSRAM + 0x400 + 16 * k, port, 4, rx=True)
        dreq(dma, 2, SYSRAM, port, 13, rx=False)
        settle(clock, 200)
        spi.write(O("CSPOL"), 4, 0)
        assert spi.transfers == k + 1 and not dma.running[2] and not dma.running[3]
        assert spi.read(O("SCSR")) & 1
    assert mem.read(SYSRAM + 0x400, 32) == bytes(range(0, 16)) + bytes(range(32, 48))


def test_dma_descriptor_pointing_nowhere_stops_the_channel(chip, caplog):
    clock, spi, dma, _, _ = chip
    spi.write(O("CSPOL"), 4, 1 << 8)
    with caplog.at_level(logging.WARNING):
        dreq(dma, 2, 0x60000000, BASE + O("DATAPORT"), 13, rx=False)
        settle(clock)
    assert dma.bus_errors == 1 and not dma.running[2] and spi.transfers == 0
    assert "bus error" in caplog.text


def test_snapshot_mid_transfer(chip):
    clock, spi, _, _, _ = chip
    dev = spi.attach(Recorder(reply=b"\xff\x77"), "csA")
    program(spi, cmd=b"\x05", miso=1, clk_sel=200)
    start(spi)
    snap = spi.snapshot()
    settle(clock, 1000)
    assert sdir(spi, 0, 1) == b"\x77"
    spi.restore(snap)
    assert spi.read(O("STCSR")) & (1 << 16)


def test_dma_channels_shared_by_the_isu_functions(chip):
    """The ISU's I2C and SPI subordinate sit on the same two DMA channels: the function in DMA mode takes them."""
    from mt3620.peripherals.isu.i2c import IsuI2c
    from mt3620.peripherals.isu.spi_subordinate import IsuSpiSubordinate
    clock, spi, dma, mem, cfg = chip
    for cls, base in ((IsuI2c, 0x38080200), (IsuSpiSubordinate, 0x38080400)):
        other = cls(clock=clock, base_address=base, isu=cfg)
        other.link("dma", dma)                                       # linked after the SPI master
    spi.attach(SpiLoopback(), "always")
    words = [0, 0x44332211] + [0] * 7 + [smmr(extra=FULL), 8 * 4 << 12 | 8 * 4, 1 << 8, 0]
    mem.write(SYSRAM, b"".join(w.to_bytes(4, "little") for w in words))
    spi.write(O("CSPOL"), 4, 1 << 8)
    dreq(dma, 3, SYSRAM + 0x400, BASE + O("DATAPORT"), 1, rx=True)
    dreq(dma, 2, SYSRAM, BASE + O("DATAPORT"), 13, rx=False)
    settle(clock, 100)
    assert spi.transfers == 1 and mem.read(SYSRAM + 0x400, 4) == b"\x11\x22\x33\x44"
