"""Board descriptions (Renode style): parsing, every bus kind, devices from Python, errors that name the file and
line, the RDB default, and a missing device behaving as on the board (NACK on I2C, 0xFF on SPI, 0 V on the ADC)."""
from pathlib import Path

import pytest

from mt3620.engine.simulation.clock import VirtualClock
from mt3620.peripherals.adc.adc import Adc
from mt3620.peripherals.board.board import RDB_BOARD, Board, BoardError, parse_board
from mt3620.peripherals.buses.i2c import I2cNack
from mt3620.peripherals.gpio.gpio_block import GpioBlock
from mt3620.peripherals.i2s.i2s import I2s
from mt3620.peripherals.isu.i2c import IsuI2c
from mt3620.peripherals.isu.spi_master import IsuSpiMaster
from mt3620.peripherals.isu.spi_subordinate import IsuSpiSubordinate

BOARD = """\
// a test board
imu: Sensors.LSM6DS3 @ isu2.i2c 0x6A
    accel: (0, 0, 1.0)
oled: Video.SSD1306 @ isu2.i2c 0x3C
rgb: Video.SSD1331 @ isu1.spi csA
    dc: 2
    reset: 3
card: Storage.SDCard @ isu1.spi csB
    size_mb: 1
codec: Sound.MAX98090 @ isu2.i2c 0x10
    i2s: i2s0
pot: Analog.Input @ adc 1
    voltage: 1.25V
pulses: GPIO.Waveform @ gpio 4
    signal: "square(0, 1, 10Hz)"
wire: I2C.Join @ isu1.i2c
    with: isu2.i2c
sub: ISU.SpiSubordinate @ isu1.spi gpio5
    isu: 2
rom: Memory.I2CEeprom @ isu1.i2c 0x50
"""


@pytest.fixture
def chip():
    clock = VirtualClock()
    models = {
        "isu1_i2c": IsuI2c(clock=clock, base_address=0x38080200),
        "isu2_i2c": IsuI2c(clock=clock, base_address=0x38090200),
        "isu1_spim": IsuSpiMaster(clock=clock, base_address=0x38080300),
        "isu2_spis": IsuSpiSubordinate(clock=clock, base_address=0x38090400),
        "adc": Adc(clock=clock, base_address=0x38000000),
        "i2s0": I2s(clock=clock, base_address=0x380D0000),
        "gpio0": GpioBlock(clock=clock, base_address=0x38010000),
        "gpio1": GpioBlock(clock=clock, base_address=0x38020000),
    }
    return clock, models, Board(models, clock)


def test_parse_entries_and_settings():
    entries = parse_board(BOARD, "test.board")
    assert [e.name for e in entries][:3] == ["imu", "oled", "rgb"]
    imu = entries[0]
    assert (imu.type, imu.bus, imu.address, imu.settings) == ("Sensors.LSM6DS3", "isu2.i2c", "0x6A",
                                                              {"accel": (0, 0, 1.0)})
    assert entries[-3].settings == {"with": "isu2.i2c"}


def test_every_bus_kind_is_built(chip, tmp_path):
    clock, models, board = chip
    names = board.load_text(BOARD, "test.board", base_dir=tmp_path)
    assert len(names) == 10
    i2c2 = models["isu2_i2c"].bus
    assert i2c2.target_at(0x6A) is board.device("imu") and i2c2.target_at(0x3C) is board.device("oled")
    assert board.device("codec") in models["i2s0"].devices
    assert models["adc"].voltage(1) == 1.25 and board.device("pot").voltage == 1.25
    assert models["gpio1"].signals[0] is not None                   # GPIO 4 is block 1's first pin
    assert models["isu1_i2c"].bus is models["isu2_i2c"].bus          # joined: one wire
    assert i2c2.target_at(0x50) is board.device("rom")
    assert board.device("sub") is models["isu2_spis"]
    assert any("wired to" in line for line in board.describe())
    # the Python master of the joined bus reaches the sensor through either ISU's wire
    assert models["isu1_i2c"].bus.write_read(0x6A, b"\x0f", 1) == b"\x69"


