"""The pure buses a second master drives (tests, the A7's OS layer through Applibs): I2C (Python master
transfers, NACKs, repeated starts, ten-bit addresses, arbitration, stretching, monitors), SPI (chip selects,
modes, MISO when nothing drives it, contention), and the signals that feed inputs over virtual time."""
import math

import pytest

from mt3620.peripherals.buses.i2c import WAIT, I2cBus, I2cBusy, I2cError, I2cNack, I2cTarget, RegisterTarget
from mt3620.peripherals.buses.signals import (PS, Constant, Pwl, Samples, Sine, SignalError, Square, Steps,
                                              parse_signal, parse_time, read_table)
from mt3620.peripherals.buses.spi import ChipSelect, SpiBus, SpiTarget, reverse_bits


# ---- I2C ------------------------------------------------------------------------------------------------------------
def test_i2c_register_read_with_repeated_start():
    bus = I2cBus()
    dev = bus.attach(RegisterTarget(name="imu", registers={0x0F: 0x69, 0x10: 0x42}), 0x6A)
    events = []
    bus.monitors.append(lambda e: events.append((e.kind, e.value, e.ack)))
    assert bus.write_read(0x6A, b"\x0f", 2) == b"\x69\x42"
    assert events[0] == ("start", 0xD4, True) and events[2] == ("start", 0xD5, True)
    assert events[-2] == ("read", 0x42, False) and events[-1][0] == "stop"
    bus.write_to(0x6A, b"\x20\x01\x02")
    assert dev.registers[0x20] == 1 and dev.registers[0x21] == 2
    assert not bus.busy


def test_i2c_missing_device_is_a_nack_and_the_bus_is_released():
    bus = I2cBus()
    with pytest.raises(I2cNack) as err:
        bus.read_from(0x50, 1)
    assert err.value.index == 0 and not bus.busy


class Picky(I2cTarget):
    name = "picky"

    def i2c_write(self, byte):
        return byte != 0xEE


def test_i2c_data_nack_names_the_byte():
    bus = I2cBus()
    bus.attach(Picky(), 0x11)
    with pytest.raises(I2cNack) as err:
        bus.write_to(0x11, b"\x01\x02\xee\x03")
    assert err.value.index == 3


def test_i2c_ten_bit_target():
    bus = I2cBus()
    bus.attach(RegisterTarget(name="ten", registers={4: 0x77}), 0x2F3, ten_bit=True)
    assert bus.write_read(0x2F3, b"\x04", 1, ten_bit=True) == b"\x77"
    with pytest.raises(I2cNack):
        bus.write_to(0x2F4, b"\x00", ten_bit=True)


def test_i2c_address_conflicts_and_ranges_are_refused():
    bus = I2cBus()
    bus.attach(RegisterTarget(name="a"), 0x20)
    with pytest.raises(ValueError, match="already taken"):
        bus.attach(RegisterTarget(name="b"), 0x20)
    with pytest.raises(ValueError, match="out of range"):
        bus.attach(RegisterTarget(name="c"), 0x80)


def test_i2c_arbitration_and_stretching():
    bus = I2cBus()

    class Slow(I2cTarget):
        def i2c_read(self):
            return WAIT

    bus.attach(Slow(), 0x33)
    assert bus.claim("isu1")
    with pytest.raises(I2cBusy):
        bus.write_to(0x33, b"")
    bus.release("isu1")
    with pytest.raises(I2cError, match="stretched"):
        bus.read_from(0x33, 1)
    assert not bus.busy


# ---- SPI ------------------------------------------------------------------------------------------------------------
class Echo(SpiTarget):
    def __init__(self, name, modes=frozenset({0, 3}), xor=0):
        self.name, self.modes, self.xor = name, frozenset(modes), xor
        self.selects = 0

    def spi_select(self):
        self.selects += 1

    def spi_exchange(self, byte):
        return byte ^ self.xor


def test_spi_chip_selects_pick_the_target():
    bus = SpiBus()
    a, b = bus.attach(Echo("a", xor=0x0F), "csA"), bus.attach(Echo("b", xor=0xF0), "csB")
    assert bus.transfer(b"\x00\x11", line=0) == b"\x0f\x1e"
    assert bus.transfer(b"\x00", line=1) == b"\xf0"
    assert (a.selects, b.selects) == (1, 1)
    assert bus.exchange(b"\x12") == b"\xff"                      # nothing selected: MISO floats high


