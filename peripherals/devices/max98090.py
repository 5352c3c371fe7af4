"""Maxim MAX98090 audio codec: a register file on I2C (address 0x10, or 0x11 for the B variant) and an I2S
device that records what the chip plays into a WAV file.

Facts from the public MAX98090 datasheet (19-6156): registers 0x00-0x45 and 0xFF; 0x00 SOFTWARE_RESET (bit 7
resets every register); 0x3E INPUT_ENABLE (bits 1:0 ADL/ADR enable the ADCs); 0x3F OUTPUT_ENABLE (bits 7:6
headphone, 5:4 speaker, 3:2 receiver, 1:0 DAL/DAR enable the DACs); 0x45 DEVICE_SHUTDOWN (bit 7 SHDN = 1: the
device runs); 0xFF REVISION_ID reads 0x43 (CodethinkLabs MAX98090.c checks it). Register writes and reads
auto-increment the register address within one transfer (the sample writes 0x1B..0x25 in one).

Playback: while the device runs and a DAC and an output are enabled, frames the chip sends over I2S are recorded
(16-bit PCM, the link's channel count and rate) and written to `wav` (a path) on `save_wav()` and when the machine
stops; frames while it is shut down or muted are counted but not recorded (what headphones would hear).
Capture: while an ADC is enabled the codec sends `input` (a signal over virtual time in volts: full scale 1 V =
32767; emulator-defined level), else silence. Register semantics beyond these are stored only.
"""
from __future__ import annotations

import wave
from pathlib import Path
from typing import Any

from mt3620.peripherals.buses.i2c import I2cTarget
from mt3620.peripherals.buses.i2s import I2sDevice, I2sFormat
from mt3620.peripherals.buses.signals import Constant, Signal

from .base import BoardDevice

REVISION_ID = 0x43
SOFTWARE_RESET, INPUT_ENABLE, OUTPUT_ENABLE, DEVICE_SHUTDOWN, REVISION = 0x00, 0x3E, 0x3F, 0x45, 0xFF
PS = 1_000_000_000_000


class Max98090(BoardDevice, I2cTarget, I2sDevice):
    KIND = "MAX98090"
    SETTINGS = ("address", "wav", "input", "stretch_ps")

    def __init__(self, name: str | None = None, clock=None, **attributes: Any) -> None:
        self.address = 0x10
        self.wav: str | None = None
        self._input: Signal = Constant(0.0)
        self.regs = bytearray(0x100)
        self._defaults()
        self.pointer = 0
        self._first = True
        self.recorded = bytearray()
        self.frames_played = 0
        self.frames_recorded = 0
        self.format: I2sFormat | None = None
        super().__init__(name, clock, **attributes)

    def _defaults(self) -> None:
        self.regs[:] = bytes(0x100)
        self.regs[REVISION] = REVISION_ID

    @property
    def input(self) -> Signal:
        return self._input

    @input.setter
    def input(self, value: Any) -> None:
        self._input = self._signal(value, "input")

    # ---- I2C register file ----------------------------------------------------------------------------------------
    def i2c_start(self, read: bool) -> Any:
        self._first = not read
        return True

    def i2c_write(self, byte: int) -> Any:
        if self._first:
            self.pointer, self._first = byte & 0xFF, False
            return True
        self.write_register(self.pointer, byte)
        self.pointer = (self.pointer + 1) & 0xFF
        return True

    def i2c_read(self) -> Any:
        value = self.regs[self.pointer]
        self.pointer = (self.pointer + 1) & 0xFF
        return value

    def write_register(self, reg: int, value: int) -> None:
        if reg == SOFTWARE_RESET and value & 0x80:
            self._defaults()
            return
        if reg == REVISION or reg in (0x01, 0x02):       # revision, device and jack status are read-only
            return
        self.regs[reg] = value & 0xFF

    # ---- I2S -----------------------------------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return bool(self.regs[DEVICE_SHUTDOWN] & 0x80)

    @property
    def playing(self) -> bool:
        out = self.regs[OUTPUT_ENABLE]
        return self.running and bool(out & 0x03) and bool(out & 0xFC)

    def i2s_playback(self, frames: list[tuple[int, ...]], fmt: I2sFormat, t_ps: int) -> None:
        self.frames_played += len(frames)
        if not self.playing:
            return
        if self.format is None or (self.format.rate_hz, self.format.channels) != (fmt.rate_hz, fmt.channels):
            self.format = fmt
        shift = fmt.bits - 16
        out = self.recorded
        for frame in frames:
            for sample in frame:
                value = sample >> shift if shift > 0 else sample
                out += (max(-32768, min(32767, value)) & 0xFFFF).to_bytes(2, "little")
        self.frames_recorded += len(frames)

    def i2s_capture(self, count: int, fmt: I2sFormat, t_ps: int) -> list[tuple[int, ...]]:
        if not (self.running and self.regs[INPUT_ENABLE] & 0x03):
            return [(0,) * fmt.channels] * count
        full = (1 << (fmt.bits - 1)) - 1
        frames = []
        for i in range(count):
            v = self._input.value_at(t_ps + i * PS // fmt.rate_hz)
            s = max(-full - 1, min(full, round(v * full)))
            frames.append((s,) * fmt.channels)
        return frames

    def samples(self) -> list[tuple[int, ...]]:
        """The recorded frames as tuples of signed 16-bit samples."""
        ch = self.format.channels if self.format else 2
        vals = [int.from_bytes(self.recorded[i:i + 2], "little", signed=True)
                for i in range(0, len(self.recorded), 2)]
        return [tuple(vals[i:i + ch]) for i in range(0, len(vals) - ch + 1, ch)]

    def save_wav(self, path: str | Path | None = None) -> Path:
        path = Path(path or self.wav or f"{self.name}.wav")
        path.parent.mkdir(parents=True, exist_ok=True)
        fmt = self.format or I2sFormat(48000, 2, 16)
        tmp = path.with_name(path.name + ".tmp")
        with wave.open(str(tmp), "wb") as w:
            w.setnchannels(fmt.channels)
            w.setsampwidth(2)
            w.setframerate(fmt.rate_hz)
            w.writeframes(bytes(self.recorded))
        tmp.replace(path)
        return path

    def close(self) -> None:
        if self.wav:
            self.save_wav(self.wav)

    def describe(self) -> str:
        rate = f"{self.format.rate_hz} Hz" if self.format else "-"
        return f"{self.name} (MAX98090 at 0x{self.address:02x}): {'running' if self.running else 'shut down'}, " \
               f"{self.frames_recorded} of {self.frames_played} frames recorded ({rate})"
