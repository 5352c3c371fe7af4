"""The ISU configuration block: function clocks choose the ISU's mode as on the chip, CR_SW_RST resets the
functions, the platform/board `mode` attribute sets what the OS leaves for the app."""
import pytest

from mt3620.engine.simulation.clock import VirtualClock
from mt3620.peripherals.buses.i2c import I2cNack
from mt3620.peripherals.isu.i2c import IsuI2c
from mt3620.peripherals.isu.isu_config import IsuConfig
from mt3620.peripherals.isu.spi_master import IsuSpiMaster
from mt3620.peripherals.isu.spi_subordinate import IsuSpiSubordinate


def isu(mode="all"):
    clock = VirtualClock()
    cfg = IsuConfig(clock=clock, base_address=0x380A0000, mode=mode)
    i2c = IsuI2c(clock=clock, base_address=0x380A0200, isu=cfg)
    spim = IsuSpiMaster(clock=clock, base_address=0x380A0300, isu=cfg)
    spis = IsuSpiSubordinate(clock=clock, base_address=0x380A0400, isu=cfg)
    return clock, cfg, i2c, spim, spis


def test_reset_value_clocks_every_function():
    _, cfg, i2c, spim, spis = isu()
    assert cfg.read(0) == 0xFF01 and cfg.isu == 3
    assert all(cfg.clocked(f) for f in ("i2c", "spim", "spis", "uart"))
    assert (i2c.isu_number, spim.isu_number, spis.isu_number) == (3, 3, 3)


@pytest.mark.parametrize("mode,value,on", [("i2c", 0x0101, {"i2c"}), ("spi", 0x1E01, {"spim"}),
                                           ("uart", 0x6001, {"uart"}), ("spis", 0x8001, {"spis"})])
def test_mode_attribute_is_what_the_os_leaves(mode, value, on):
    _, cfg, _, _, _ = isu(mode)
    assert cfg.read(0) == value
    assert {f for f in ("i2c", "spim", "spis", "uart") if cfg.clocked(f)} == on


def test_unknown_mode_and_base_are_refused():
    with pytest.raises(ValueError):
        IsuConfig(clock=VirtualClock(), base_address=0x38070000, mode="can")
    with pytest.raises(ValueError):
        IsuConfig(clock=VirtualClock(), base_address=0x38070100)
    with pytest.raises(ValueError):
        IsuI2c(clock=VirtualClock(), base_address=0x38120200)         # ISU5 does not exist


def test_a_function_without_its_clock_does_not_reach_the_pads():
    clock, cfg, i2c, _, spis = isu()
    i2c.write(IsuI2c.offset("S_ID_CON0"), 4, 0x22)
    i2c.write(IsuI2c.offset("S_CON0"), 4, 1 << 15)
    i2c.bus.write_to(0x22, b"\x01")                                  # I2C subordinate answers
    cfg.write(0, 4, 0x1E01)                                          # the ISU becomes an SPI master
    with pytest.raises(I2cNack):
        i2c.bus.write_to(0x22, b"\x01")
    spis.write(0, 4, 1)
    assert spis.bus.transfer(b"\x03\x00")[1] == 0xFF                 # the subordinate is not clocked either
    cfg.write(0, 4, 0x8001)
    spis.write(IsuSpiSubordinate.offset("SPIS_D2HMB"), 4, 1)
    assert spis.bus.transfer(b"\x03\x00")[1] == 1


def test_software_reset_resets_the_functions():
    _, cfg, i2c, spim, spis = isu()
    i2c.write(IsuI2c.offset("MM_CNT_VAL_PHL"), 4, 0x1234)
    spim.write(IsuSpiMaster.offset("SOAR"), 4, 0xAB)
    spis.write(IsuSpiSubordinate.offset("SPIS_TX_DATA"), 4, 7)
    cfg.write(0, 4, 0xFF01)                                          # high to high: nothing happens
    assert spim.read(IsuSpiMaster.offset("SOAR")) == 0xAB
    cfg.write(0, 4, 0xFF00)                                          # CR_SW_RST low
    assert i2c.read(IsuI2c.offset("MM_CNT_VAL_PHL")) == 0
    assert spim.read(IsuSpiMaster.offset("SOAR")) == 0
    assert spis.read(IsuSpiSubordinate.offset("SPIS_TX_COUNT")) == 0
    assert not cfg.clocked("i2c")                                    # held in reset
    cfg.write(0, 4, 0xFF01)
    assert cfg.clocked("i2c")


def test_select_mode_keeps_the_reset_bit():
    _, cfg, _, _, _ = isu()
    cfg.select_mode("i2c")
    assert cfg.read(0) == 0x0101 and cfg.mode == "i2c"
    cfg.write(0, 4, 0x0100)
    cfg.select_mode("uart")
    assert cfg.read(0) == 0x6000


def test_pad_registers_keep_what_is_written():
    _, cfg, _, _, _ = isu()
    cfg.write(0x70, 4, 0x33)
    cfg.write(0xA0, 4, 0x6)
    assert cfg.read(0x70) == 0x33 and cfg.read(0xA0) == 0x6
    assert cfg.read(0x1FC) == 0                                      # unnamed space reads zero
