"""An SPI bus: one controller's SCLK/MOSI/MISO and the chip selects of the targets on it. Pure logic.

Targets exchange whole bytes (an SPI byte is a full-duplex shift of eight bits; Motorola SPI block guide
S12SPIV3, the convention every SPI device datasheet follows): the controller shifts a byte out on MOSI while the
selected targets shift one back on MISO.

Chip selects. A target is selected by one of the controller's own CS lines (`line` 0 = CSA, 1 = CSB: CodethinkLabs
mt3620/spi.h SMMR.rs_slave_sel, MT3620_CS_MAX 1) or by a GPIO pad the firmware toggles itself (CodethinkLabs
SPI_RTApp_MT3620_BareMetal main.c drives GPIO 0 as chip select through SPIMaster_SetSelectLineCallback). Both are
active low unless the target says otherwise. A select edge calls the target's `spi_select()` / `spi_deselect()`,
so a target sees where a command starts (SD cards, displays).

MISO. With no target selected nothing drives MISO and it reads 1s (0xFF), as on a board with a pull-up or a
missing device. Two selected targets driving MISO at once are wired-AND here (emulator-defined) and logged.

Modes (emulator-defined beyond the standard): a target lists the modes it works in (`modes`; modes 0 and 3 sample
on the rising SCLK edge, 1 and 2 on the falling one). In any other mode it sees every byte one bit late (the
previous byte's last bit first) and the controller reads its reply one bit late the same way, as a device sampled
on the wrong edge does. LSB-first transfers reverse the bits of each byte on the wire.
"""
from __future__ import annotations

import logging
from typing import Callable

log = logging.getLogger("mt3620.spi")

RISING_MODES = frozenset({0, 3})


def reverse_bits(byte: int) -> int:
    return int(f"{byte & 0xFF:08b}"[::-1], 2)


class SpiTarget:
    """Base of an SPI target (device model)."""

    name: str = "spi-target"
    modes: frozenset[int] = frozenset({0, 3})
    bus: "SpiBus | None" = None
    selected: bool = False

    def spi_select(self) -> None:
        """CS became active: a new command starts."""

    def spi_deselect(self) -> None:
        """CS became inactive."""

    def spi_exchange(self, byte: int) -> int:
        """One byte in on MOSI; return the byte shifted out on MISO during it (0xFF = not driving)."""
        return 0xFF


class ChipSelect:
    """How a target is selected: an ISU CS line (`line`) or a GPIO pad (`gpio`), active low unless `active_high`;
    or `always` (a target without a chip select, such as a wire from MISO to MOSI)."""

    def __init__(self, line: int | None = None, gpio: int | None = None, active_high: bool = False,
                 always: bool = False) -> None:
        self.always = always
        if always:
            line = gpio = None
        elif (line is None) == (gpio is None):
            raise ValueError("a chip select is either a CS line (0 = CSA, 1 = CSB) or a GPIO pin")
        if line is not None and line not in (0, 1):
            raise ValueError(f"CS line {line!r}: the ISU SPI master has lines 0 (CSA) and 1 (CSB)")
        if gpio is not None and not 0 <= int(gpio) <= 93:
            raise ValueError(f"GPIO {gpio!r}: not an MT3620 GPIO (0..93)")
        self.line, self.gpio, self.active_high = line, gpio, active_high

    @classmethod
    def parse(cls, text: str | int) -> "ChipSelect":
        """"csA"/"A"/0, "csB"/"B"/1, "gpio0"/"GPIO12" (active low; a trailing "+" means active high), "always"."""
        s = str(text).strip()
        if s.lower() in ("always", "none", "-"):
            return cls(always=True)
        active_high = s.endswith("+")
        s = s.rstrip("+").lower()
        if s in ("0", "a", "csa", "cs0"):
            return cls(line=0, active_high=active_high)
        if s in ("1", "b", "csb", "cs1"):
            return cls(line=1, active_high=active_high)
        if s.startswith("gpio") and s[4:].isdigit():
            return cls(gpio=int(s[4:]), active_high=active_high)
        raise ValueError(f"chip select {text!r}: use csA, csB or gpioN")

    def __repr__(self) -> str:
        if self.always:
            return "always"
        where = f"cs{'AB'[self.line]}" if self.line is not None else f"gpio{self.gpio}"
        return where + ("+" if self.active_high else "")


