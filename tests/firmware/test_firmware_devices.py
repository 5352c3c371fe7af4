"""The project's firmware drives every new block and board device on the emulated chip (firmware-level tests).

Each firmware prints what it measured; the tests check those lines and the devices' own state (what a sensor was
asked, what a display shows, what a card or codec holds). Board files: tests/firmware/boards/.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from mt3620.peripherals.devices.png import decode_png

BOARDS = Path(__file__).resolve().parent / "boards"


@pytest.fixture
def run(sideload, rt_package):
    """The firmware sideloaded as the device does it (its package and app_manifest.json: the firewalls give its
    core exactly the ISUs, GPIOs, ADC and I2S the manifest lists) onto a board wired as `board` describes."""
    def _run(name: str, board: str | None = None, until: str | None = None, within: str = "3s", **kw):
        dev = sideload(rt_package(name), board=str(BOARDS / board) if board else None, **kw)
        if until is not None:
            dev.wait_for_line(until, timeout=within)
        return dev
    return _run


def line(dev, pattern: str) -> re.Match:
    regex = re.compile(pattern)
    for text in dev.lines():
        m = regex.search(text)
        if m:
            return m
    raise AssertionError(f"no line matches /{pattern}/ in:\n" + "\n".join(dev.lines()))


# ---- ISU I2C master: NACK, a sensor, an EEPROM, DMA, bus speeds ---------------------------------------------------------
def test_i2c_master_against_sensor_eeprom_and_loopback(run):
    dev = run("i2c_bus", "i2c_bus.board", r"i2c_bus: done")
    # MediaTek's 100 kHz phases at the 40 MHz source: 400 clocks per SCL period
    assert line(dev, r"SCL period (\d+)")[1] == "400"
    # nothing at 0x21: address NACK (ACK_ID bit 0) and the first transmitted byte's NACK bit
    assert line(dev, r"probe 0x21 rc=(-?\d+) ack=0x([0-9a-f]+)").groups() == ("-1", "101")
    assert line(dev, r"whoami 0x([0-9a-f]+)")[1] == "69"
    # 0.25/-0.5/1.0 g at 4 g (0.122 mg/LSB), 10/-20/30 dps at 500 dps (17.5 mdps/LSB), 30.5 degC (16 LSB/degC)
    assert line(dev, r"accel (-?\d+) (-?\d+) (-?\d+)").groups() == ("2049", "-4098", "8197")
    assert line(dev, r"gyro (-?\d+) (-?\d+) (-?\d+)").groups() == ("571", "-1143", "1714")
    assert line(dev, r"temp (-?\d+)")[1] == "88"
    imu = dev.device("imu")
    assert imu.regs[0x10] == 0x48 and imu.regs[0x11] == 0x44
    # the EEPROM NACKs its address during the write cycle, then reads back the page (16 bytes by DMA)
    m = line(dev, r"eeprom write rc=0, (\d+) polls while busy, read rc=0: ([0-9a-f]+)")
    assert int(m[1]) > 0
    assert m[2] == "ffff" + b"mt3620!?".hex() + "ff" * 6
    assert dev.device("eeprom").memory[8:16] == b"mt3620!?" and dev.device("eeprom").cycles == 1
    assert line(dev, r"loopback dma write=(\d+) read=(\d+) same=(\d+)/40").groups() == ("0", "0", "40")
    # 1 write + 6 read bytes = START + 2 x 9-bit address + 7 x 9-bit data + repeated START + STOP = 84 periods
    times = {int(m[1]): int(m[2]) for m in (re.search(r"at (\d+) Hz took (\d+) us", t) for t in dev.lines()) if m}
    assert 830 <= times[100000] <= 880
    assert 205 <= times[400000] <= 230
    assert 84 <= times[1000000] <= 100


def test_lsm6dso_with_values_set_from_python(boot, firmware, tmp_path):
    """The LSM6DSO answers WHO_AM_I 0x6C and counts 256 LSB/degC; values set from pytest reach the firmware."""
    board = tmp_path / "dso.board"
    board.write_text("imu: Sensors.LSM6DSO @ isu2.i2c 0x6A\n")
    dev = boot(rt0=firmware("i2c_bus"), board=str(board))
    imu = dev.device("imu")
    imu.accel = (0, 0, -1.0)
    imu.gyro = ("0", "0", "pwl(0s:0, 1s:100)")                       # a signal over virtual time
    imu.temperature = 25.5
    dev.wait_for_line(r"i2c_bus: temp", timeout="1s")
    assert line(dev, r"whoami 0x([0-9a-f]+)")[1] == "6c"
    assert line(dev, r"accel (-?\d+) (-?\d+) (-?\d+)").groups() == ("0", "0", str(round(-1000 / 0.122)))
    gz = int(line(dev, r"gyro (-?\d+) (-?\d+) (-?\d+)")[3])
    assert 0 < gz < round(5 / 0.0175)                                  # under 5 dps in the first 50 ms
    assert line(dev, r"temp (-?\d+)")[1] == "128"                     # 0.5 degC x 256


def test_i2c_master_and_subordinate_on_one_bus(run):
    dev = run("i2c_sub", "i2c_sub.board", r"i2c_sub: done")
    assert "subordinate got 5 bytes (write): hello" in line(dev, r"master write rc=0.*")[0]
    assert line(dev, r"master read rc=0 \(read\): (\S+)")[1] == "world!"
    assert line(dev, r"wrong address rc=(-?\d+)")[1] == "-1"


def test_missing_i2c_device_is_not_acknowledged(run):
    """The RDB default board has nothing on ISU2: the LSM6DS3 reads fail (NACK) instead of hanging."""
    dev = run("i2c_bus", None, r"i2c_bus: done")
    assert "rc=-1" in line(dev, r"probe 0x21 .*")[0]
    assert line(dev, r"loopback dma write=(-?\d+) read=(-?\d+) same=(\d+)/40").groups() == ("-1", "-1", "0")


# ---- ISU SPI master: GPIO chip select, SD card, loopback in four modes, FIFO and DMA ----------------------------------
def test_spi_master_sensor_sdcard_and_loopback(run):
    dev = run("spi_bus", "spi_bus.board", r"spi_bus: done")
    m = line(dev, r"sclk (\d+) Hz, imu whoami 0x([0-9a-f]+) accel (-?\d+) (-?\d+) (-?\d+)")
    assert m.groups() == ("1976000", "69", "0", "0", "-16393")       # 79.04 MHz / 40; -1 g at 2 g
    assert line(dev, r"sd bad-crc CMD0 r1=0x(\w+)")[1] == "09"       # idle + CRC error
    assert line(dev, r"sd CMD0 r1=0x(\w+)")[1] == "01"
    assert line(dev, r"sd CMD8 r1=0x(\w+) echo=(\w+)").groups() == ("01", "000001aa")
    assert line(dev, r"sd ACMD41 ready r1=0x(\w+)")[1] == "00"
    assert line(dev, r"sd CMD58 r1=0x00 ocr=(\w+)")[1] == "c0ff8000"   # powered up, high capacity
    assert line(dev, r"tran_speed=0x(\w+)")[1] == "32"
    m = line(dev, r"sd CMD24 r1=0x00 data response=0x(\w+) busy bytes=(\d+)")
    assert m[1] == "e5" and int(m[2]) > 0
    assert line(dev, r"sd CMD17 r1=0x00 token ok=1 same=(\d+)/512")[1] == "512"
    card = dev.device("card")
    assert card.read_block(3) == bytes((i * 7 + 3) & 0xFF for i in range(512))
    assert card.writes == 1 and card.reads == 1
    for mode in range(4):
        for path in ("fifo", "dma"):
            assert line(dev, rf"loopback mode {mode} {path} same=(\d+)/16")[1] == "16"


def test_missing_spi_devices_read_ff(run):
    dev = run("spi_bus", None, r"sd CMD0 r1", within="3s")
    assert line(dev, r"imu whoami 0x([0-9a-f]+)")[1] == "ff"
    assert line(dev, r"sd CMD0 r1=0x(\w+)")[1] == "ff"


def test_sd_card_image_file_is_written_through(boot, firmware, tmp_path):
    image = tmp_path / "card.img"
    image.write_bytes(bytes(64 * 512))
    board = tmp_path / "b.board"
    board.write_text('imu: Sensors.LSM6DS3 @ isu1.spi gpio0\ncard: Storage.SDCard @ isu1.spi csB\n'
                     '    image: "card.img"\nloop: SPI.Loopback @ isu3.spi always\n')
    dev = boot(rt0=firmware("spi_bus"), board=str(board))
    dev.wait_for_line(r"spi_bus: done", "3s")
    # written through at once: the file holds the block before the run ends
    assert image.read_bytes()[3 * 512:4 * 512] == bytes((i * 7 + 3) & 0xFF for i in range(512))
    dev.close()


# ---- displays ---------------------------------------------------------------------------------------------------------------
def test_ssd1306_and_ssd1331_show_the_test_patterns(run, tmp_path):
    dev = run("displays", "displays.board", r"displays: done")
    assert "commands rc=0 frame rc=0" in line(dev, r"ssd1306 .*")[0]
    oled = dev.device("oled")
    px = oled.pixels()
    assert px[0][5] and px[63][5] and px[30][0] and px[30][127]     # the border
    assert px[10][20] and not px[10][21] and not px[30][30]          # the diagonal x = 2y
    assert oled.lit_count() == 442
    w, h, channels, rows = decode_png(oled.png())
    assert (w, h, channels) == (128 * oled.scale, 64 * oled.scale, 1)
    rgb = dev.device("rgb")
    colors = rgb.pixels()
    assert colors[0][50] == (255, 0, 0) and colors[30][50] == (0, 255, 0) and colors[60][50] == (0, 0, 255)
    assert colors[5][5] == (255, 255, 255)                           # the controller-drawn rectangle
    path = rgb.save_png(tmp_path / "rgb.png")
    w, h, channels, rows = decode_png(path.read_bytes())
    assert (w, h, channels) == (96 * rgb.scale, 64 * rgb.scale, 3)
    assert rows[0][3 * 50 * rgb.scale:3 * 50 * rgb.scale + 3] == b"\xff\x00\x00"


def test_display_png_written_at_exit(boot, firmware, tmp_path):
    board = tmp_path / "d.board"
    board.write_text('oled: Video.SSD1306 @ isu1.i2c 0x3C\n    png_path: "oled.png"\n'
                     'rgb: Video.SSD1331 @ isu0.spi csA\n    dc: 0\n    reset: 1\n    png_path: "rgb.png"\n')
    dev = boot(rt0=firmware("displays"), board=str(board))
    dev.wait_for_line(r"displays: done", "3s")
    assert not (tmp_path / "oled.png").exists()
    dev.close()
    assert decode_png((tmp_path / "oled.png").read_bytes())[:2] == (512, 256)
    assert decode_png((tmp_path / "rgb.png").read_bytes())[:2] == (384, 256)


# ---- ADC ----------------------------------------------------------------------------------------------------------------------
def test_adc_one_shot_periodic_and_missing_channel(run):
    dev = run("adc_scan", "adc.board", r"adc_scan: done")
    shots = [t for t in dev.lines() if "one-shot" in t]
    first = dict(re.findall(r"ch(\d)=(\d+)", shots[0]))
    second = dict(re.findall(r"ch(\d)=(\d+)", shots[1]))
    assert first["0"] == second["0"] == "819"                        # 0.5 V of 2.5 V
    assert first["2"] == second["2"] == "2048"                       # 1.25 V
    assert first["3"] == "4095"                                      # 3.3 V clamps at full scale
    assert int(second["1"]) - int(first["1"]) > 1900                 # the ramp rose ~1.2 V in 50 ms
    assert line(dev, r"map 0x0201 (\d+) samples: ch0=819")[1] == "1"  # channel 9 does not exist: no sample
    periodic = re.findall(r"ch(\d)=(\d+)", line(dev, r"periodic 24 samples:(.*)")[1])
    assert [c for c, _ in periodic] == ["1", "2"] * 12
    ramp = [int(v) for c, v in periodic if c == "1"]
    steps = [b - a for a, b in zip(ramp, ramp[1:])]
    assert all(40 <= s <= 44 for s in steps)                          # 25 mV/ms at ~1.03 ms per scan


def test_adc_input_set_from_python(run):
    dev = run("adc_scan", None)
    dev.adc_input(0, 2.0)
    dev.adc_input(2, "sine(1.25, 0, 1Hz)")
    dev.wait_for_line(r"adc_scan: one-shot", "1s")
    first = dict(re.findall(r"ch(\d)=(\d+)", line(dev, r"one-shot.*")[0]))
    assert first["0"] == "3276" and first["2"] == "2048" and first["1"] == "0"


# ---- I2S and the codec --------------------------------------------------------------------------------------------------------
def test_codec_records_the_tone_and_i2s_loopback_matches(run, tmp_path):
    dev = run("audio", "audio.board", r"audio: done")
    assert line(dev, r"codec revision 0x(\w+), setup rc=(\d+)").groups() == ("43", "0")
    codec = dev.device("codec")
    assert codec.regs[0x3F] == 0xC3 and codec.running
    assert codec.format.rate_hz == 48000 and codec.format.channels == 2
    assert 4700 <= codec.frames_recorded <= 4900                    # 100 ms at 48 kHz
    samples = codec.samples()
    left = [s[0] for s in samples[:480]]
    assert max(left) == 12000 and min(left) == -12000               # the triangle's extremes
    assert all(left[k] == left[k + 48] for k in range(400))         # 1 kHz at 48 kHz: 48 frames a period
    assert all(s[0] == s[1] for s in samples)
    m = line(dev, r"loopback matched (\d+) mismatched (\d+)")
    assert int(m[1]) > 600 and m[2] == "0"
    wav = codec.save_wav(tmp_path / "tone.wav")
    import wave
    with wave.open(str(wav)) as w:
        assert (w.getnchannels(), w.getframerate(), w.getsampwidth()) == (2, 48000, 2)
        assert w.getnframes() == codec.frames_recorded


# ---- GPIOIF counters driven by waveforms and buttons --------------------------------------------------------------------------
def test_gpioif_counts_waveform_edges_and_interrupts_at_the_limit(run):
    dev = run("gpioif_count", None)
    dev.wait_for_line(r"gpioif_count: start", "100ms")
    # 10 Hz square on GPIO 12 (two counted edges per period), starting low: +1 per 50 ms
    dev.drive_waveform(12, "square(0, 1, 10Hz, 0.5)")
    dev.wait_for_line(r"gpioif_count: done", "2s")
    counts = [int(m) for m in re.findall(r"count=(\d+)", "\n".join(dev.lines()))]
    assert counts[0] in (101, 102, 103)
    limit = line(dev, r"limit status=0x(\w+) count=(\d+)")
    assert limit.groups() == ("2", "110")                           # EVENT_HIGH at 110
    assert max(counts) > 110                                          # counting goes on past the limit


def test_gpioif_counts_button_presses_down(run):
    dev = run("gpioif_count", None)
    dev.wait_for_line(r"gpioif_count: start", "100ms")
    for _ in range(6):
        dev.press("B")
        dev.advance("20ms")
        dev.release("B")
        dev.advance("20ms")
    dev.wait_for_line(r"gpioif_count: done", "2s")
    assert line(dev, r"limit status=0x(\w+) count=(\d+)").groups() == ("1", "90")
    assert line(dev, r"done after (\d+) limit")[1] == "1"
