"""Where the virtual network meets the host: real TCP and UDP sockets to servers on the host's loopback.

This is the one place where the emulator cannot be deterministic by construction: a host server answers in wall
time. The bridge keeps that edge narrow and says what happened:
- Bytes from the guest go to the host socket at once (inside the syscall).
- Host sockets are polled on a virtual-clock event every POLL_PS (1 ms of virtual time) while any is open. At a
  poll, when every core is idle and a guest thread waits on a bridged socket, the bridge waits in wall time for
  host data, at most as long as the poll interval (virtual time then runs no faster than wall time); otherwise it
  only looks (zero wait). A local server that answers within a poll interval therefore always shows its answer at
  the same virtual time: in practice runs repeat exactly.
- Everything the host delivered (connection results, data, end of stream, resets, datagrams) is recorded with the
  virtual time and connection number at which the guest saw it (`Recording`, JSON lines). A recording replayed
  (`ReplayBridge`) gives the same deliveries at the same virtual times without any host socket: a run replays
  bit for bit.
Host connections are made with a short wall time-out (loopback answers at once or refuses at once).
"""
from __future__ import annotations

import base64
import errno as _errno
import json
import logging
import selectors
import socket
from pathlib import Path
from typing import Callable

from mt3620.engine.simulation.clock import PS_PER_SECOND

log = logging.getLogger("mt3620.net")

POLL_PS = PS_PER_SECOND // 1000
POLL_WALL_S = 0.001
CONNECT_WALL_TIMEOUT_S = 2.0
READ_CHUNK = 65536


class HostConnection:
    """One TCP connection to a host server. `deliver(kind, payload)` goes toward the guest: kind "data" (bytes),
    "eof", "reset" (an errno)."""

    def __init__(self, bridge: "HostBridge", number: int, sock: socket.socket | None,
                 deliver: Callable[[str, object], bool]) -> None:
        self.bridge, self.number, self.sock, self.deliver = bridge, number, sock, deliver
        self.outq = bytearray()          # guest bytes the host socket has not taken yet
        self.inq = bytearray()           # host bytes the guest socket had no room for
        self.eof_pending = False
        self.closed = False
        self.guest_waiting: Callable[[], bool] = lambda: False
        self.paused: Callable[[], bool] = lambda: False     # nothing reaches the guest (its link is down)

    # guest -> host
    def send(self, data: bytes) -> int:
        if self.closed:
            return 0
        if len(self.outq) > 1 << 20:
            return 0
        self.outq += data
        self._flush_out()
        return len(data)

    def _flush_out(self) -> None:
        if self.sock is None or not self.outq:
            return
        try:
            sent = self.sock.send(self.outq)
            del self.outq[:sent]
        except BlockingIOError:
            pass
        except OSError as exc:
            self.outq.clear()
            self._push("reset", exc.errno or _errno.ECONNRESET)

    def shutdown_write(self) -> None:
        if self.sock is not None and not self.closed:
            self._flush_out()
            try:
                self.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.sock is not None:
            self.bridge._forget(self)
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None

    # host -> guest
    def _push(self, kind: str, payload: object) -> None:
        self.bridge.recording.add(self.bridge.clock.now, self.number, kind, payload)
        self.deliver(kind, payload)

    def readable(self) -> None:
        if self.inq or self.eof_pending or self.paused():
            return                         # the guest cannot take more now: leave it in the host socket
        try:
            data = self.sock.recv(READ_CHUNK)
        except BlockingIOError:
            return
        except OSError as exc:
            self._push("reset", exc.errno or _errno.ECONNRESET)
            self.close()
            return
        if not data:
            self.eof_pending = True
        else:
            self.inq += data
        self.drain()

    def drain(self) -> None:
        """Give the guest what fits; EOF once the data is gone. Held while the guest's link is down."""
        if self.paused():
            return
        if self.inq:
            data = bytes(self.inq)
            self.bridge.recording.add(self.bridge.clock.now, self.number, "data", data)
            taken = self.deliver("data", data)
            self.bridge.recording.trim_last(taken)
            del self.inq[:taken]
        if self.eof_pending and not self.inq:
            self.eof_pending = False
            self._push("eof", None)
            self.close()


