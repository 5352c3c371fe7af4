"""What the display models (ssd1306.py, ssd1331.py) share.

`DisplayPanel`: the picture saved as a PNG on request (`save_png`) and when the machine stops (`png_path`).

`AddressWindow`: the RAM address window of Solomon Systech display controllers: a column range, a row range (SSD1306: pages of 8
pixel rows) and the cursor that each data write advances through the window, wrapping at its edges (SSD1306
datasheet rev 1.1, 10.1.3 "Set Memory Addressing Mode" horizontal and vertical modes; SSD1331 datasheet rev 1.2,
"Set Re-map & Data Format" A[0] horizontal or vertical address increment; commands 0x21/0x22 and 0x15/0x75 set the
ranges and move the cursor to their start)."""
from __future__ import annotations

from pathlib import Path

from .png import write_png


class DisplayPanel:
    """Mixed into a display model that has `name`, `png_path` and `png()` (the panel as a PNG)."""
    name: str
    png_path: str | None

    def png(self) -> bytes:
        raise NotImplementedError

    def save_png(self, path: str | Path | None = None) -> Path:
        return write_png(path or self.png_path or f"{self.name}.png", self.png())

    def close(self) -> None:
        if self.png_path:
            self.save_png(self.png_path)


class AddressWindow:
    def __init__(self, columns: int, rows: int) -> None:
        self.columns, self.rows = columns, rows
        self.reset()

    def reset(self) -> None:
        """The whole RAM, cursor at column 0, row 0 (both controllers after reset)."""
        self.col_range = [0, self.columns - 1]
        self.row_range = [0, self.rows - 1]
        self.col = 0
        self.row = 0

    def set_columns(self, first: int, last: int) -> None:
        self.col_range = [first, last]
        self.col = first

    def set_rows(self, first: int, last: int) -> None:
        self.row_range = [first, last]
        self.row = first

    def advance(self, vertical: bool = False) -> None:
        """After a data write: the next column (at the last, the first column of the next row), or with `vertical`
        the next row (at the last, the first row of the next column); past the window's end, its start."""
        c0, c1 = self.col_range
        r0, r1 = self.row_range
        if vertical:
            if self.row >= r1:
                self.row = r0
                self.col = c0 if self.col >= c1 else self.col + 1
            else:
                self.row += 1
        elif self.col >= c1:
            self.col = c0
            self.row = r0 if self.row >= r1 else self.row + 1
        else:
            self.col += 1
