"""Signals over virtual time: what the board feeds into the chip's analog inputs (ADC channels), its GPIO pads
(waveforms that GPIOIF counters count) and sensors (recorded motion). Pure functions of virtual time in
picoseconds; nothing reads the wall clock.

    Constant(1.25)                         1.25 (volts, or a level)
    Sine(offset, amplitude, hz, phase)     offset + amplitude * sin(2 pi hz t + phase)
    Square(low, high, hz, duty=0.5)        high for the first `duty` of each period, then low
    Pwl([(t, v), ...], repeat=False)       piecewise linear between points (held after the last)
    Steps([(t, v), ...], repeat=False)     v from t until the next point (a digital waveform)
    Samples([v0, v1, ...], rate_hz)        one value per sample period (a recording), held after the end

`parse_signal(text)` reads the same from a board file or the command line: "1.25", "1.25V", "sine(1.25, 1, 50Hz)",
"square(0, 3.3, 1kHz, 0.25)", "pwl(0s:0, 1s:2.5)", "steps(0:1, 10ms:0, 20ms:1)", "csv:FILE" (lines "time,value";
times in seconds or with a unit). Digital signals (Steps, Square) also give `next_edge(t)`: the time of the next
change after t, so a GPIO pad can be driven edge by edge on the clock.
"""
from __future__ import annotations

import bisect
import math
import re
from pathlib import Path
from typing import Iterable, Sequence

from mt3620.engine.simulation.clock import PS_PER_SECOND, split_duration

PS = PS_PER_SECOND


class SignalError(ValueError):
    """A signal description that cannot be read; the message says what is wrong."""


def parse_time(text: str | float | int) -> int:
    """'10ms', '1.5s', '250' (seconds) -> picoseconds."""
    if isinstance(text, (int, float)):
        return int(round(float(text) * PS))
    try:
        value, scale = split_duration(str(text))
    except ValueError:
        raise SignalError(f"not a time: {text!r} (use e.g. 10ms, 1.5s)") from None
    if value < 0 or not math.isfinite(value):
        raise SignalError(f"not a time: {text!r}")
    return int(round(value * scale))


def parse_frequency(text: str | float) -> float:
    s = str(text).strip().lower()
    scale = 1.0
    for suffix, mult in (("mhz", 1e6), ("khz", 1e3), ("hz", 1.0)):
        if s.endswith(suffix):
            s, scale = s[: -len(suffix)], mult
            break
    try:
        hz = float(s) * scale
    except ValueError:
        raise SignalError(f"not a frequency: {text!r} (use e.g. 50Hz, 1kHz)") from None
    if not (hz > 0 and math.isfinite(hz)):
        raise SignalError(f"frequency must be positive: {text!r}")
    return hz


def parse_value(text: str | float) -> float:
    s = str(text).strip().lower()
    for suffix, mult in (("mv", 1e-3), ("v", 1.0), ("g", 1.0), ("dps", 1.0)):
        if s.endswith(suffix) and s[: -len(suffix)].strip():
            s = s[: -len(suffix)]
            try:
                return float(s) * mult
            except ValueError:
                break
    try:
        value = float(s)
    except ValueError:
        raise SignalError(f"not a value: {text!r}") from None
    if not math.isfinite(value):
        raise SignalError(f"not a finite value: {text!r}")
    return value


class Signal:
    """A value as a function of virtual time."""

    digital = False

    def value_at(self, t_ps: int) -> float:
        raise NotImplementedError

    def next_edge(self, t_ps: int) -> int | None:
        """The next time after `t_ps` at which the value changes (digital signals); None: never again."""
        return None


class Constant(Signal):
    digital = True

    def __init__(self, value: float) -> None:
        self.value = float(value)

    def value_at(self, t_ps: int) -> float:
        return self.value

    def __repr__(self) -> str:
        return f"Constant({self.value:g})"


class Sine(Signal):
    def __init__(self, offset: float, amplitude: float, hz: float, phase: float = 0.0) -> None:
        self.offset, self.amplitude, self.hz, self.phase = float(offset), float(amplitude), float(hz), float(phase)

    def value_at(self, t_ps: int) -> float:
        return self.offset + self.amplitude * math.sin(2 * math.pi * self.hz * t_ps / PS + self.phase)

    def __repr__(self) -> str:
        return f"Sine({self.offset:g}, {self.amplitude:g}, {self.hz:g}Hz)"


class Square(Signal):
    digital = True

    def __init__(self, low: float, high: float, hz: float, duty: float = 0.5) -> None:
        if not 0.0 < duty < 1.0:
            raise SignalError(f"square duty {duty!r} must be between 0 and 1")
        self.low, self.high, self.duty = float(low), float(high), float(duty)
        self.period_ps = max(2, int(round(PS / float(hz))))
        self.high_ps = max(1, min(self.period_ps - 1, int(round(self.period_ps * self.duty))))

    def value_at(self, t_ps: int) -> float:
        return self.high if t_ps % self.period_ps < self.high_ps else self.low

    def next_edge(self, t_ps: int) -> int | None:
        base = t_ps - t_ps % self.period_ps
        phase = t_ps - base
        return base + (self.high_ps if phase < self.high_ps else self.period_ps)

    def __repr__(self) -> str:
        return f"Square({self.low:g}, {self.high:g}, {PS / self.period_ps:g}Hz)"


class _Points(Signal):
    def __init__(self, points: Iterable[tuple[int | str, float]], repeat: bool = False) -> None:
        pts = sorted((parse_time(t) if not isinstance(t, int) else t, float(v)) for t, v in points)
        if not pts:
            raise SignalError("a waveform needs at least one point")
        self.times = [t for t, _ in pts]
        self.values = [v for _, v in pts]
        self.repeat = repeat
        self.period_ps = self.times[-1] if repeat else 0
        if repeat and self.period_ps <= 0:
            raise SignalError("a repeating waveform needs a last point after time 0")

    def _local(self, t_ps: int) -> int:
        if self.repeat:
            return t_ps % self.period_ps
        return t_ps


