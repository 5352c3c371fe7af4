"""The ISU SPI subordinate: the opcode protocol of MediaTek's mhal_spis.h (write, read, status, interrupt, clear,
mailbox), its FIFOs and interrupts (emulator-defined map), DMA, and another ISU's SPI master driving it."""
from mt3620.engine.simulation.clock import PS_PER_SECOND, VirtualClock
from mt3620.peripherals.dma.m4_dma import M4Dma
from mt3620.peripherals.isu.spi_master import IsuSpiMaster
from mt3620.peripherals.isu.spi_subordinate import IsuSpiSubordinate
from mt3620.peripherals.mailbox.intercore import ByteMemory

O = IsuSpiSubordinate.offset
SYSRAM = 0x22000000


class Bus(ByteMemory):
    """SYSRAM plus the subordinate's registers, as the DMA reaches them."""

    def __init__(self, block, base):
        super().__init__(SYSRAM, 0x1000)
        self.block, self.regs_at = block, base

    def read(self, address, length, access=None):
        if self.regs_at <= address < self.regs_at + 0x100:
            return self.block.read(address - self.regs_at, length).to_bytes(length, "little")
        return super().read(address, length, access)


def sub(**kw):
    clock = VirtualClock()
    spis = IsuSpiSubordinate(clock=clock, base_address=0x38090400, **kw)
    spis.write(O("SPIS_CTRL"), 4, 1)
    spis.write(O("SPIS_IRQ_EN"), 4, 0xF)
    return clock, spis


def test_master_writes_into_the_rx_fifo():
    _, spis = sub()
    spis.bus.transfer(b"\x01" + bytes(range(10, 18)))
    assert spis.read(O("SPIS_RX_COUNT")) == 8
    assert spis.irq[0].level and spis.read(O("SPIS_IRQ_STS")) == 2
    assert [spis.read(O("SPIS_RX_DATA")) for _ in range(8)] == list(range(10, 18))
    assert spis.read(O("SPIS_RX_DATA")) == 0                         # empty reads zero
    spis.write(O("SPIS_IRQ_STS"), 4, 2)
    assert not spis.irq[0].level


def test_master_reads_the_tx_fifo_then_ff():
    _, spis = sub()
    for b in (0xA1, 0xA2):
        spis.write(O("SPIS_TX_DATA"), 4, b)
    assert spis.bus.transfer(b"\x02\0\0\0")[1:] == b"\xa1\xa2\xff"
    assert spis.read(O("SPIS_IRQ_STS")) == 4


def test_status_mailbox_and_interrupt_opcodes():
    _, spis = sub()
    spis.write(O("SPIS_D2HMB"), 4, 2)                               # software: done
    assert spis.read(O("SPIS_STATUS")) == 2
    assert spis.bus.transfer(b"\x03\0")[1] == 2
    spis.bus.transfer(b"\x09")                                       # master clears the status
    assert spis.read(O("SPIS_STATUS")) == 0
    spis.bus.transfer(b"\x0a\x64")                                   # mailbox: bit 6, write, 4 words
    assert spis.read(O("SPIS_H2DMB")) == 0x64 and spis.read(O("SPIS_IRQ_STS")) & 1
    spis.bus.transfer(b"\x08")
    assert spis.read(O("SPIS_IRQ_STS")) & 8


def test_full_fifos_drop_and_count():
    _, spis = sub()
    spis.bus.transfer(b"\x01" + bytes(40))
    assert spis.read(O("SPIS_RX_COUNT")) == 32 and spis.dropped == 8
    for b in range(34):
        spis.write(O("SPIS_TX_DATA"), 4, b)
    assert spis.read(O("SPIS_TX_COUNT")) == 32
    spis.write(O("SPIS_FIFO_CLR"), 4, 3)
    assert spis.read(O("SPIS_RX_COUNT")) == 0 and spis.read(O("SPIS_TX_COUNT")) == 0


def test_disabled_or_wrong_mode_does_not_answer():
    _, spis = sub()
    spis.write(O("SPIS_TX_DATA"), 4, 0x42)
    spis.write(O("SPIS_CTRL"), 4, 0)
    assert spis.bus.transfer(b"\x02\0")[1] == 0xFF
    spis.write(O("SPIS_CTRL"), 4, 1 | 2 | 4)                        # mode 3
    assert spis.bus.transfer(b"\x02\0", mode=3)[1] == 0x42


def test_another_isu_master_drives_it():
    clock = VirtualClock()
    spis = IsuSpiSubordinate(clock=clock, base_address=0x38090400)
    spis.write(O("SPIS_CTRL"), 4, 1)
    master = IsuSpiMaster(clock=clock, base_address=0x38080300)
    master.attach(spis, "csA")
    M = IsuSpiMaster.offset
    master.write(M("SOAR"), 4, 0x01)
    master.write(M("SDOR0"), 4, 0x44332211)
    master.write(M("SMMR"), 4, 1 << 2)
    master.write(M("SMBCR"), 4, 8 << 24 | 32)
    master.write(M("STCSR"), 4, 1 << 8)
    clock.advance_to(clock.now + PS_PER_SECOND // 1000)
    assert [spis.read(O("SPIS_RX_DATA")) for _ in range(4)] == [0x11, 0x22, 0x33, 0x44]


def test_rx_dma_drains_what_the_master_writes():
    clock = VirtualClock()
    spis = IsuSpiSubordinate(clock=clock, base_address=0x38090400)
    mem = Bus(spis, 0x38090400)
    dma = M4Dma(clock=clock, base_address=0x21080000, cpu="io0", memory=mem)
    spis.link("dma", dma)
    spis.write(O("SPIS_CTRL"), 4, 1 | 8)
    ch = 5                                                           # ISU2 RX
    dma.write(M4Dma.offset("CH_EN_SET"), 4, 1 << ch)
    dma.write(M4Dma.offset(f"CH{ch}_CON"), 4, 1 << 4 | 1 << 18 | 1 << 3)
    dma.write(M4Dma.offset(f"CH{ch}_PGMADDR"), 4, SYSRAM)
    dma.write(M4Dma.offset(f"CH{ch}_FIXADDR"), 4, 0x38090400 + O("SPIS_RX_DATA"))
    dma.write(M4Dma.offset(f"CH{ch}_COUNT"), 4, 6)
    dma.write(M4Dma.offset(f"CH{ch}_START"), 4, 1 << 15)
    spis.bus.transfer(b"\x01abcdef")
    assert mem.read(SYSRAM, 6) == b"abcdef" and not dma.running[ch]
