"""SSD1306 OLED model: control bytes, the addressing modes, display on/off/inverse/entire-on, remap and COM scan,
the picture as a PNG (on request and at close)."""
import pytest

from mt3620.peripherals.buses.i2c import I2cBus
from mt3620.peripherals.devices.png import decode_png
from mt3620.peripherals.devices.ssd1306 import Ssd1306


@pytest.fixture
def oled():
    bus = I2cBus()
    return bus.attach(Ssd1306(name="oled", scale=1), 0x3C), bus


def cmd(bus, *bytes_):
    bus.write_to(0x3C, bytes([0x00, *bytes_]))


def data(bus, payload):
    bus.write_to(0x3C, b"\x40" + bytes(payload))


def test_display_off_shows_nothing_and_status_reads_it(oled):
    dev, bus = oled
    data(bus, [0xFF] * 8)
    assert dev.lit_count() == 0 and bus.read_from(0x3C, 1) == b"\x40"
    cmd(bus, 0xAF)
    assert dev.lit_count() == 64 and bus.read_from(0x3C, 1) == b"\x00"


def test_horizontal_mode_fills_pages_in_order(oled):
    dev, bus = oled
    cmd(bus, 0x20, 0x00, 0x21, 0, 127, 0x22, 0, 7, 0xAF)
    data(bus, [0x01] * 128 + [0x80])                                 # page 0 row 0, then page 1 column 0 row 15
    px = dev.pixels()
    assert all(px[0]) and not any(px[1]) and px[15][0] and not px[15][1]


def test_page_mode_column_commands(oled):
    dev, bus = oled
    cmd(bus, 0xAF, 0xB3, 0x05, 0x11)                                 # page 3, column 0x15
    data(bus, [0xFF])
    px = dev.pixels()
    assert [px[y][0x15] for y in range(24, 32)] == [True] * 8 and dev.lit_count() == 8


def test_vertical_mode_and_ranges(oled):
    dev, bus = oled
    cmd(bus, 0xAF, 0x20, 0x01, 0x21, 10, 11, 0x22, 2, 3)
    data(bus, [0x01, 0x01, 0x01, 0x01])                              # (10, p2) (10, p3) (11, p2) (11, p3)
    px = dev.pixels()
    assert px[16][10] and px[24][10] and px[16][11] and px[24][11] and dev.lit_count() == 4


def test_inverse_entire_on_remap_and_com_scan(oled):
    dev, bus = oled
    cmd(bus, 0xAF)
    data(bus, [0x01])                                                # pixel (0, 0)
    cmd(bus, 0xA1, 0xC8)                                             # mirrored both ways
    assert dev.pixels()[63][127] and dev.lit_count() == 1
    cmd(bus, 0xA7)
    assert dev.lit_count() == 128 * 64 - 1
    cmd(bus, 0xA6, 0xA5)
    assert dev.lit_count() == 128 * 64


def test_co_bit_mixes_commands_and_data(oled):
    dev, bus = oled
    bus.write_to(0x3C, bytes([0x80, 0xAF, 0xC0, 0x0F]))             # Co=1 command, Co=1 data
    assert dev.on and dev.lit_count() == 4


def test_png_on_request_and_at_close(oled, tmp_path):
    dev, bus = oled
    cmd(bus, 0xAF)
    data(bus, [0xFF, 0x00, 0xFF])
    w, h, ch, rows = decode_png(dev.png())
    assert (w, h, ch) == (128, 64, 1) and rows[0][:3] == b"\xff\x00\xff"
    dev.scale = 2
    assert decode_png(dev.png())[:2] == (256, 128)
    dev.png_path = str(tmp_path / "sub" / "oled.png")
    dev.close()
    assert decode_png((tmp_path / "sub" / "oled.png").read_bytes())[0] == 256
    assert "16 pixels lit" in dev.describe() or "pixels lit" in dev.describe()
