"""A board around the chip: which devices sit on which bus, read from a board description (Renode style).

    // one device per entry: name, type, the bus it is on, its address or chip select; settings indented below
    imu: Sensors.LSM6DS3 @ isu2.i2c 0x6A
        accel: (0, 0, 1.0)
    oled: Video.SSD1306 @ isu1.i2c 0x3C
        png_path: "oled.png"
    rgb: Video.SSD1331 @ isu1.spi csA
        dc: 0
        reset: 1
    card: Storage.SDCard @ isu1.spi csB
        image: "card.img"
    codec: Sound.MAX98090 @ isu2.i2c 0x10
        i2s: i2s0
        wav: "tone.wav"
    pot: Analog.Input @ adc 1
        voltage: "sine(1.25, 1, 2Hz)"
    pulses: GPIO.Waveform @ gpio 12
        signal: "square(0, 1, 10Hz)"
    wire: I2C.Join @ isu1.i2c
        with: isu2.i2c
    loop: SPI.Loopback @ isu1.spi always
    sub: ISU.SpiSubordinate @ isu1.spi csB
        isu: 2

Buses: `isuN.i2c` (the ISU's I2C pads; the address is the 7-bit or, with `ten_bit: true`, 10-bit address),
`isuN.spi` (chip select csA, csB, gpioN, or always), `i2sN` (a codec; it also needs its control bus), `adc`
(the channel), `gpio` (the pin). Values: numbers (0x.. hex), "strings", true/false, tuples (a, b, c); a bare
word is a string. Paths are relative to the board file. Device types: mt3620.peripherals.devices.registry.

A missing device behaves as on a board where nothing is fitted: an I2C address nobody answers is not acknowledged,
an SPI read with nothing selected returns 0xFF, an ADC channel with no input reads 0 V.

`Board(models, clock)` builds on a machine's models (entry name -> model); `load(path)` / `load_text(text)` add
a description's devices; `add(name, type, at, address, **settings)` adds one from Python; `device(name)` returns
it; `close()` lets every device write its files (PNG frame buffers, WAV audio).
"""
from __future__ import annotations

import ast
import logging
import re
from pathlib import Path
from typing import Any, Callable

from mt3620.engine.simulation.clock import VirtualClock
from mt3620.peripherals.buses.i2c import I2cTarget
from mt3620.peripherals.buses.spi import ChipSelect, SpiTarget
from mt3620.peripherals.devices.base import BoardDevice, DeviceError
from mt3620.peripherals.devices.registry import DEVICE_TYPES

log = logging.getLogger("mt3620.board")

BOARD_DIR = Path(__file__).resolve().parent
RDB_BOARD = BOARD_DIR / "rdb.board"
BUILTIN_TYPES = ("Analog.Input", "GPIO.Waveform", "I2C.Join", "ISU.SpiSubordinate")

_ENTRY = re.compile(r"^(?P<name>[A-Za-z_][\w-]*)\s*:\s*(?P<type>[A-Za-z_][\w.]*)\s*@\s*(?P<bus>[\w.]+)"
                    r"(?:\s+(?P<address>\S+))?\s*$")
_ATTR = re.compile(r"^(?P<key>[A-Za-z_]\w*)\s*:\s*(?P<value>.+?)\s*$")


class BoardError(ValueError):
    """A board description or request that cannot be built; the message names the file and line."""


def parse_value(text: str) -> Any:
    s = text.strip()
    low = s.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("null", "none"):
        return None
    try:
        return ast.literal_eval(s)
    except (ValueError, SyntaxError):
        return s


class BoardEntry:
    def __init__(self, name: str, type: str, bus: str, address: str | None, where: str) -> None:
        self.name, self.type, self.bus, self.address, self.where = name, type, bus, address, where
        self.settings: dict[str, Any] = {}


