"""The one virtual clock of a machine.

Time is an integer number of picoseconds since power-on. Nothing in the emulator reads the wall clock: cores
advance time by the instructions they retire (one instruction = one cycle of the core's current clock) and
models schedule events on this clock. Events at the same instant fire in the order they were scheduled, so two
identical runs fire the same events in the same order.
"""
from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Callable

PS_PER_SECOND = 1_000_000_000_000


def ps_for_cycles(cycles: int, hz: int) -> int:
    """Duration of `cycles` ticks of a clock at `hz`, rounded up to a whole picosecond (never zero for cycles > 0)."""
    return -(-cycles * PS_PER_SECOND // hz)


def cycles_in(duration_ps: int, hz: int) -> int:
    """Whole ticks of a clock at `hz` that fit in `duration_ps` picoseconds."""
    return duration_ps * hz // PS_PER_SECOND


DURATION_UNITS = {"ps": 1, "ns": 1_000, "us": 1_000_000, "ms": 1_000_000_000, "s": PS_PER_SECOND,
                  "min": 60 * PS_PER_SECOND}


def split_duration(text: str) -> tuple[float, int]:
    """'250ms' -> (250.0, picoseconds per ms); a plain number is seconds. ValueError when the number is not one."""
    text = text.strip().lower()
    for suffix in sorted(DURATION_UNITS, key=len, reverse=True):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]), DURATION_UNITS[suffix]
    return float(text), PS_PER_SECOND


def parse_duration(text: str) -> int:
    """'10s', '250ms', '20us', '5ns', '1.5s' or plain seconds -> picoseconds."""
    text = text.strip().lower()
    try:
        value, scale = split_duration(text)
    except ValueError:
        raise ValueError(f"not a duration: {text!r} (use e.g. 10s, 250ms, 20us)") from None
    if value < 0:
        raise ValueError(f"negative duration: {text!r}")
    return int(round(value * scale))


def format_ps(ps: int) -> str:
    return f"{ps / PS_PER_SECOND:.9f}s"


@dataclass(order=True)
class Event:
    when: int
    seq: int
    callback: Callable[[], None] = field(compare=False)
    name: str = field(default="", compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


class VirtualClock:
    """A priority queue of events on one integer time line (picoseconds)."""

    def __init__(self) -> None:
        self.now = 0
        self._queue: list[Event] = []
        self._seq = 0

    def schedule_at(self, when: int, callback: Callable[[], None], name: str = "") -> Event:
        if when < self.now:
            when = self.now
        self._seq += 1
        event = Event(int(when), self._seq, callback, name)
        heapq.heappush(self._queue, event)
        return event

    def schedule(self, delay_ps: int, callback: Callable[[], None], name: str = "") -> Event:
        """Run `callback` `delay_ps` picoseconds from now (0 = at the next event boundary, still in order)."""
        return self.schedule_at(self.now + max(0, int(delay_ps)), callback, name)

    def next_event_time(self) -> int | None:
        while self._queue and self._queue[0].cancelled:
            heapq.heappop(self._queue)
        return self._queue[0].when if self._queue else None

    def advance_to(self, when: int) -> int:
        """Move time forward to `when`, firing every event due on the way. Returns how many fired."""
        fired = 0
        while True:
            nxt = self.next_event_time()
            if nxt is None or nxt > when:
                break
            event = heapq.heappop(self._queue)
            self.now = max(self.now, event.when)
            event.callback()
            fired += 1
        self.now = max(self.now, when)
        return fired

    def fire_due(self) -> int:
        """Fire events whose time has come (time does not move)."""
        return self.advance_to(self.now)

    def pending(self) -> list[Event]:
        return sorted(e for e in self._queue if not e.cancelled)
