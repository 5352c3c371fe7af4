"""Solomon Systech SSD1306: 128x64 monochrome OLED controller on I2C (address 0x3C, or 0x3D with SA0 high).

Facts from the public SSD1306 datasheet (rev 1.1): after the address, each control byte has Co (bit 7: 1 = one
byte follows, then another control byte; 0 = the rest of the message is of one kind) and D/C# (bit 6: 1 = display
data, 0 = commands). Graphic RAM: 8 pages of 128 columns, one byte = 8 pixels of a column, LSB at the top.
Commands: 0x81 contrast, 0xA4/0xA5 follow RAM / entire display on, 0xA6/0xA7 normal/inverse, 0xAE/0xAF display
off/on, 0x26/0x27 (6 bytes), 0x29/0x2A (5), 0xA3 (2) scrolling setup, 0x2E/0x2F scroll off/on; 0x00-0x0F and
0x10-0x1F column start (page mode), 0x20 memory mode (0 horizontal, 1 vertical, 2 page), 0x21 column range,
0x22 page range, 0xB0-0xB7 page start; 0x40-0x7F start line, 0xA0/0xA1 segment remap, 0xA8 multiplex, 0xC0/0xC8
COM scan direction, 0xD3 offset, 0xDA COM pins, 0xD5 clock, 0xD9 precharge, 0xDB VCOMH, 0x8D charge pump, 0xE3 NOP.

The picture (`png()`, `pixels()`): what the panel shows: dark when the display is off, all lit with 0xA5,
inverted with 0xA7; SEG0 at the left and COM0 at the top (the datasheet's orientation; 0xA1 and 0xC8 mirror it),
rows shifted by the start line and display offset. Scrolling is stored, not animated (emulator-defined). Saved as
a PNG on request (`save_png`) and when the machine stops (`png_path`).
"""
from __future__ import annotations

from typing import Any

from mt3620.peripherals.buses.i2c import I2cTarget

from .display import AddressWindow, DisplayPanel
from .base import BoardDevice
from .png import encode_png

WIDTH, HEIGHT, PAGES = 128, 64, 8
ARGS = {0x81: 1, 0x20: 1, 0x21: 2, 0x22: 2, 0x26: 6, 0x27: 6, 0x29: 5, 0x2A: 5, 0xA3: 2, 0xA8: 1, 0xD3: 1,
        0xDA: 1, 0xD5: 1, 0xD9: 1, 0xDB: 1, 0x8D: 1}


