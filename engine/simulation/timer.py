"""Timers a model owns: events on the virtual clock that snapshot their due time and re-arm themselves on restore.

Declared in the class body next to the registers, with the method they call:

    class Uart(Peripheral):
        tx_timer = Timer("_tx_done")                    # self.tx_timer.start(frame_ps) ... self._tx_done()
        expiry = Timer("_expire", count=5)              # self.expiry[i].start_at(t) ... self._expire(i)
        replies = Timer("_deliver", multi=True)         # several pending at once, each with its arguments

The callback is checked when the class is defined. On each instance the attribute is a `ModelTimer` (or a tuple
of them): `start(delay_ps, *args)`, `start_at(when, *args)`, `cancel()`, `armed`, `when`. A reset of the model
cancels its timers; `snapshot()` records each pending firing (due time and arguments) and `restore()` schedules
it again, so a model never cancels and re-arms events by hand.
"""
from __future__ import annotations

import functools
import inspect
from typing import Any, Callable

from .registers import Declaration


class Timer(Declaration):
    """Class-body declaration of a model's timer (see the module docstring)."""

    def __init__(self, callback: str, *, count: int | None = None, multi: bool = False) -> None:
        if count is not None and count < 1:
            raise ValueError(f"Timer({callback!r}): count must be at least 1")
        self.callback, self.count, self.multi = callback, count, multi

    def check(self, cls: type) -> None:
        """The callback exists (with an index parameter for a timer array): a TypeError names what is wrong."""
        func = self._method(cls, self.callback, "timer callback")
        if self.count is not None:
            params = list(inspect.signature(func).parameters.values())[1:]
            if not params or params[0].kind not in (params[0].POSITIONAL_ONLY, params[0].POSITIONAL_OR_KEYWORD):
                raise TypeError(f"{cls.__name__}.{self.name}: {self.callback} must take the timer's index first")

    def bind(self, owner: Any) -> "ModelTimer | tuple[ModelTimer, ...]":
        fn = getattr(owner, self.callback)
        label = f"{owner.name}.{self.name}"
        if self.count is None:
            return ModelTimer(owner, label, fn, self.multi)
        return tuple(ModelTimer(owner, f"{label}{i}", functools.partial(fn, i), self.multi) for i in range(self.count))


class ModelTimer:
    """One timer of one model instance. Scheduling goes through the owner's `clock` at the time of the call."""
    __slots__ = ("owner", "label", "callback", "multi", "event", "due", "args", "pending")

    def __init__(self, owner: Any, label: str, callback: Callable[..., None], multi: bool) -> None:
        self.owner = owner
        self.label = label
        self.callback = callback
        self.multi = multi
        self.event = None                      # single timer: the pending event, its due time and arguments
        self.due: int | None = None
        self.args: tuple = ()
        self.pending: list[list] = []          # multi timer: [when, args, event], in scheduling order

    def start(self, delay_ps: int, *args: Any) -> None:
        """Fire `delay_ps` picoseconds from now (a single timer first forgets what it had pending)."""
        self.start_at(self.owner.clock.now + max(0, int(delay_ps)), *args)

    def start_at(self, when: int, *args: Any) -> None:
        clock = self.owner.clock
        when = max(int(when), clock.now)
        if self.multi:
            entry: list = [when, args, None]
            entry[2] = clock.schedule_at(when, functools.partial(self._fire_entry, entry), self.label)
            self.pending.append(entry)
            return
        if self.event is not None:
            self.event.cancel()
        self.due, self.args = when, args
        self.event = clock.schedule_at(when, self._fire, self.label)

    def cancel(self) -> None:
        if self.event is not None:
            self.event.cancel()
            self.event, self.due, self.args = None, None, ()
        for entry in self.pending:
            entry[2].cancel()
        self.pending.clear()

    @property
    def armed(self) -> bool:
        return self.event is not None or bool(self.pending)

    @property
    def when(self) -> int | None:
        """Due time of the first pending firing (None when idle)."""
        if self.multi:
            return self.pending[0][0] if self.pending else None
        return self.due

    def _fire(self) -> None:
        args = self.args
        self.event, self.due, self.args = None, None, ()
        self.callback(*args)

    def _fire_entry(self, entry: list) -> None:
        self.pending.remove(entry)
        self.callback(*entry[1])

    # ---- snapshots ------------------------------------------------------------------------------------------
    def state(self) -> list[tuple[int, tuple]]:
        if self.event is not None:
            return [(self.due, self.args)]
        return [(when, args) for when, args, _ in self.pending]

    def restore(self, state: list[tuple[int, tuple]]) -> None:
        self.cancel()
        for when, args in state:
            self.start_at(when, *args)