def parse_board(text: str, source: str = "<board>") -> list[BoardEntry]:
    entries: list[BoardEntry] = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("//", 1)[0].rstrip()
        if line.lstrip().startswith("#"):
            continue
        if not line.strip():
            continue
        where = f"{source}:{lineno}"
        if line[0] in " \t":
            if not entries:
                raise BoardError(f"{where}: a setting before any device")
            m = _ATTR.match(line.strip())
            if m is None:
                raise BoardError(f"{where}: expected 'setting: value', got {line.strip()!r}")
            entries[-1].settings[m["key"]] = parse_value(m["value"])
            continue
        m = _ENTRY.match(line.strip())
        if m is None:
            raise BoardError(f"{where}: expected 'name: Type @ bus [address]', got {line.strip()!r}")
        if any(e.name == m["name"] for e in entries):
            raise BoardError(f"{where}: a device named {m['name']!r} is already on this board")
        entries.append(BoardEntry(m["name"], m["type"], m["bus"], m["address"], where))
    return entries


class AnalogInput:
    """A voltage on an ADC channel (the board's side of `Analog.Input`)."""

    def __init__(self, name: str, adc: Any, channel: int) -> None:
        self.name, self.adc, self.channel = name, adc, channel

    @property
    def voltage(self) -> float:
        return self.adc.voltage(self.channel)

    @voltage.setter
    def voltage(self, value: Any) -> None:
        self.adc.set_input(self.channel, value)

    def close(self) -> None:
        pass

    def describe(self) -> str:
        return f"{self.name} (analog input on ADC channel {self.channel}): {self.voltage:.3f} V now"


class GpioWaveform:
    """A digital waveform driving a GPIO pad from outside (the board's side of `GPIO.Waveform`)."""

    def __init__(self, name: str, block: Any, pin: int) -> None:
        self.name, self.block, self.pin = name, block, pin

    @property
    def signal(self) -> Any:
        return self.block.signals[pin_index(self.block, self.pin)]

    @signal.setter
    def signal(self, value: Any) -> None:
        self.block.drive_waveform(self.pin, value)

    def close(self) -> None:
        pass

    def describe(self) -> str:
        return f"{self.name} (waveform on GPIO {self.pin}): {self.signal!r}"


def pin_index(block: Any, pin: int) -> int:
    return pin - block.first_pin