class Recording:
    """What the host delivered, by virtual time: JSON lines {"t": ps, "conn": n, "kind": ..., "data": base64}."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else None
        self.events: list[dict] = []

    def add(self, when: int, conn: int, kind: str, payload: object) -> None:
        event = {"t": when, "conn": conn, "kind": kind}
        if isinstance(payload, (bytes, bytearray)):
            event["data"] = base64.b64encode(bytes(payload)).decode()
        elif payload is not None:
            event["value"] = payload
        self.events.append(event)

    def trim_last(self, taken: int) -> None:
        """The guest took only `taken` bytes of the last data event; the rest is recorded when delivered."""
        if not self.events or self.events[-1]["kind"] != "data":
            return
        data = base64.b64decode(self.events[-1]["data"])[:taken]
        if data:
            self.events[-1]["data"] = base64.b64encode(data).decode()
        else:
            self.events.pop()

    def save(self, path: str | Path | None = None) -> Path:
        target = Path(path or self.path)
        target.write_text("".join(json.dumps(e, sort_keys=True) + "\n" for e in self.events))
        return target

    @classmethod
    def load(cls, path: str | Path) -> "Recording":
        rec = cls()
        for n, line in enumerate(Path(path).read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
                int(event["t"]), int(event["conn"]), str(event["kind"])
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}: line {n}: not a network recording event ({exc})") from None
            rec.events.append(event)
        return rec


class HostBridge:
    """Live host sockets, polled on the virtual clock (see the module docstring)."""

    live = True

    def __init__(self, clock, idle: Callable[[], bool], recording: Recording | None = None) -> None:
        self.clock = clock
        self.idle = idle
        self.recording = recording or Recording()
        self.selector = selectors.DefaultSelector()
        self.connections: dict[int, HostConnection] = {}
        self.udp: dict[int, "HostDatagram"] = {}
        self.numbers = 0
        self.event = None
        self.polls = 0
        self.wall_waits = 0

    def _number(self) -> int:
        self.numbers += 1
        return self.numbers

    def open_tcp(self, target: tuple[str, int], deliver) -> tuple[HostConnection | None, int]:
        """(connection, 0) or (None, errno). The result is recorded as connection event "connect"."""
        number = self._number()
        try:
            sock = socket.create_connection(target, timeout=CONNECT_WALL_TIMEOUT_S)
        except OSError as exc:
            code = exc.errno or (_errno.ETIMEDOUT if isinstance(exc, socket.timeout) else _errno.ECONNREFUSED)
            self.recording.add(self.clock.now, number, "connect", code)
            return None, code
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.recording.add(self.clock.now, number, "connect", 0)
        conn = HostConnection(self, number, sock, deliver)
        self.connections[number] = conn
        self.selector.register(sock, selectors.EVENT_READ, conn)
        self._arm()
        return conn, 0

    def open_udp(self, target: tuple[str, int], deliver) -> "HostDatagram":
        number = self._number()
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setblocking(False)
        sock.connect(target)
        dgram = HostDatagram(self, number, sock, deliver)
        self.udp[number] = dgram
        self.selector.register(sock, selectors.EVENT_READ, dgram)
        self._arm()
        return dgram

    def _forget(self, item) -> None:
        try:
            self.selector.unregister(item.sock)
        except (KeyError, ValueError):
            pass
        self.connections.pop(item.number, None)
        self.udp.pop(item.number, None)

    def _arm(self) -> None:
        if self.event is None and (self.connections or self.udp):
            self.event = self.clock.schedule(POLL_PS, self._poll, "net.host-poll")

    def _guest_waiting(self) -> bool:
        return any(c.guest_waiting() for c in list(self.connections.values()) + list(self.udp.values()))

    def _poll(self) -> None:
        self.event = None
        self.polls += 1
        for conn in list(self.connections.values()):
            conn._flush_out()
            if conn.inq or conn.eof_pending:
                conn.drain()
        wait = POLL_WALL_S if self.idle() and self._guest_waiting() else 0
        if wait:
            self.wall_waits += 1
        if self.connections or self.udp:
            for key, _ in self.selector.select(timeout=wait):
                key.data.readable()
        self._arm()

    def close(self) -> None:
        for item in list(self.connections.values()) + list(self.udp.values()):
            item.close()
        if self.event is not None:
            self.event.cancel()
            self.event = None


class HostDatagram:
    """A UDP flow to one host server (the guest socket's datagrams to that virtual address and port)."""

    def __init__(self, bridge, number: int, sock: socket.socket | None, deliver) -> None:
        self.bridge, self.number, self.sock, self.deliver = bridge, number, sock, deliver
        self.closed = False
        self.guest_waiting: Callable[[], bool] = lambda: False

    def send(self, data: bytes) -> None:
        if self.sock is None:
            return
        try:
            self.sock.send(data)
        except OSError:
            pass                          # UDP: a datagram the host refuses is lost (ICMP is not forwarded)

    def readable(self) -> None:
        try:
            data = self.sock.recv(READ_CHUNK)
        except OSError:
            return
        self.bridge.recording.add(self.bridge.clock.now, self.number, "datagram", data)
        self.deliver("datagram", data)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            if self.sock is not None:
                self.bridge._forget(self)
                self.sock.close()
                self.sock = None


class ReplayBridge(HostBridge):
    """Deliveries from a Recording at their recorded virtual times; no host socket is opened. Guest bytes are
    accepted and dropped."""

    live = False

    def __init__(self, clock, recording: Recording) -> None:
        super().__init__(clock, lambda: False, Recording())
        self.script: dict[int, list[dict]] = {}
        for event in recording.events:
            self.script.setdefault(int(event["conn"]), []).append(event)

    def _replay_events(self, number: int, item) -> None:
        for event in self.script.get(number, []):
            if event["kind"] in ("connect",):
                continue
            payload = base64.b64decode(event["data"]) if "data" in event else event.get("value")

            def fire(kind=event["kind"], payload=payload, item=item):
                self.recording.add(self.clock.now, item.number, kind, payload)
                if kind == "data":
                    item.inq += payload
                    item.drain_replay()
                else:
                    item.deliver(kind, payload)
            self.clock.schedule_at(int(event["t"]), fire, "net.replay")

    def open_tcp(self, target, deliver):
        number = self._number()
        events = self.script.get(number, [])
        result = next((e.get("value", 0) for e in events if e["kind"] == "connect"), _errno.ECONNREFUSED)
        self.recording.add(self.clock.now, number, "connect", result)
        if result:
            return None, result
        conn = _ReplayConnection(self, number, None, deliver)
        self._replay_events(number, conn)
        return conn, 0

    def open_udp(self, target, deliver):
        number = self._number()
        dgram = HostDatagram(self, number, None, deliver)
        self._replay_events(number, dgram)
        return dgram


class _ReplayConnection(HostConnection):
    def drain_replay(self) -> None:
        if self.inq:
            taken = self.deliver("data", bytes(self.inq))
            del self.inq[:taken]
            if self.inq:
                self.bridge.clock.schedule(POLL_PS, self.drain_replay, "net.replay")

    def send(self, data: bytes) -> int:
        return len(data)
