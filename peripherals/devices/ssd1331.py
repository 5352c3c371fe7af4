"""Solomon Systech SSD1331: 96x64 RGB OLED controller on SPI (mode 3, also sampled correctly in mode 0), as on the
Digilent Pmod OLEDrgb the CodethinkLabs SPI_SSD1331 sample drives.

Facts from the public SSD1331 datasheet (rev 1.2): the D/C# pin tells commands (low) from display data (high);
RES# low resets the controller. Commands (with their argument bytes): 0x15 column range (2), 0x75 row range (2),
0x21 draw line (7), 0x22 draw rectangle (10), 0x23 copy (6), 0x24 dim window (4), 0x25 clear window (4), 0x26
fill enable (1), 0x27 scroll setup (5), 0x2E/0x2F scroll off/on, 0x81/0x82/0x83 contrast A/B/C (1), 0x87 master
current (1), 0x8A/0x8B/0x8C second precharge (1), 0xA0 remap and colour depth (1: bit 0 vertical address
increment, bit 1 column remap, bit 2 BGR order, bit 3 COM left/right, bit 4 COM scan remap, bit 5 COM split,
bits 7:6 00 = 256 colours, 01/10 = 65k), 0xA1 start line (1), 0xA2 offset (1), 0xA4 normal, 0xA5 all on, 0xA6 all
off, 0xA7 inverse, 0xA8 multiplex (1), 0xAB dim mode (5), 0xAC on (dim), 0xAD master configuration (1), 0xAE off,
0xAF on, 0xB0 power save (1), 0xB1 phase (1), 0xB3 clock (1), 0xB8 grey table (32), 0xB9 linear grey, 0xBB
precharge level (1), 0xBE VCOMH (1), 0xFD command lock (1), 0xBC/0xBD/0xE3 NOP. 65k-colour data is two bytes per
pixel, RRRRRGGG GGGBBBBB; 256-colour one byte RRRGGGBB. Colours of the drawing commands are C (blue, 5 bits), B
(green, 6 bits), A (red, 5 bits) in 65k mode.

Board wiring: the data/command pin and the reset pin are GPIO pads (`dc`, `reset` attributes; the sample uses GPIO
0 and 1). The picture: emulator-defined orientation of the Pmod OLEDrgb panel: mounted so that the reference
manual's settings (column remap and COM scan remap on, as the sample sets) show RAM (0, 0) at the top left; other
settings mirror it. Dimming and scrolling are stored, not rendered.
"""
from __future__ import annotations

from typing import Any

from mt3620.peripherals.buses.spi import SpiTarget

from .display import AddressWindow, DisplayPanel
from .base import BoardDevice, DeviceError
from .png import encode_png

WIDTH, HEIGHT = 96, 64
ARGS = {0x15: 2, 0x75: 2, 0x21: 7, 0x22: 10, 0x23: 6, 0x24: 4, 0x25: 4, 0x26: 1, 0x27: 5, 0x81: 1, 0x82: 1,
        0x83: 1, 0x87: 1, 0x8A: 1, 0x8B: 1, 0x8C: 1, 0xA0: 1, 0xA1: 1, 0xA2: 1, 0xA8: 1, 0xAB: 5, 0xAD: 1, 0xB0: 1,
        0xB1: 1, 0xB3: 1, 0xB8: 32, 0xBB: 1, 0xBE: 1, 0xFD: 1}


