"""What every board device shares: a name, the machine's virtual clock, and settable values from outside (pytest,
a board file, the command line) checked with clear one-line errors."""
from __future__ import annotations

from typing import Any

from mt3620.engine.simulation.clock import VirtualClock
from mt3620.peripherals.buses.signals import Signal, parse_signal


class DeviceError(ValueError):
    """A device attribute or value that cannot be used; the message names the device."""


class BoardDevice:
    """Base of a device model. `clock` is the machine's virtual clock (a private one when built alone);
    `attributes` are the board file's settings, applied through `configure`."""

    KIND = "device"
    SETTINGS: tuple[str, ...] = ()          # attribute names a board file may set

    def __init__(self, name: str | None = None, clock: VirtualClock | None = None, **attributes: Any) -> None:
        self.name = name or self.KIND
        self.clock = clock or VirtualClock()
        self.configure(**attributes)

    def configure(self, **attributes: Any) -> None:
        for key, value in attributes.items():
            if key not in self.SETTINGS:
                have = ", ".join(self.SETTINGS) or "none"
                raise DeviceError(f"{self.name}: unknown setting {key!r} for a {self.KIND} (settings: {have})")
            setattr(self, key, value)

    def close(self) -> None:
        """The machine stops: write what the device keeps in files (frame buffers, audio, card images)."""

    def describe(self) -> str:
        return f"{self.name} ({self.KIND})"

    def _signal(self, value: Any, what: str) -> Signal:
        """A setting that is a signal over virtual time (mt3620.peripherals.buses.signals.parse_signal: a number,
        steps, a table file); one that is not is a DeviceError naming the device and the setting."""
        try:
            return parse_signal(value)
        except ValueError as exc:
            raise DeviceError(f"{self.name}: {what}: {exc}") from None


def three(value: Any, what: str, owner: str) -> tuple[float, float, float]:
    """(x, y, z) from a tuple, a list or "x, y, z"."""
    if isinstance(value, str):
        value = [v for v in value.replace("(", " ").replace(")", " ").replace(",", " ").split() if v]
    try:
        x, y, z = (float(v) for v in value)
    except (TypeError, ValueError):
        raise DeviceError(f"{owner}: {what} must be three numbers (x, y, z), not {value!r}") from None
    return x, y, z