class Pwl(_Points):
    """Piecewise linear between points; the first value before the first point, the last after the last."""

    def value_at(self, t_ps: int) -> float:
        t = self._local(t_ps)
        i = bisect.bisect_right(self.times, t)
        if i == 0:
            return self.values[0]
        if i >= len(self.times):
            return self.values[-1]
        t0, t1 = self.times[i - 1], self.times[i]
        v0, v1 = self.values[i - 1], self.values[i]
        return v0 + (v1 - v0) * (t - t0) / (t1 - t0) if t1 > t0 else v1

    def __repr__(self) -> str:
        return f"Pwl({len(self.times)} points)"


class Steps(_Points):
    """Each value from its time until the next point's (a digital waveform: levels 0/1 on a pad)."""
    digital = True

    def value_at(self, t_ps: int) -> float:
        t = self._local(t_ps)
        i = bisect.bisect_right(self.times, t)
        return self.values[max(0, i - 1)]

    def next_edge(self, t_ps: int) -> int | None:
        t = self._local(t_ps)
        base = t_ps - t
        i = bisect.bisect_right(self.times, t)
        while i < len(self.times):
            if self.values[i] != self.value_at(t_ps):
                return base + self.times[i]
            i += 1
        if self.repeat:
            # Wrap: the first point of the next period (if it differs from the last value).
            nxt = base + self.period_ps
            return nxt if self.value_at(nxt) != self.value_at(t_ps) else self.next_edge(nxt)
        return None

    def __repr__(self) -> str:
        return f"Steps({len(self.times)} points{', repeating' if self.repeat else ''})"


class Samples(Signal):
    """A recording: one value per sample period from time 0; the last value holds after the end."""

    def __init__(self, values: Sequence[float], rate_hz: float, repeat: bool = False) -> None:
        if not values:
            raise SignalError("a recording needs at least one sample")
        self.values = [float(v) for v in values]
        self.rate_hz = float(rate_hz)
        self.repeat = repeat

    def value_at(self, t_ps: int) -> float:
        i = int(t_ps * self.rate_hz // PS)
        if self.repeat:
            i %= len(self.values)
        return self.values[min(i, len(self.values) - 1)]

    def __repr__(self) -> str:
        return f"Samples({len(self.values)} at {self.rate_hz:g}Hz)"


def read_table(path: str | Path, columns: int | None = None) -> list[tuple[int, list[float]]]:
    """Lines "time,value[,value...]" (a header line and # comments are skipped) -> [(t_ps, [values])]."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise SignalError(f"{path}: cannot read: {exc.strerror or exc}") from None
    rows: list[tuple[int, list[float]]] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        cells = [c.strip() for c in re.split(r"[,;\s]+", line) if c.strip()]
        try:
            t = parse_time(cells[0])
            values = [parse_value(c) for c in cells[1:]]
        except SignalError:
            if not rows and lineno == 1:
                continue                      # a header
            raise SignalError(f"{path}:{lineno}: not 'time,value': {line!r}") from None
        if columns is not None and len(values) != columns:
            raise SignalError(f"{path}:{lineno}: {len(values)} values, expected {columns}")
        rows.append((t, values))
    if not rows:
        raise SignalError(f"{path}: no samples")
    return rows


def _args(body: str) -> list[str]:
    return [a.strip() for a in body.split(",") if a.strip()]


def _points(args: list[str]) -> list[tuple[int, float]]:
    pts = []
    for a in args:
        if ":" not in a:
            raise SignalError(f"point {a!r}: use time:value, e.g. 10ms:1")
        t, v = a.split(":", 1)
        pts.append((parse_time(t), parse_value(v)))
    return pts


def parse_signal(text: str | float | int | Signal, base_dir: Path | None = None) -> Signal:
    """A signal from its description (see the module docstring)."""
    if isinstance(text, Signal):
        return text
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return Constant(float(text))
    s = str(text).strip()
    m = re.fullmatch(r"(\w+)\((.*)\)\s*(repeat)?", s, re.S)
    if s.lower().startswith("csv:"):
        path = Path(s[4:].strip())
        if base_dir is not None and not path.is_absolute():
            path = base_dir / path
        rows = read_table(path, 1)
        return Pwl([(t, v[0]) for t, v in rows])
    if m is None:
        return Constant(parse_value(s))
    kind, args, repeat = m.group(1).lower(), _args(m.group(2)), bool(m.group(3))
    try:
        if kind == "sine" and len(args) in (3, 4):
            return Sine(parse_value(args[0]), parse_value(args[1]), parse_frequency(args[2]),
                        math.radians(float(args[3])) if len(args) == 4 else 0.0)
        if kind == "square" and len(args) in (3, 4):
            return Square(parse_value(args[0]), parse_value(args[1]), parse_frequency(args[2]),
                          float(args[3]) if len(args) == 4 else 0.5)
        if kind == "pwl":
            return Pwl(_points(args), repeat)
        if kind == "steps":
            return Steps(_points(args), repeat)
        if kind == "constant" and len(args) == 1:
            return Constant(parse_value(args[0]))
    except (TypeError, ValueError) as exc:
        raise SignalError(f"{s!r}: {exc}") from None
    raise SignalError(f"signal {s!r}: use a number, sine(offset, amplitude, Hz), square(low, high, Hz[, duty]), "
                      f"pwl(t:v, ...), steps(t:v, ...) [repeat] or csv:FILE")
