"""Register-level tests of the GPIO block model."""
import pytest

from mt3620.engine.simulation.clock import VirtualClock
from mt3620.peripherals.gpio.gpio_block import GpioBlock

DIN, DOUT, DOUT_SET, DOUT_RESET = (GpioBlock.offset(n) for n in ("GPIO_PWM_GRP_DIN", "DOUT", "DOUT_SET", "DOUT_RESET"))
OE, OE_SET, OE_RESET, PU, PU_SET, PD, IES, IES_SET, IES_RESET = (
    GpioBlock.offset(n) for n in ("OE", "OE_SET", "OE_RESET", "PU", "PU_SET", "PD", "IES", "IES_SET", "IES_RESET"))
GLOBAL_CTRL = GpioBlock.offset("GPIO_PWM_GRP_GLOBAL_CTRL")


@pytest.fixture
def blk():
    return GpioBlock(clock=VirtualClock(), base_address=0x38030000)     # block 2: GPIO 8..11


def test_block_number_and_pins_from_base(blk):
    assert blk.block == 2 and list(blk.pins) == [8, 9, 10, 11]
    assert blk.eint_number(9) == 29
    with pytest.raises(ValueError):
        GpioBlock(base_address=0x38011000)
    with pytest.raises(ValueError):
        GpioBlock(base_address=0x38070000)


def test_reset_values(blk):
    assert blk.read(DOUT) == 0 and blk.read(OE) == 0 and blk.read(PU) == 0 and blk.read(PD) == 0
    assert blk.read(IES) == 0xF
    assert blk.read(DIN) == 0
    assert blk.read(GLOBAL_CTRL) == 0x6
    assert [blk.output_level(p) for p in blk.pins] == [None] * 4
    assert not any(line.level for line in blk.irq)


def test_output_via_set_reset_and_listener(blk):
    seen = []
    blk.add_output_listener(lambda pin, level: seen.append((pin, level)))
    blk.write(OE_SET, 4, 0b0011)           # CTD ConfigurePin(output)
    blk.write(IES_RESET, 4, 0b0011)
    assert seen == [(8, 0), (9, 0)]
    blk.write(DOUT_SET, 4, 0b0010)
    assert blk.output_level(9) == 1 and blk.output_level(8) == 0
    assert blk.read(DOUT) == 0b0010
    assert blk.read(DOUT_SET) == 0         # alias registers read as 0
    blk.write(DOUT_RESET, 4, 0b0010)
    assert blk.read(DOUT) == 0
    assert seen[-2:] == [(9, 1), (9, 0)]
    blk.write(DOUT_SET, 4, 0xFFFFFFF0)     # bits outside the block's four pins change nothing
    assert blk.read(DOUT) == 0
    assert len(seen) == 4


def test_input_drive_pulls_and_ies(blk):
    blk.drive_input(10, 1)
    assert blk.read(DIN) == 0b0100
    assert blk.irq[2].level                 # EINT line of GPIO 10
    blk.write(IES_RESET, 4, 0b0100)
    assert blk.read(DIN) == 0 and not blk.irq[2].level
    blk.write(IES_SET, 4, 0b0100)
    blk.drive_input(10, None)               # released: floating reads 0
    assert blk.read(DIN) == 0
    blk.write(PU_SET, 4, 0b0100)
    assert blk.read(DIN) == 0b0100          # pull-up
    assert blk.pad_level(10) == 1
    blk.drive_input(10, False)
    assert blk.read(DIN) == 0               # external drive beats the pull-up


def test_output_wins_over_external_drive_and_reads_back(blk):
    blk.drive_input(11, 0)
    blk.write(OE_SET, 4, 0b1000)
    blk.write(DOUT_SET, 4, 0b1000)
    assert blk.read(DIN) == 0b1000
    assert blk.pad_level(11) == 1


def test_bad_pins_and_levels(blk):
    with pytest.raises(ValueError):
        blk.drive_input(3, 1)
    with pytest.raises(ValueError):
        blk.output_level(12)
    with pytest.raises(ValueError):
        blk.drive_input(8, 7)


def test_nonsense_writes_and_reset(blk):
    blk.write(DIN, 4, 0xF)                  # read-only
    blk.write(0xFFC, 4, 0xFFFFFFFF)         # undefined
    assert blk.read(DIN) == 0 and blk.read(0xFFC) == 0
    blk.write(OE, 4, 0xF)
    blk.write(DOUT, 4, 0x5)
    blk.drive_input(8, 1)
    blk.reset()
    assert blk.read(OE) == 0 and blk.read(DOUT) == 0
    assert blk.read(DIN) == 0b0001          # the outside drive is not part of the chip: it stays


def test_snapshot_restore(blk):
    blk.write(OE, 4, 0x3)
    blk.write(DOUT, 4, 0x1)
    snap = blk.snapshot()
    other = GpioBlock(base_address=0x38030000)
    other.restore(snap)
    assert other.output_level(8) == 1 and other.output_level(9) == 0 and other.output_level(10) is None