class Ssd1306(DisplayPanel, BoardDevice, I2cTarget):
    KIND = "SSD1306"
    SETTINGS = ("address", "png_path", "scale", "stretch_ps")

    def __init__(self, name: str | None = None, clock=None, **attributes: Any) -> None:
        self.address = 0x3C
        self.png_path: str | None = None
        self.scale = 4
        self.ram = bytearray(WIDTH * PAGES)
        self.on = False
        self.contrast = 0x7F
        self.entire_on = False
        self.inverse = False
        self.mode = 2                                   # page addressing after reset
        self.window = AddressWindow(WIDTH, PAGES)     # rows are pages (8 pixel rows each)
        self.start_line = 0
        self.offset = 0
        self.seg_remap = False
        self.com_reverse = False
        self.multiplex = 63
        self.scrolling = False
        self.charge_pump = False
        self.data_bytes = 0
        self._cmd: list[int] = []
        self._control: int | None = None
        self._stream: str | None = None
        super().__init__(name, clock, **attributes)

    # ---- I2C ---------------------------------------------------------------------------------------------------
    def i2c_start(self, read: bool) -> Any:
        self._control = None
        self._stream = None
        return True

    def i2c_write(self, byte: int) -> Any:
        if self._stream is None:
            # A control byte: Co (bit 7) and D/C# (bit 6).
            kind = "data" if byte & 0x40 else "cmd"
            if byte & 0x80:
                self._control = byte
                self._stream = kind + "1"              # one byte, then a control byte again
            else:
                self._stream = kind
            return True
        kind = self._stream.rstrip("1")
        if kind == "data":
            self.write_data(byte)
        else:
            self.command(byte)
        if self._stream.endswith("1"):
            self._stream = None
        return True

    def i2c_read(self) -> Any:
        # Status read (D/C# = 0): bit 6 = display off.
        return 0x40 if not self.on else 0x00

    def i2c_stop(self) -> None:
        self._stream = None

    # ---- commands and data ------------------------------------------------------------------------------------------
    def command(self, byte: int) -> None:
        self._cmd.append(byte & 0xFF)
        op = self._cmd[0]
        if len(self._cmd) <= ARGS.get(op, 0):
            return
        args, self._cmd = self._cmd[1:], []
        if op == 0x81:
            self.contrast = args[0]
        elif op in (0xA4, 0xA5):
            self.entire_on = op == 0xA5
        elif op in (0xA6, 0xA7):
            self.inverse = op == 0xA7
        elif op in (0xAE, 0xAF):
            self.on = op == 0xAF
        elif op == 0x2E:
            self.scrolling = False
        elif op == 0x2F:
            self.scrolling = True
        elif op < 0x10:
            self.window.col = (self.window.col & 0xF0) | op
        elif op < 0x20:
            self.window.col = (self.window.col & 0x0F) | (op & 0x0F) << 4
        elif op == 0x20:
            self.mode = args[0] & 3 if args[0] & 3 != 3 else self.mode
        elif op == 0x21:
            self.window.set_columns(args[0] & 0x7F, args[1] & 0x7F)
        elif op == 0x22:
            self.window.set_rows(args[0] & 7, args[1] & 7)
        elif 0xB0 <= op <= 0xB7:
            self.window.row = op & 7
        elif 0x40 <= op <= 0x7F:
            self.start_line = op & 0x3F
        elif op in (0xA0, 0xA1):
            self.seg_remap = op == 0xA1
        elif op in (0xC0, 0xC8):
            self.com_reverse = op == 0xC8
        elif op == 0xA8:
            self.multiplex = max(15, args[0] & 0x3F)
        elif op == 0xD3:
            self.offset = args[0] & 0x3F
        elif op == 0x8D:
            self.charge_pump = bool(args[0] & 0x04)

    def write_data(self, byte: int) -> None:
        self.data_bytes += 1
        window = self.window
        self.ram[window.row * WIDTH + (window.col & 0x7F)] = byte & 0xFF
        if self.mode == 2:                              # page mode: column wraps within the page
            window.col = (window.col + 1) & 0x7F
        else:                                           # horizontal (0): column first; vertical (1): page first
            window.advance(vertical=self.mode == 1)

    # ---- the picture ---------------------------------------------------------------------------------------------
    def ram_pixel(self, column: int, row: int) -> bool:
        return bool(self.ram[(row >> 3) * WIDTH + column] >> (row & 7) & 1)

    def pixels(self) -> list[list[bool]]:
        """What the panel shows: HEIGHT rows of WIDTH booleans (lit)."""
        out = []
        rows = self.multiplex + 1
        for y in range(HEIGHT):
            com = (HEIGHT - 1 - y) if self.com_reverse else y
            line = []
            for x in range(WIDTH):
                if not self.on or com >= rows:
                    line.append(False)
                    continue
                if self.entire_on:
                    line.append(True)
                    continue
                column = (WIDTH - 1 - x) if self.seg_remap else x
                row = (com + self.start_line + self.offset) % HEIGHT
                line.append(self.ram_pixel(column, row) != self.inverse)
            out.append(line)
        return out

    def png(self) -> bytes:
        """The panel as a PNG (white pixels on black, `scale` times the panel's resolution)."""
        rows = [bytes(255 if lit else 0 for lit in line) for line in self.pixels()]
        return encode_png(WIDTH, HEIGHT, rows, color=False, scale=int(self.scale))

    def lit_count(self) -> int:
        return sum(sum(line) for line in self.pixels())

    def describe(self) -> str:
        return f"{self.name} (SSD1306 128x64 at 0x{self.address:02x}): display {'on' if self.on else 'off'}, " \
               f"{self.lit_count()} pixels lit"
