"""Lines of a child process's stream, read by a background thread, that tests wait on as events (a line arrives,
or the stream ends) with a bounded time-out instead of sleeping."""
from __future__ import annotations

import re
import threading


class LineLog:
    def __init__(self, stream, timeout: float = 60.0) -> None:
        self.lines: list[str] = []
        self.timeout = timeout
        self._changed = threading.Condition()
        self._open = True
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream) -> None:
        for line in stream:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._open = False
            self._changed.notify_all()

    def wait(self, pattern: str, timeout: float | None = None, start: int = 0) -> str:
        """The first line from index `start` on matching `pattern`, waiting for it to arrive; fails when the stream
        ends or time is up, naming the last lines seen."""
        regex = re.compile(pattern)

        def found():
            return next((line for line in self.lines[start:] if regex.search(line)), None)
        with self._changed:
            self._changed.wait_for(lambda: found() is not None or not self._open, timeout or self.timeout)
            line = found()
        assert line is not None, f"no line matching {pattern!r}; last lines: {self.lines[-15:]}"
        return line

    def wait_closed(self, timeout: float | None = None) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: not self._open, timeout or self.timeout), "the stream did not end"

    def __iter__(self):
        return iter(list(self.lines))
