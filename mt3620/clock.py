"""Calendar time for the security service and for the device side of its protocol (shared by both ends).

Everything that judges a date (certificate validity, nonce and error report lifetimes, update deadlines) takes a
`now()` callable returning an aware UTC datetime. In service the callable is `wall_clock`; tests and the hidden
`--clock START` option of `mt3620 cloud serve` and `mt3620 device run` use a `StartedClock`, which starts at a
chosen instant and then runs at the host's pace, so a whole service and its devices can be moved to another
day (docs/cloud.md, "Time").
"""
from __future__ import annotations

import datetime as _dt
import time
from typing import Callable

UTC = _dt.timezone.utc
Now = Callable[[], _dt.datetime]


def wall_clock() -> _dt.datetime:
    return _dt.datetime.now(UTC)


def parse_instant(text: str) -> _dt.datetime:
    """An ISO 8601 instant (`2031-07-30T23:59:00Z`, an offset, or a bare date meaning midnight UTC) as aware UTC."""
    value = str(text).strip()
    try:
        t = _dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"not an ISO 8601 instant: {value!r} (example: 2031-07-30T23:59:00Z)") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    try:
        return t.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"instant out of range: {value!r}") from None


class StartedClock:
    """Calendar time that starts at `start` (default: the wall clock's now) and runs at the host's pace
    (`time.monotonic`); `advance(days=..., hours=...)` moves it forward or back."""

    def __init__(self, start: _dt.datetime | None = None, monotonic: Callable[[], float] = time.monotonic) -> None:
        if start is not None and start.tzinfo is None:
            raise ValueError("the start instant must carry a time zone")
        self.start = (start or wall_clock()).astimezone(UTC)
        self._monotonic = monotonic
        self._origin = monotonic()
        self.offset = _dt.timedelta()

    def __call__(self) -> _dt.datetime:
        return self.start + _dt.timedelta(seconds=self._monotonic() - self._origin) + self.offset

    def advance(self, **delta) -> None:
        self.offset += _dt.timedelta(**delta)

    def __repr__(self) -> str:
        return f"StartedClock(start={self.start.isoformat()}, offset={self.offset})"



def clock_option(text: str | None) -> StartedClock | None:
    """The hidden test-only `--clock START` option of `mt3620 cloud serve` and `mt3620 device run`: a clock that
    starts at START (None when the option is absent). A bad instant is a one-line UserError."""
    if not text:
        return None
    from mt3620.errors import UserError
    try:
        return StartedClock(parse_instant(text))
    except ValueError as exc:
        raise UserError(f"--clock: {exc}") from None