def test_spi_gpio_select_and_polarity():
    bus = SpiBus()
    dev = bus.attach(Echo("g"), "gpio12+")                       # active high
    assert dev.selected                                          # an undriven pad: the pull-up holds it high
    bus.gpio_changed(12, 0)
    assert not dev.selected and bus.exchange(b"\x5a") == b"\xff"
    bus.gpio_changed(12, 1)
    assert dev.selected and bus.exchange(b"\x5a") == b"\x5a"
    assert repr(ChipSelect.parse("GPIO12+")) == "gpio12+"


def test_spi_wrong_mode_is_one_bit_late_and_contention_is_wired_and(caplog):
    bus = SpiBus()
    bus.attach(Echo("m0", modes={0}), "always")
    out = bus.exchange(b"\x80\x01", mode=1)
    assert out != b"\x80\x01"
    bus.attach(Echo("m1", modes={1}, xor=0xFF), "always")
    # m1 answers 0xF0; m0 sees 0x87 (one bit late) and its 0x87 arrives late as 0xC3: the wire carries the AND
    assert bus.exchange(b"\x0f", mode=1) == bytes([0xF0 & 0xC3])
    assert "wired-AND" in caplog.text


def test_spi_bad_chip_selects_are_refused():
    for bad in ("csC", "gpio99", "x"):
        with pytest.raises(ValueError):
            ChipSelect.parse(bad)
    bus = SpiBus()
    bus.attach(Echo("a"), "csA")
    with pytest.raises(ValueError, match="already uses"):
        bus.attach(Echo("b"), "csA")
    assert reverse_bits(0x01) == 0x80


def test_spi_write_read_holds_mosi_high():
    bus = SpiBus()
    seen = []
    bus.monitors.append(lambda name, mosi, miso: seen.append(mosi))
    bus.attach(Echo("e"), "csA")
    assert bus.write_read(b"\x9f", 2) == b"\xff\xff"
    assert seen == [0x9F, 0xFF, 0xFF]


# ---- signals --------------------------------------------------------------------------------------------------------
def test_signal_shapes():
    assert Constant(1.5).value_at(123) == 1.5
    s = Sine(1.0, 0.5, 50)
    assert s.value_at(0) == pytest.approx(1.0) and s.value_at(PS // 200) == pytest.approx(1.5)
    q = Square(0, 3.3, 1000, 0.25)
    assert q.value_at(0) == 3.3 and q.value_at(PS // 2000) == 0 and q.next_edge(0) == PS // 4000
    p = Pwl([(0, 0.0), (PS, 2.0)])
    assert p.value_at(PS // 4) == pytest.approx(0.5) and p.value_at(2 * PS) == 2.0
    st = Steps([(0, 1), (10, 0), (20, 1)], repeat=True)
    assert [st.value_at(t) for t in (5, 15, 25, 35)] == [1, 0, 1, 0]
    assert st.next_edge(5) == 10 and st.next_edge(12) == 20 and st.next_edge(25) == 30
    rec = Samples([0.1, 0.2, 0.3], 1000)
    assert rec.value_at(PS // 1000 + 1) == 0.2 and rec.value_at(PS) == 0.3


def test_parse_signal_descriptions(tmp_path):
    assert parse_signal("1.25V").value_at(0) == 1.25
    assert parse_signal("800mV").value_at(0) == pytest.approx(0.8)
    assert parse_signal("sine(1.25, 1, 50Hz)").value_at(PS // 200) == pytest.approx(2.25)
    assert parse_signal("square(0, 1, 1kHz, 0.25)").value_at(PS // 2000) == 0
    assert parse_signal("steps(0:1, 10ms:0) repeat").value_at(parse_time("15ms")) == 1
    f = tmp_path / "v.csv"
    f.write_text("time,volts\n0,0\n1s,2.0\n")
    assert parse_signal(f"csv:{f.name}", base_dir=tmp_path).value_at(PS // 2) == pytest.approx(1.0)
    assert read_table(f)[1] == (PS, [2.0])


@pytest.mark.parametrize("bad", ["sine(1, 2)", "banana", "pwl(1)", "steps()", "square(0, 1, -5Hz)", "nan",
                                 "csv:/nonexistent/file.csv", "1e999"])
def test_bad_signals_say_what_is_wrong(bad):
    with pytest.raises(SignalError):
        parse_signal(bad)


def test_times_with_units():
    assert parse_time("10ms") == 10 * PS // 1000 and parse_time("1.5s") == 3 * PS // 2 and parse_time(2) == 2 * PS
    with pytest.raises(SignalError):
        parse_time("-1s")
    assert math.isclose(parse_time("250us"), PS / 4000)