def test_gpio_chip_select_follows_the_pad(chip):
    _, models, board = chip
    board.load_text(BOARD)
    gpio = models["gpio1"]
    sub = board.device("sub")
    assert not sub.selected                                          # pad 5 undriven: pulled high, inactive
    gpio.write(GpioBlock.offset("DOUT"), 4, 0)
    gpio.write(GpioBlock.offset("OE"), 4, 1 << 1)                    # the firmware drives GPIO 5 low: selected
    assert sub.selected


def test_python_adds_devices(chip):
    _, models, board = chip
    dev = board.add("t", "I2C.Loopback", "isu1.i2c", 0x41)
    models["isu1_i2c"].bus.write_to(0x41, b"abc")
    assert models["isu1_i2c"].bus.read_from(0x41, 3) == b"abc" and dev.written == 3
    board.add("v", "Analog.Input", "adc", 7, voltage="sine(1, 0.5, 50Hz)")
    assert models["adc"].voltage(7) == pytest.approx(1.0)


def test_missing_devices_behave_as_on_the_board(chip):
    _, models, board = chip
    with pytest.raises(I2cNack):
        models["isu2_i2c"].bus.read_from(0x6A, 1)
    assert models["isu1_spim"].bus.transfer(b"\x9f\x00") == b"\xff\xff"
    assert models["adc"].code(3) == 0


@pytest.mark.parametrize("text,message", [
    ("x: Sensors.LSM6DS3 @ isu2.i2c\n", "I2C address"),
    ("x: Sensors.LSM6DS3 @ isu7.i2c 0x6A\n", "has no isu7_i2c"),
    ("x: Video.SSD1306 @ isu1.spi csA\n", "sits on i2c"),
    ("x: Sensors.Unknown @ isu1.i2c 0x10\n", "unknown device type"),
    ("x: Sensors.LSM6DS3 @ isu2.i2c 0x6A\n    colour: red\n", "colour"),
    ("x: Sensors.LSM6DS3 @ isu2.i2c 0x6A\ny: Sensors.LSM6DSO @ isu2.i2c 0x6A\n", "already taken"),
    ("x: Storage.SDCard @ isu1.spi csC\n", "csC"),
    ("x: Storage.SDCard @ isu1.spi\n", "chip select"),
    ("x: Analog.Input @ adc 9\n", "does not exist"),
    ("x: GPIO.Waveform @ gpio 40\n    signal: 1\n", "GPIO 40"),
    ("x: I2C.Join @ isu1.i2c\n", "joins two"),
    ("x: Sensors.LSM6DS3 @ uart 0\n", "unknown bus"),
    ("    accel: 1\n", "before any device"),
    ("this is not a board\n", "expected 'name: Type @ bus"),
    ("x: SPI.Loopback @ isu1.spi always\nx: SPI.Loopback @ isu1.spi always\n", "already on this board"),
])
def test_errors_name_the_line(chip, text, message):
    _, _, board = chip
    with pytest.raises(BoardError, match=message) as err:
        board.load_text(text, "bad.board")
    assert "bad.board:" in str(err.value)


def test_unreadable_file(chip, tmp_path):
    _, _, board = chip
    with pytest.raises(BoardError, match="cannot read"):
        board.load(tmp_path / "missing.board")


def test_rdb_default_has_nothing_on_the_buses(chip):
    _, _, board = chip
    assert Path(RDB_BOARD).is_file()
    assert board.load(RDB_BOARD) == []


def test_close_writes_device_files(chip, tmp_path):
    _, _, board = chip
    board.load_text("oled: Video.SSD1306 @ isu2.i2c 0x3C\n    png_path: out.png\n", base_dir=tmp_path)
    board.close()
    assert (tmp_path / "out.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