class SpiBus:
    """The bus of one SPI controller (see the module docstring)."""

    def __init__(self, name: str = "spi") -> None:
        self.name = name
        self.targets: list[tuple[SpiTarget, ChipSelect]] = []
        self.line_levels = [1, 1]                   # CSA/CSB as the controller drives them (idle high)
        self.gpio_levels: dict[int, int] = {}       # pads used as chip selects, as last seen
        self.monitors: list[Callable[[str, int, int], None]] = []
        self._warned: set[str] = set()

    # ---- wiring -------------------------------------------------------------------------------------------------
    def attach(self, target: SpiTarget, cs: ChipSelect | str | int) -> SpiTarget:
        cs = cs if isinstance(cs, ChipSelect) else ChipSelect.parse(cs)
        for other, other_cs in self.targets:
            if other is target:
                raise ValueError(f"{self.name}: {target.name} is already on the bus")
            if not cs.always and repr(other_cs).rstrip("+") == repr(cs).rstrip("+"):
                raise ValueError(f"{self.name}: {other.name} already uses chip select {cs!r}")
        self.targets.append((target, cs))
        target.bus = self
        target.selected = False
        self._update(target, cs)
        return target

    def detach(self, target: SpiTarget) -> None:
        self.targets = [(t, cs) for t, cs in self.targets if t is not target]

    def gpio_pins(self) -> list[int]:
        return [cs.gpio for _, cs in self.targets if cs.gpio is not None]

    # ---- chip selects -------------------------------------------------------------------------------------------
    def _active(self, cs: ChipSelect) -> bool:
        if cs.always:
            return True
        level = self.line_levels[cs.line] if cs.line is not None else self.gpio_levels.get(cs.gpio, 1)
        return bool(level) == cs.active_high

    def _update(self, target: SpiTarget, cs: ChipSelect) -> None:
        now = self._active(cs)
        if now and not target.selected:
            target.selected = True
            target.spi_select()
        elif not now and target.selected:
            target.selected = False
            target.spi_deselect()

    def drive_line(self, line: int, level: int) -> None:
        """The controller drives its CS line `line` (0 = CSA, 1 = CSB) to `level`."""
        if line not in (0, 1):
            return
        self.line_levels[line] = 1 if level else 0
        for target, cs in self.targets:
            if cs.line == line:
                self._update(target, cs)

    def gpio_changed(self, pin: int, level: int | None) -> None:
        """A pad used as chip select changed (None: not driven; the board's pull-up holds it high)."""
        self.gpio_levels[pin] = 1 if level is None else (1 if level else 0)
        for target, cs in self.targets:
            if cs.gpio == pin:
                self._update(target, cs)

    def selected(self) -> list[SpiTarget]:
        return [t for t, _ in self.targets if t.selected]

    # ---- data ---------------------------------------------------------------------------------------------------
    def exchange(self, data: bytes, mode: int = 0, lsb_first: bool = False) -> bytes:
        """Shift `data` out on MOSI to the selected targets; returns what MISO carried (0xFF per byte when nothing
        is selected)."""
        selected = self.selected()
        if len(selected) > 1 and "contention" not in self._warned:
            self._warned.add("contention")
            log.warning("%s: %d targets selected at once (%s): MISO is wired-AND", self.name, len(selected),
                        ", ".join(t.name for t in selected))
        mode &= 3
        late_in = {id(t): 1 for t in selected}
        last_mosi = 1
        out = bytearray()
        for byte in data:
            wire = reverse_bits(byte) if lsb_first else byte & 0xFF
            miso = 0xFF
            for target in selected:
                if mode in target.modes:
                    reply = target.spi_exchange(wire) & 0xFF
                else:
                    # Sampled on the other edge: every bit one clock late, in both directions.
                    raw = target.spi_exchange(((last_mosi & 1) << 7) | (wire >> 1)) & 0xFF
                    reply = ((late_in[id(target)] & 1) << 7) | (raw >> 1)
                    late_in[id(target)] = raw
                miso &= reply
            last_mosi = wire
            value = reverse_bits(miso) if lsb_first else miso
            out.append(value)
            for fn in list(self.monitors):
                fn(self.name, byte & 0xFF, value)
        return bytes(out)

    # ---- a Python master (tests, the A7's OS layer), in zero virtual time --------------------------------------
    def transfer(self, data: bytes, line: int = 0, mode: int = 0, lsb_first: bool = False) -> bytes:
        """Select CS line `line` (active low), exchange `data`, deselect: what SPIMaster_TransferSequential does
        for one full-duplex transfer. Targets selected by a GPIO stay as their pads are."""
        self.drive_line(line, 0)
        try:
            return self.exchange(data, mode, lsb_first)
        finally:
            self.drive_line(line, 1)

    def write_read(self, write: bytes, read: int, line: int = 0, mode: int = 0) -> bytes:
        """Write `write`, then read `read` bytes (MOSI held high) in one selection."""
        reply = self.transfer(bytes(write) + b"\xff" * read, line, mode)
        return reply[len(write):]

