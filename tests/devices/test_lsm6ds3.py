"""LSM6DS3 / LSM6DSO model: WHO_AM_I, output data rates on the virtual clock, data-ready bits, full scales,
temperature, software reset and boot, auto-increment, I2C and SPI access, values as constants, signals and a
recorded motion file."""
import pytest

from mt3620.engine.simulation.clock import PS_PER_SECOND, VirtualClock
from mt3620.peripherals.buses.i2c import I2cBus
from mt3620.peripherals.buses.spi import SpiBus
from mt3620.peripherals.devices.base import DeviceError
from mt3620.peripherals.devices.lsm6ds3 import Lsm6ds3, Lsm6dso

MS = PS_PER_SECOND // 1000


def s16(lo, hi):
    v = lo | hi << 8
    return v - 0x10000 if v & 0x8000 else v


@pytest.fixture
def imu():
    clock, bus = VirtualClock(), I2cBus()
    return clock, bus.attach(Lsm6ds3(name="imu", clock=clock), 0x6A), bus   # attach gives the device back


def test_who_am_i_and_reset_values(imu):
    _, _, bus = imu
    assert bus.write_read(0x6A, b"\x0f", 1) == b"\x69"
    assert bus.write_read(0x6A, b"\x12", 1) == b"\x04"
    assert Lsm6dso().regs[0x0F] == 0x6C


def test_accelerometer_at_each_full_scale(imu):
    clock, dev, bus = imu
    dev.accel = (0.5, -0.25, 1.0)
    for fs, mg in ((0, 0.061), (2, 0.122), (3, 0.244), (1, 0.488)):
        bus.write_to(0x6A, bytes([0x10, 0x40 | fs << 2]))          # 104 Hz
        clock.advance_to(clock.now + 20 * MS)
        raw = bus.write_read(0x6A, b"\x28", 6)
        x, y, z = (s16(raw[i], raw[i + 1]) for i in (0, 2, 4))
        assert (x, y, z) == (round(500 / mg), round(-250 / mg), round(1000 / mg))
    bus.write_to(0x6A, bytes([0x10, 0x40]))
    dev.accel = (0, 0, 3.0)                                          # beyond 2 g: saturates
    clock.advance_to(clock.now + 20 * MS)
    raw = bus.write_read(0x6A, b"\x2c", 2)
    assert s16(raw[0], raw[1]) == 32767


def test_gyroscope_and_125_dps(imu):
    clock, dev, bus = imu
    dev.gyro = (100.0, -50.0, 10.0)
    bus.write_to(0x6A, bytes([0x11, 0x40 | 1 << 2]))                 # 104 Hz, 500 dps: 17.5 mdps/LSB
    clock.advance_to(20 * MS)
    raw = bus.write_read(0x6A, b"\x22", 6)
    assert s16(raw[0], raw[1]) == round(100 / 0.0175) and s16(raw[2], raw[3]) == round(-50 / 0.0175)
    bus.write_to(0x6A, bytes([0x11, 0x40 | 2]))                      # FS_125
    clock.advance_to(clock.now + 20 * MS)
    raw = bus.write_read(0x6A, b"\x26", 2)
    assert s16(raw[0], raw[1]) == round(10 / 0.004375)


def test_data_ready_follows_the_output_data_rate(imu):
    clock, dev, bus = imu
    bus.write_to(0x6A, bytes([0x10, 0x10]))                          # 12.5 Hz: a sample every 80 ms
    assert bus.write_read(0x6A, b"\x1e", 1)[0] & 1 == 0
    clock.advance_to(80 * MS - 1)
    assert bus.write_read(0x6A, b"\x1e", 1)[0] & 1 == 0
    clock.advance_to(80 * MS)
    assert bus.write_read(0x6A, b"\x1e", 1)[0] & 5 == 5              # XLDA and TDA
    bus.write_read(0x6A, b"\x28", 6)
    assert bus.write_read(0x6A, b"\x1e", 1)[0] & 1 == 0              # read: cleared until the next sample
    clock.advance_to(160 * MS)
    assert bus.write_read(0x6A, b"\x1e", 1)[0] & 1 == 1
    bus.write_to(0x6A, bytes([0x10, 0x00]))                          # power down: never ready
    assert bus.write_read(0x6A, b"\x1e", 1)[0] & 1 == 0


def test_samples_are_taken_at_sample_times(imu):
    clock, dev, bus = imu
    dev.accel = ("pwl(0:0, 1s:1)", "0", "1")
    bus.write_to(0x6A, bytes([0x10, 0x10]))                          # 12.5 Hz
    clock.advance_to(100 * MS)                                       # the last sample was at 80 ms
    raw = bus.write_read(0x6A, b"\x28", 2)
    assert s16(raw[0], raw[1]) == round(0.08 / 0.000061)


def test_temperature_both_parts():
    for cls, lsb in ((Lsm6ds3, 16), (Lsm6dso, 256)):
        clock = VirtualClock()
        dev = cls(clock=clock, temperature=30.5)
        bus = I2cBus()
        bus.attach(dev, 0x6B)
        raw = bus.write_read(0x6B, b"\x20", 2)
        assert s16(raw[0], raw[1]) == round(5.5 * lsb)


def test_software_reset_and_auto_increment(imu):
    clock, dev, bus = imu
    bus.write_to(0x6A, bytes([0x10, 0x40, 0x4C]))                    # CTRL1_XL and CTRL2_G in one transfer
    assert dev.regs[0x11] == 0x4C
    bus.write_to(0x6A, bytes([0x12, 0x00]))                          # IF_INC off
    assert bus.write_read(0x6A, b"\x10", 2) == b"\x40\x40"           # the same register twice
    bus.write_to(0x6A, bytes([0x12, 0x01]))                          # SW_RESET
    assert bus.write_read(0x6A, b"\x12", 1)[0] & 1 == 1
    clock.advance_to(clock.now + PS_PER_SECOND // 10000)
    assert bus.write_read(0x6A, b"\x12", 2) == b"\x04\x00"           # done: defaults, IF_INC on again
    assert dev.regs[0x10] == 0


def test_spi_access_reads_and_writes():
    clock = VirtualClock()
    dev = Lsm6dso(clock=clock, accel=(0, 0, -1.0))
    bus = SpiBus()
    bus.attach(dev, "csA")
    assert bus.transfer(b"\x8f\x00")[1] == 0x6C
    bus.transfer(b"\x10\x40")
    clock.advance_to(20 * MS)
    raw = bus.transfer(b"\xac\x00\x00")[1:]
    assert s16(raw[0], raw[1]) == round(-1000 / 0.061)
    assert dev.transactions == 3


def test_motion_file(tmp_path):
    f = tmp_path / "motion.csv"
    f.write_text("t,ax,ay,az,gx,gy,gz\n0,0,0,1,0,0,0\n50ms,1,0,0,0,0,90\n")
    clock = VirtualClock()
    dev = Lsm6ds3(clock=clock, motion=str(f))
    assert dev.accel == (0, 0, 1)
    clock.advance_to(60 * MS)
    assert dev.accel == (1, 0, 0) and dev.gyro == (0, 0, 90)


@pytest.mark.parametrize("kw", [{"accel": (1, 2)}, {"accel": "up"}, {"temperature": "warm"}, {"colour": 1},
                                {"motion": "/nonexistent.csv"}])
def test_bad_values_are_refused_with_the_device_name(kw):
    with pytest.raises(DeviceError, match="imu"):
        Lsm6ds3(name="imu", **kw)
