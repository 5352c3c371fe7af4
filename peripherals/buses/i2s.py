"""The I2S link between the chip's I2S controller and a codec: frames of samples, each a tuple of signed integers
(one per channel), with the format they were clocked in. Pure logic: the controller paces the frames.

A codec (`I2sDevice`) receives playback frames (the chip's DL, "I2S TX") and provides capture frames (the chip's
UL, "I2S RX"). With no codec attached, playback goes nowhere and capture reads silence (0), as with nothing on the
pins.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class I2sFormat:
    rate_hz: int                 # frames per second
    channels: int                # samples per frame
    bits: int                    # bits per sample (16 or 32)
    tdm: bool = False            # TDM framing rather than I2S (left/right on WS)

    def describe(self) -> str:
        return f"{'TDM' if self.tdm else 'I2S'} {self.rate_hz} Hz, {self.channels} ch, {self.bits} bit"


class I2sDevice:
    """Base of a device on an I2S link (a codec)."""

    name: str = "i2s-device"

    def i2s_playback(self, frames: list[tuple[int, ...]], fmt: I2sFormat, t_ps: int) -> None:
        """Frames the chip transmitted; `t_ps` is the virtual time of the first."""

    def i2s_capture(self, count: int, fmt: I2sFormat, t_ps: int) -> list[tuple[int, ...]]:
        """`count` frames for the chip to receive, starting at virtual time `t_ps`."""
        return [(0,) * fmt.channels for _ in range(count)]


def to_signed(value: int, bits: int) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value
