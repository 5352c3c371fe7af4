"""SSD1331 colour OLED model: the D/C and reset pins, 65k and 256-colour data, address windows, drawing commands
(line, rectangle with fill, copy, clear), remap/orientation, the command lock, the PNG."""
import pytest

from mt3620.peripherals.buses.spi import SpiBus
from mt3620.peripherals.devices.base import DeviceError
from mt3620.peripherals.devices.png import decode_png
from mt3620.peripherals.devices.ssd1331 import Ssd1331

RED, GREEN, BLUE = 0xF800, 0x07E0, 0x001F


@pytest.fixture
def panel():
    dev = Ssd1331(name="rgb", dc=0, reset=1, scale=1)
    bus = SpiBus()
    bus.attach(dev, "csA")
    dev.pin_changed("reset", 1)

    def cmd(*b):
        dev.pin_changed("dc", 0)
        bus.transfer(bytes(b), mode=3)

    def data(b):
        dev.pin_changed("dc", 1)
        bus.transfer(bytes(b), mode=3)

    cmd(0xA0, 0x72, 0xAF)                                           # 65k, column remap, COM remap, RGB: the sample
    return dev, cmd, data


def test_65k_pixels_land_in_the_window(panel):
    dev, cmd, data = panel
    cmd(0x15, 10, 11, 0x75, 5, 6)
    data(b"\xf8\x00" * 2 + b"\x07\xe0" * 2)
    assert dev.ram[5][10] == RED and dev.ram[5][11] == RED and dev.ram[6][10] == GREEN
    px = dev.pixels()
    assert px[5][10] == (255, 0, 0) and px[6][11] == (0, 255, 0) and dev.lit_count() == 4


def test_256_colour_mode_and_bgr(panel):
    dev, cmd, data = panel
    cmd(0xA0, 0x32)                                                  # 256 colours
    data([0xE0])                                                     # RRR = 7
    assert dev.ram[0][0] == RED
    cmd(0xA0, 0x76, 0x15, 0, 95, 0x75, 0, 63)                        # 65k, BGR
    data(b"\x00\x1f")
    assert dev.ram[0][0] == RED


def test_drawing_commands(panel):
    dev, cmd, data = panel
    cmd(0x26, 0x01)                                                  # fill on
    cmd(0x22, 2, 2, 5, 5, 0, 0, 31, 31, 0, 0)                        # red outline, blue fill
    assert dev.ram[2][2] == RED and dev.ram[3][3] == BLUE
    cmd(0x21, 0, 10, 9, 10, 0, 63, 0)                                # green line
    assert all(dev.ram[10][c] == GREEN for c in range(10))
    cmd(0x23, 2, 2, 5, 5, 50, 50)                                    # copy
    assert dev.ram[50][50] == RED and dev.ram[51][51] == BLUE
    cmd(0x25, 0, 0, 95, 63)                                          # clear
    assert dev.lit_count() == 0


def test_orientation_follows_remap(panel):
    dev, cmd, data = panel
    data(b"\xff\xff")                                                # RAM (0, 0)
    assert dev.pixels()[0][0] == (255, 255, 255)
    cmd(0xA0, 0x60)                                                  # no column or COM remap: mirrored
    assert dev.pixels()[63][95] == (255, 255, 255)


def test_modes_lock_and_off(panel):
    dev, cmd, data = panel
    cmd(0xA5)
    assert dev.lit_count() == 96 * 64
    cmd(0xA4, 0xFD, 0x16)                                            # lock
    cmd(0xAE)
    assert dev.on                                                    # ignored while locked
    cmd(0xFD, 0x12, 0xAE)
    assert not dev.on and dev.lit_count() == 0


def test_reset_pin_clears_the_controller(panel):
    dev, cmd, data = panel
    data(b"\xff\xff")
    dev.pin_changed("reset", 0)
    assert not dev.on and dev.ram[0][0] == 0


def test_png(panel, tmp_path):
    dev, cmd, data = panel
    data(b"\xf8\x00")
    w, h, ch, rows = decode_png(dev.png())
    assert (w, h, ch) == (96, 64, 3) and rows[0][:3] == b"\xff\x00\x00"
    dev.save_png(tmp_path / "p.png")
    assert (tmp_path / "p.png").stat().st_size > 50


def test_bad_pins_are_refused():
    with pytest.raises(DeviceError):
        Ssd1331(dc=200)
