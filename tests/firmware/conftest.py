"""Firmware tests on top of the engine's pytest fixtures (`boot`, `firmware`: mt3620.testing.pytest_plugin).

`chip(io0="hello", io1="fpu")` sideloads the project's firmware by name onto an emulated board, as a developer
does (its signed package with its app_manifest.json; the device checks, installs and starts it with the firewalls
programmed from the manifests: io0's app first, so it lands on IO core 0); with `--mt3620-engine=renode` it boots
the same firmware's ELFs on Renode's IO cores instead (no app manager there). It records every UART line with the
virtual time at which its newline left the UART, for assertions on order and timing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from mt3620.engine.simulation.clock import PS_PER_SECOND, parse_duration


@dataclass
class Line:
    uart: str
    text: str
    time_ps: int


@dataclass
class Chip:
    device: Any                     # mt3620.testing.device.Device
    lines: list[Line] = field(default_factory=list)

    @property
    def machine(self):
        return self.device.machine

    def texts(self, core: str = "io0") -> list[str]:
        return [ln.text for ln in self.lines if ln.uart.startswith(core + ".")]

    def line(self, text: str, core: str = "io0") -> Line:
        for ln in self.lines:
            if ln.uart.startswith(core + ".") and ln.text == text:
                return ln
        raise AssertionError(f"no line {text!r} on {core}; got {self.texts(core)}")

    def run_until(self, pattern: str, within: str, core: str = "io0", fresh: bool = False) -> Line:
        """Run until a line of `core` matches the regex `pattern` (one already printed counts, unless `fresh`);
        the engine's Device raises with a transcript when `within` virtual time passes first."""
        regex = re.compile(pattern)
        start = len(self.lines) if fresh else 0

        def match():
            return next((ln for ln in self.lines[start:] if ln.uart.startswith(core + ".") and regex.search(ln.text)),
                        None)

        if match() is None:
            self.device.run_until(lambda: match() is not None, timeout=within)
        return match()

    def run_for(self, duration: str) -> None:
        self.device.advance(duration)

    def seconds(self) -> float:
        return self.machine.time_ps / PS_PER_SECOND


@pytest.fixture
def chip(request, mt3620_engine, firmware):
    def _chip(io0: str | None = None, io1: str | None = None) -> Chip:
        assert io0 is not None or io1 is None, "the device places the first RTApp on IO core 0"
        if mt3620_engine == "renode":
            # Renode has no app manager or firewalls (docs/renode.md): the ELFs are loaded onto the cores.
            boot = request.getfixturevalue("boot")
            dev = boot(rt0=firmware(io0) if io0 else None, rt1=firmware(io1) if io1 else None)
        else:
            sideload, rt_package = request.getfixturevalue("sideload"), request.getfixturevalue("rt_package")
            dev = sideload(*(rt_package(name) for name in (io0, io1) if name))
        c = Chip(dev)
        dev.machine.line_listeners.append(lambda uart, text: c.lines.append(Line(uart, text, dev.machine.time_ps)))
        return c

    return _chip


__all__ = ["Chip", "Line", "parse_duration"]
