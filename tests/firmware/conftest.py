"""Helpers for booting the project's firmware on the emulated MT3620 (engine: mt3620.engine.machine)."""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from mt3620 import toolchain

try:
    from mt3620.engine.clock import PS_PER_SECOND, parse_duration
    from mt3620.engine.machine import Machine
except ImportError as exc:  # the engine is another part of the project
    Machine = None
    _ENGINE_ERROR = str(exc)
else:
    _ENGINE_ERROR = ""


@dataclass
class Line:
    uart: str
    text: str
    time_ps: int


@dataclass
class Board:
    """A machine with firmware loaded and every UART line recorded with its virtual time."""
    machine: "Machine"
    lines: list[Line] = field(default_factory=list)

    def texts(self, core: str = "io0") -> list[str]:
        return [ln.text for ln in self.lines if ln.uart.startswith(core + ".")]

    def line(self, text: str, core: str = "io0") -> Line:
        for ln in self.lines:
            if ln.uart.startswith(core + ".") and ln.text == text:
                return ln
        raise AssertionError(f"no line {text!r} on {core}; got {self.texts(core)}")

    def run_until(self, pattern: str, within: str, core: str = "io0", fresh: bool = False) -> Line:
        """Run until a line of `core` matches the regex `pattern` (one already printed counts, unless `fresh`);
        fail if `within` virtual time passes first."""
        import re
        regex = re.compile(pattern)
        start = len(self.lines) if fresh else 0
        deadline = self.machine.time_ps + parse_duration(within)

        def seen():
            return any(ln.uart.startswith(core + ".") and regex.search(ln.text) for ln in self.lines[start:])

        result = self.machine.run(duration_ps=deadline - self.machine.time_ps, until=seen)
        assert seen(), (f"no line matching {pattern!r} on {core} within {within} "
                        f"({result.reason}); lines: {self.texts(core)}")
        return next(ln for ln in self.lines[start:] if ln.uart.startswith(core + ".") and regex.search(ln.text))

    def run_for(self, duration: str) -> None:
        self.machine.run(duration_ps=parse_duration(duration))

    def seconds(self) -> float:
        return self.machine.time_ps / PS_PER_SECOND


@pytest.fixture(scope="session")
def firmware():
    """name -> ELF path, built once per session (skips when no compiler is installed)."""
    try:
        toolchain.find_compiler()
    except toolchain.ToolchainError as exc:
        pytest.skip(str(exc))
    return toolchain.build_all()


@pytest.fixture
def boot(firmware):
    """boot(io0="hello", io1=None) -> Board with the firmware loaded on those IO cores."""
    if Machine is None:
        pytest.skip(f"engine not available: {_ENGINE_ERROR}")

    def _boot(**cores: str | None) -> Board:
        machine = Machine()
        board = Board(machine)
        machine.line_listeners.append(
            lambda uart, text: board.lines.append(Line(uart, text, machine.time_ps)))
        for core, name in cores.items():
            if name:
                machine.load(core, firmware[name])
        return board

    return _boot
