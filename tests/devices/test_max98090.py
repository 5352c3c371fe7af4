"""MAX98090 codec: the I2C register file (revision, reset, auto-increment, read-only registers), playback recorded
to WAV only while the device runs with a DAC and an output enabled, capture of an input signal."""
import wave

from mt3620.peripherals.buses.i2c import I2cBus
from mt3620.peripherals.buses.i2s import I2sFormat
from mt3620.peripherals.devices.max98090 import Max98090

FMT = I2sFormat(48000, 2, 16)


def codec():
    dev = Max98090(name="codec")
    bus = I2cBus()
    bus.attach(dev, 0x10)
    return dev, bus


def test_register_file():
    dev, bus = codec()
    assert bus.write_read(0x10, b"\xff", 1) == b"\x43"
    bus.write_to(0x10, bytes([0x1B, 1, 2, 3]))
    assert bus.write_read(0x10, b"\x1b", 3) == b"\x01\x02\x03"
    bus.write_to(0x10, b"\xff\x00")
    assert dev.regs[0xFF] == 0x43                                    # read-only
    bus.write_to(0x10, b"\x00\x80")                                  # software reset
    assert dev.regs[0x1B] == 0 and dev.regs[0xFF] == 0x43


def test_playback_recorded_only_while_playing(tmp_path):
    dev, bus = codec()
    dev.i2s_playback([(1, 2)] * 10, FMT, 0)
    assert dev.frames_played == 10 and dev.frames_recorded == 0     # shut down
    bus.write_to(0x10, bytes([0x3F, 0xC3]))                          # headphones + DACs
    bus.write_to(0x10, bytes([0x45, 0x80]))                          # running
    dev.i2s_playback([(100, -100), (200, -200)], FMT, 0)
    dev.i2s_playback([(1 << 20, -(1 << 20))], I2sFormat(48000, 2, 32), 0)
    assert dev.samples() == [(100, -100), (200, -200), (16, -16)]
    path = dev.save_wav(tmp_path / "out.wav")
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getframerate(), w.getsampwidth(), w.getnframes()) == (2, 48000, 2, 3)
    dev.wav = str(tmp_path / "close.wav")
    dev.close()
    assert (tmp_path / "close.wav").exists()


def test_capture_sends_the_input_signal():
    dev, bus = codec()
    dev.input = 0.5
    assert dev.i2s_capture(2, FMT, 0) == [(0, 0), (0, 0)]             # ADCs off
    bus.write_to(0x10, bytes([0x3E, 0x03]))
    bus.write_to(0x10, bytes([0x45, 0x80]))
    assert dev.i2s_capture(1, FMT, 0) == [(16384, 16384)]
    dev.input = "sine(0, 1, 12kHz)"
    frames = dev.i2s_capture(4, FMT, 0)
    assert [f[0] for f in frames] == [0, 32767, 0, -32767]
