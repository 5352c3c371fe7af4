"""I2C and SPI loopbacks, and the 24-series I2C EEPROM (page writes, write cycle with acknowledge polling,
sequential reads, two-byte addresses, the image file)."""
import pytest

from mt3620.engine.simulation.clock import PS_PER_SECOND, VirtualClock
from mt3620.peripherals.buses.i2c import I2cBus, I2cNack
from mt3620.peripherals.buses.spi import SpiBus
from mt3620.peripherals.devices.base import DeviceError
from mt3620.peripherals.devices.eeprom import I2cEeprom
from mt3620.peripherals.devices.loopback import I2cLoopback, SpiLoopback


def test_i2c_loopback_returns_what_was_written():
    bus = I2cBus()
    dev = bus.attach(I2cLoopback(depth=4), 0x40)
    bus.write_to(0x40, b"abcdef")
    assert bus.read_from(0x40, 5) == b"cdef\xff"                     # the oldest dropped beyond the depth


def test_spi_loopback_in_every_mode():
    bus = SpiBus()
    bus.attach(SpiLoopback(), "always")
    for mode in range(4):
        assert bus.exchange(b"\x12\x34", mode=mode) == b"\x12\x34"


@pytest.fixture
def rom():
    clock, bus = VirtualClock(), I2cBus()
    return clock, bus.attach(I2cEeprom(name="rom", clock=clock), 0x50), bus   # attach gives the device back


def test_erased_reads_ff_and_sequential_reads_wrap(rom):
    _, dev, bus = rom
    assert bus.write_read(0x50, b"\xfe", 4) == b"\xff" * 4
    assert dev.pointer == 2                                          # wrapped past the end


def test_page_write_wraps_within_the_page_and_polls(rom):
    clock, dev, bus = rom
    bus.write_to(0x50, b"\x06" + b"ABCD")                            # page 0..7: C, D wrap to 0, 1
    with pytest.raises(I2cNack):
        bus.read_from(0x50, 1)                                       # write cycle: no ACK
    clock.advance_to(clock.now + 5 * PS_PER_SECOND // 1000)
    assert bus.write_read(0x50, b"\x00", 8) == b"CD\xff\xff\xff\xffAB"
    assert dev.cycles == 1


def test_two_byte_addresses_and_image(tmp_path):
    clock = VirtualClock()
    img = tmp_path / "rom.bin"
    dev = I2cEeprom(clock=clock, size=32768, page=64, image=str(img))
    bus = I2cBus()
    bus.attach(dev, 0x51)
    bus.write_to(0x51, b"\x12\x34hello")
    clock.advance_to(PS_PER_SECOND)
    assert bus.write_read(0x51, b"\x12\x34", 5) == b"hello"
    assert img.read_bytes()[0x1234:0x1239] == b"hello"
    again = I2cEeprom(clock=clock, size=32768, page=64, image=str(img))
    assert again.memory[0x1234:0x1239] == b"hello"


@pytest.mark.parametrize("kw", [{"size": 300}, {"size": 256, "page": 7}, {"size": 1 << 20}])
def test_bad_parts_are_refused(kw):
    with pytest.raises(DeviceError):
        I2cEeprom(**kw)