class Ssd1331(DisplayPanel, BoardDevice, SpiTarget):
    KIND = "SSD1331"
    SETTINGS = ("dc", "reset", "png_path", "scale")
    modes = frozenset({0, 3})

    def __init__(self, name: str | None = None, clock=None, **attributes: Any) -> None:
        self.dc: int | None = None                 # GPIO of the D/C# pin (None: every byte is a command)
        self.reset: int | None = None
        self.png_path: str | None = None
        self.scale = 4
        self.dc_level = 0
        self._hw_reset()
        super().__init__(name, clock, **attributes)
        for pin in (self.dc, self.reset):
            if pin is not None and not (isinstance(pin, int) and 0 <= pin <= 93):
                raise DeviceError(f"{self.name}: pin {pin!r} is not an MT3620 GPIO")

    def _hw_reset(self) -> None:
        self.ram = [[0] * WIDTH for _ in range(HEIGHT)]
        self.on = False
        self.mode = "normal"                        # normal, all_on, all_off, inverse
        self.remap = 0x40
        self.window = AddressWindow(WIDTH, HEIGHT)
        self.start_line = 0
        self.offset = 0
        self.fill = False
        self.locked = False
        self.data_bytes = 0
        self._cmd: list[int] = []
        self._half: int | None = None

    # ---- pins -------------------------------------------------------------------------------------------------------
    def pins(self) -> dict[str, int]:
        return {name: pin for name, pin in (("dc", self.dc), ("reset", self.reset)) if pin is not None}

    def pin_changed(self, name: str, level: int | None) -> None:
        level = 1 if level is None else int(level)
        if name == "dc":
            self.dc_level = level
            self._half = None
        elif name == "reset" and level == 0:
            self._hw_reset()

    # ---- SPI ---------------------------------------------------------------------------------------------------------
    def spi_select(self) -> None:
        self._half = None

    def spi_exchange(self, byte: int) -> int:
        if self.dc is not None and self.dc_level:
            self.write_data(byte)
        else:
            self.command(byte)
        return 0xFF

    # ---- commands ------------------------------------------------------------------------------------------------------
    def command(self, byte: int) -> None:
        self._cmd.append(byte & 0xFF)
        op = self._cmd[0]
        if len(self._cmd) <= ARGS.get(op, 0):
            return
        args, self._cmd = self._cmd[1:], []
        if self.locked and not (op == 0xFD):
            return
        if op == 0xFD:
            self.locked = bool(args[0] & 0x04)
        elif op == 0x15:
            self.window.set_columns(min(args[0], WIDTH - 1), min(args[1], WIDTH - 1))
        elif op == 0x75:
            self.window.set_rows(min(args[0], HEIGHT - 1), min(args[1], HEIGHT - 1))
        elif op == 0xA0:
            self.remap = args[0]
        elif op == 0xA1:
            self.start_line = args[0] & 0x3F
        elif op == 0xA2:
            self.offset = args[0] & 0x3F
        elif op in (0xA4, 0xA5, 0xA6, 0xA7):
            self.mode = {0xA4: "normal", 0xA5: "all_on", 0xA6: "all_off", 0xA7: "inverse"}[op]
        elif op in (0xAE, 0xAF, 0xAC):
            self.on = op != 0xAE
        elif op == 0x26:
            self.fill = bool(args[0] & 1)
        elif op == 0x25:
            self._rect(args[0], args[1], args[2], args[3], None, 0)
        elif op == 0x21:
            self._line(args[0], args[1], args[2], args[3], self._color(args[4], args[5], args[6]))
        elif op == 0x22:
            line = self._color(args[4], args[5], args[6])
            fill = self._color(args[7], args[8], args[9]) if self.fill else None
            self._rect(args[0], args[1], args[2], args[3], line, fill)
        elif op == 0x23:
            self._copy(*args)

    @staticmethod
    def _color(c: int, b: int, a: int) -> int:
        """Drawing colours: C = blue (5 bits), B = green (6 bits), A = red (5 bits) -> RGB565."""
        return (a & 0x1F) << 11 | (b & 0x3F) << 5 | (c & 0x1F)

    def _rect(self, c1: int, r1: int, c2: int, r2: int, line: int | None, fill: int | None) -> None:
        c1, c2 = sorted((min(c1, WIDTH - 1), min(c2, WIDTH - 1)))
        r1, r2 = sorted((min(r1, HEIGHT - 1), min(r2, HEIGHT - 1)))
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                edge = r in (r1, r2) or c in (c1, c2)
                if edge and line is not None:
                    self.ram[r][c] = line
                elif fill is not None:
                    self.ram[r][c] = fill

    def _line(self, c1: int, r1: int, c2: int, r2: int, color: int) -> None:
        steps = max(abs(c2 - c1), abs(r2 - r1), 1)
        for i in range(steps + 1):
            c = round(c1 + (c2 - c1) * i / steps)
            r = round(r1 + (r2 - r1) * i / steps)
            if 0 <= c < WIDTH and 0 <= r < HEIGHT:
                self.ram[r][c] = color

    def _copy(self, c1: int, r1: int, c2: int, r2: int, c3: int, r3: int) -> None:
        block = [[self.ram[r][c] for c in range(c1, min(c2, WIDTH - 1) + 1)]
                 for r in range(r1, min(r2, HEIGHT - 1) + 1)]
        for dr, line in enumerate(block):
            for dc, value in enumerate(line):
                if 0 <= r3 + dr < HEIGHT and 0 <= c3 + dc < WIDTH:
                    self.ram[r3 + dr][c3 + dc] = value

    def write_data(self, byte: int) -> None:
        self.data_bytes += 1
        if self.remap >> 6 == 0:                      # 256 colours: RRRGGGBB
            r, g, b = byte >> 5 & 7, byte >> 2 & 7, byte & 3
            self._pixel((r * 31 // 7) << 11 | (g * 63 // 7) << 5 | (b * 31 // 3))
            return
        if self._half is None:
            self._half = byte & 0xFF
            return
        value = self._half << 8 | (byte & 0xFF)
        self._half = None
        self._pixel(value)

    def _pixel(self, rgb565: int) -> None:
        if self.remap & 0x04:                         # BGR order
            rgb565 = (rgb565 & 0x1F) << 11 | (rgb565 & 0x7E0) | rgb565 >> 11
        self.ram[self.window.row][self.window.col] = rgb565
        self.window.advance(vertical=bool(self.remap & 0x01))     # A[0]: vertical address increment

    # ---- the picture ---------------------------------------------------------------------------------------------------
    def rgb(self, value: int) -> tuple[int, int, int]:
        r, g, b = value >> 11 & 0x1F, value >> 5 & 0x3F, value & 0x1F
        return (r * 255 // 31, g * 255 // 63, b * 255 // 31)

    def pixels(self) -> list[list[tuple[int, int, int]]]:
        """What the panel shows: HEIGHT rows of WIDTH (r, g, b) tuples."""
        out = []
        for y in range(HEIGHT):
            com = y if self.remap & 0x10 else HEIGHT - 1 - y
            row = (com + self.start_line + self.offset) % HEIGHT
            line = []
            for x in range(WIDTH):
                column = x if self.remap & 0x02 else WIDTH - 1 - x
                if not self.on or self.mode == "all_off":
                    line.append((0, 0, 0))
                elif self.mode == "all_on":
                    line.append((255, 255, 255))
                else:
                    r, g, b = self.rgb(self.ram[row][column])
                    line.append((255 - r, 255 - g, 255 - b) if self.mode == "inverse" else (r, g, b))
            out.append(line)
        return out

    def png(self) -> bytes:
        rows = [b"".join(bytes(px) for px in line) for line in self.pixels()]
        return encode_png(WIDTH, HEIGHT, rows, color=True, scale=int(self.scale))

    def lit_count(self) -> int:
        return sum(1 for line in self.pixels() for px in line if any(px))

    def describe(self) -> str:
        return f"{self.name} (SSD1331 96x64 RGB): display {'on' if self.on else 'off'}, {self.lit_count()} " \
               f"pixels lit"