class Board:
    """Devices on the chip's buses (see the module docstring)."""

    def __init__(self, models: dict[str, Any], clock: VirtualClock) -> None:
        self.models = models
        self.clock = clock
        self.devices: dict[str, Any] = {}
        self.where: dict[str, str] = {}
        self._gpio_listeners: dict[int, list[Callable[[int, int | None], None]]] = {}
        self._listening: set[int] = set()

    # ---- loading ----------------------------------------------------------------------------------------------
    def load(self, path: str | Path) -> list[str]:
        path = Path(path)
        try:
            text = path.read_text()
        except OSError as exc:
            raise BoardError(f"{path}: cannot read the board description: {exc.strerror or exc}") from None
        return self.load_text(text, str(path), base_dir=path.parent)

    def load_text(self, text: str, source: str = "<board>", base_dir: Path | None = None) -> list[str]:
        names = []
        for entry in parse_board(text, source):
            settings = dict(entry.settings)
            for key in ("image", "png_path", "wav", "motion"):
                if isinstance(settings.get(key), str) and base_dir is not None and \
                        not Path(settings[key]).is_absolute():
                    settings[key] = str(base_dir / settings[key])
            if base_dir is not None:
                for key in ("voltage", "signal", "input"):
                    value = settings.get(key)
                    if isinstance(value, str) and value.lower().startswith("csv:") and \
                            not Path(value[4:].strip()).is_absolute():
                        settings[key] = "csv:" + str(base_dir / value[4:].strip())
            try:
                self.add(entry.name, entry.type, entry.bus, entry.address, **settings)
            except (BoardError, DeviceError, ValueError) as exc:
                raise BoardError(f"{entry.where}: {exc}") from None
            self.where[entry.name] = entry.where
            names.append(entry.name)
        return names

    # ---- building ---------------------------------------------------------------------------------------------
    def _model(self, entry: str, what: str) -> Any:
        model = self.models.get(entry)
        if model is None:
            raise BoardError(f"{what}: the chip has no {entry}")
        return model

    def _bus(self, bus: str) -> tuple[str, Any]:
        m = re.fullmatch(r"isu(\d)\.(i2c|spi)", bus)
        if m:
            kind = m[2]
            model = self._model(f"isu{m[1]}_{'i2c' if kind == 'i2c' else 'spim'}", bus)
            return kind, model
        if re.fullmatch(r"i2s\d", bus):
            return "i2s", self._model(bus, bus)
        if bus == "adc":
            return "adc", self._model("adc", bus)
        if bus == "gpio":
            return "gpio", None
        raise BoardError(f"unknown bus {bus!r} (use isuN.i2c, isuN.spi, i2sN, adc or gpio)")

    def _gpio_block(self, pin: int) -> Any:
        for model in self.models.values():
            if hasattr(model, "drive_waveform") and pin in getattr(model, "pins", ()):
                return model
        raise BoardError(f"GPIO {pin!r} is not on an IO-core GPIO block (0..23)")

    def add(self, name: str, type: str, at: str, address: Any = None, **settings: Any) -> Any:
        """Put a device of `type` on bus `at` ("isu2.i2c", "isu1.spi", "adc", "gpio", "i2s0") at `address` (an
        I2C address, a chip select, an ADC channel or a GPIO pin)."""
        if name in self.devices:
            raise BoardError(f"a device named {name!r} is already on the board")
        kind, model = self._bus(at)
        if isinstance(address, str):
            address = parse_value(address)
        if type == "Analog.Input":
            if kind != "adc":
                raise BoardError(f"{name}: an Analog.Input sits on the adc (channel), not {at}")
            if not isinstance(address, int):
                raise BoardError(f"{name}: give the ADC channel, e.g. '@ adc 1'")
            if not 0 <= address < 8:
                raise BoardError(f"{name}: ADC channel {address} does not exist (the ADC has channels 0..7)")
            dev: Any = AnalogInput(name, model, address)
            if "voltage" in settings:
                dev.voltage = settings.pop("voltage")
            self._no_more(name, type, settings)
        elif type == "GPIO.Waveform":
            if kind != "gpio" or not isinstance(address, int):
                raise BoardError(f"{name}: a GPIO.Waveform sits on a pin, e.g. '@ gpio 12'")
            dev = GpioWaveform(name, self._gpio_block(address), address)
            if "signal" in settings:
                dev.signal = settings.pop("signal")
            self._no_more(name, type, settings)
        elif type == "I2C.Join":
            other = settings.pop("with", None)
            self._no_more(name, type, settings)
            if kind != "i2c" or not isinstance(other, str):
                raise BoardError(f"{name}: I2C.Join joins two ISU I2C buses: '@ isu1.i2c' and 'with: isu2.i2c'")
            other_kind, other_model = self._bus(other)
            if other_kind != "i2c":
                raise BoardError(f"{name}: {other} is not an I2C bus")
            other_model.join(model)
            dev = _Join(name, at, other)
        elif type == "ISU.SpiSubordinate":
            isu = settings.pop("isu", None)
            self._no_more(name, type, settings)
            sub = self._model(f"isu{isu}_spis", f"{name}: isu {isu!r}")
            if kind != "spi":
                raise BoardError(f"{name}: an ISU SPI subordinate sits on an SPI bus (isuN.spi)")
            self._attach_spi(model, sub, address)
            dev = sub
        else:
            if type not in DEVICE_TYPES:
                known = ", ".join(sorted(list(DEVICE_TYPES) + list(BUILTIN_TYPES)))
                raise BoardError(f"{name}: unknown device type {type!r} (types: {known})")
            cls, buses = DEVICE_TYPES[type]
            codec_link = settings.pop("i2s", None)
            if kind not in buses:
                raise BoardError(f"{name}: a {type} sits on {' or '.join(buses)}, not on {at}")
            dev = cls(name=name, clock=self.clock, **settings)
            if kind == "i2c":
                if not isinstance(address, int):
                    raise BoardError(f"{name}: give its I2C address, e.g. '@ {at} 0x{dev.address:02X}'")
                model.bus.attach(dev, address)
            elif kind == "spi":
                self._attach_spi(model, dev, address)
            if codec_link is not None:
                _, i2s = self._bus(str(codec_link))
                i2s.attach(dev)
            if hasattr(dev, "pins"):
                for pin_name, pin in dev.pins().items():
                    self._watch_gpio(pin, lambda p, level, d=dev, n=pin_name: d.pin_changed(n, level))
        self.devices[name] = dev
        return dev

    @staticmethod
    def _no_more(name: str, type: str, settings: dict) -> None:
        if settings:
            raise BoardError(f"{name}: {type} has no setting {sorted(settings)[0]!r}")

    def _attach_spi(self, model: Any, dev: SpiTarget, address: Any) -> None:
        if address is None:
            cs = ChipSelect(always=True) if getattr(dev, "always_selected", False) else None
            if cs is None:
                raise BoardError(f"{getattr(dev, 'name', dev)}: give its chip select, e.g. '@ isu1.spi csA'")
        else:
            try:
                cs = ChipSelect.parse(address)
            except ValueError as exc:
                raise BoardError(f"{getattr(dev, 'name', dev)}: {exc}") from None
        model.bus.attach(dev, cs)
        if cs.gpio is not None:
            self._watch_gpio(cs.gpio, model.bus.gpio_changed)

    def _watch_gpio(self, pin: int, fn: Callable[[int, int | None], None]) -> None:
        block = self._gpio_block(pin)
        self._gpio_listeners.setdefault(pin, []).append(fn)
        if id(block) not in self._listening:
            self._listening.add(id(block))
            block.add_output_listener(self._gpio_output)
        fn(pin, block.output_level(pin))

    def _gpio_output(self, pin: int, level: int | None) -> None:
        for fn in self._gpio_listeners.get(pin, ()):
            fn(pin, level)

    # ---- access -------------------------------------------------------------------------------------------------
    def device(self, name: str) -> Any:
        if name not in self.devices:
            have = ", ".join(self.devices) or "none"
            raise BoardError(f"no device named {name!r} on the board (devices: {have})")
        return self.devices[name]

    def close(self) -> None:
        """The run ends: each device writes what it keeps in files."""
        for dev in self.devices.values():
            close = getattr(dev, "close", None)
            if callable(close):
                close()

    def describe(self) -> list[str]:
        return [getattr(d, "describe", lambda d=d: str(d))() for d in self.devices.values()]


def build_board(models: dict[str, Any], clock: VirtualClock, files: Any = None) -> Board:
    """The devices around the chip for a machine's (or the Renode bridge's) models: the RDB's own description (nothing
    fitted on the ISU, ADC or I2S pins), then each board description in `files` (a path or a list). BoardError
    names the file and line of a bad entry."""
    board = Board(models, clock)
    board.load(RDB_BOARD)
    for path in [] if files is None else list(files) if isinstance(files, (list, tuple)) else [files]:
        board.load(path)
    return board


class _Join:
    def __init__(self, name: str, a: str, b: str) -> None:
        self.name, self.a, self.b = name, a, b

    def close(self) -> None:
        pass

    def describe(self) -> str:
        return f"{self.name} ({self.a} wired to {self.b})"


__all__ = ["Board", "BoardError", "build_board", "parse_board", "RDB_BOARD", "BoardDevice", "I2cTarget"]
