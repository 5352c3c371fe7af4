"""The GDB server: one loopback port per core, polled between the machine's windows, all-stop across cores.

No threads: listening and session sockets are non-blocking and served from `machine.between_windows` (at most
1 ms of virtual time apart), from `wait_for_debuggers()` before the machine starts, and while the machine is
held. All-stop: while any attached debugger has its core stopped (a breakpoint, a watchpoint, a step, Ctrl-C,
a fault, or just after it attached), the hook does not return, so virtual time does not advance and no core runs.
A debugger that resumes while another one still holds its core stopped waits, seeing its core "running", until
every debugger has resumed. Single steps run inside the hook, with the rest of the machine frozen.

Each connection is an independent GDB session on one core: an IO core is one thread (id 1); the A7 is the Linux
process of its high-level app, with its threads, signals, auxiliary vector, exec file, shared libraries and files
(a7_target.py, hostio.py). A second connection to a port that already has a debugger is refused. A disconnect,
`D` or `k` removes the session's breakpoints and watchpoints and lets the machine run on: the emulation never ends
because a debugger left.
"""
from __future__ import annotations

import logging
import select
import socket
import time
from dataclasses import dataclass, field
from typing import Callable
from xml.sax.saxutils import quoteattr

from mt3620.engine.simulation.access import BusError
from mt3620.engine.simulation.clock import format_ps

from . import rsp
from .core_target import SIGTRAP, Action, CoreTarget, DebugTarget, StopReason
from .hostio import HostIoError
from .monitor import run_monitor

log = logging.getLogger("mt3620.gdb")

POLL_INTERVAL_S = 0.002       # while the machine runs, sockets are polled at most this often (wall time)
SEND_TIMEOUT_S = 10.0         # a debugger that stops reading for this long is disconnected
SUPPORTED = (f"PacketSize={rsp.MAX_PACKET:x};qXfer:features:read+;qXfer:threads:read+;"
             "QStartNoAckMode+;swbreak+;hwbreak+;vContSupported+")
MAX_READ = (rsp.MAX_PACKET - 8) // 2
MAX_FILE_READ = (rsp.MAX_PACKET - 32) // 2      # a vFile:pread reply is binary-escaped: at worst twice as long
MAX_CRC = 64 << 20           # qCRC over at most 64 MB (compare-sections asks for one section at a time)

E_MALFORMED, E_REGISTER, E_FAULT, E_INVALID, E_NOSPACE = b"E01", b"E02", b"E0e", b"E16", b"E1c"


class GdbServerError(OSError):
    """A port cannot be opened (in use, not allowed); the message says which and why."""


@dataclass
class Session:
    sock: socket.socket
    target: DebugTarget
    peer: str
    decoder: rsp.Decoder = field(default_factory=rsp.Decoder)
    no_ack: bool = False
    halted: bool = True              # what GDB believes: the target is stopped and it may send commands
    last_stop: StopReason = field(default_factory=lambda: StopReason(SIGTRAP, "attach"))
    last_packet: bytes = b""
    swbreak: bool = False
    hwbreak: bool = False
    multiprocess: bool = False       # thread ids as p<pid>.<tid> (negotiated in qSupported, the A7 only)
    closed: bool = False


class GdbServer:
    """Serve GDB for `cores` ({core name: port}; port 0 picks a free one) of `machine`."""

    def __init__(self, machine, ports: dict[str, int], *, host: str = "127.0.0.1", mask_step_irqs: bool = False,
                 announce: Callable[[str], None] | None = None) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise GdbServerError(f"the GDB server listens on loopback only, not {host}")
        self.machine = machine
        self.mask_step_irqs = mask_step_irqs
        self.announce = announce or (lambda text: log.info("%s", text))
        self.targets: dict[str, DebugTarget] = {}
        self.listeners: dict[str, socket.socket] = {}
        self.sessions: dict[str, Session] = {}
        self._last_poll = 0.0
        self._seen: set[str] = set()          # ports a debugger has attached to
        self._closed = False
        self._hook = self._between_windows
        try:
            for name, port in ports.items():
                target = self._make_target(name)
                self.targets[target.name] = target
                self.listeners[target.name] = self._listen(target.name, host, port)
        except Exception:
            self.close()
            raise
        machine.between_windows.append(self._hook)

    def _make_target(self, name: str) -> DebugTarget:
        if name == "a7":
            from .a7_target import A7Target
            try:
                core = self.machine.a7
            except Exception as exc:       # MachineError: the platform has no Cortex-A7
                raise GdbServerError(f"a7: {exc}") from None
            if core.system is None:
                raise GdbServerError("a7: no high-level app runs on the A7 (give --hl APP.imagepackage)")
            return A7Target(core)
        core = self.machine.core(name)
        return CoreTarget(core, on_reset=getattr(self.machine, "_reset_core", None))

    # ---- sockets ----------------------------------------------------------------------------------------------------
    def _listen(self, name: str, host: str, port: int) -> socket.socket:
        family = socket.AF_INET6 if host == "::1" else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            sock.close()
            raise GdbServerError(f"{name}: cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        sock.listen(2)
        sock.setblocking(False)
        return sock

    def port(self, name: str) -> int:
        return self.listeners[name].getsockname()[1]

    @property
    def ports(self) -> dict[str, int]:
        return {name: self.port(name) for name in self.listeners}

    def _accept(self, name: str) -> None:
        try:
            sock, addr = self.listeners[name].accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            log.warning("gdb: %s: accept failed: %s", name, exc)
            return
        peer = f"{addr[0]}:{addr[1]}"
        if name in self.sessions:
            self.announce(f"gdb: {name}: refused {peer}: a debugger is already attached to this core")
            sock.close()
            return
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(SEND_TIMEOUT_S)
        target = self.targets[name]
        session = Session(sock, target, peer)
        self.sessions[name] = session
        self._seen.add(name)
        target.attach()
        # Attaching stops the target (as on a hardware probe, or ptrace's attach): the machine holds until GDB
        # resumes.
        target.interrupt()
        session.last_stop = target.attach_stop()
        self.announce(f"gdb: {name}: debugger attached from {peer}; machine halted at "
                      f"{format_ps(self.machine.clock.now)}")

    def _drop(self, session: Session, why: str) -> None:
        if session.closed:
            return
        session.closed = True
        name = session.target.name
        try:
            session.sock.close()
        except OSError:
            pass
        if self.sessions.get(name) is session:
            del self.sessions[name]
        session.target.detach()
        self.announce(f"gdb: {name}: debugger {why}; the core runs on")

    def _send(self, session: Session, payload: bytes) -> None:
        if session.closed:
            return
        session.last_packet = payload
        try:
            session.sock.sendall(rsp.frame(payload))
        except OSError as exc:
            self._drop(session, f"disconnected ({exc.strerror or exc})")

    def _send_output(self, session: Session, text: str) -> None:
        """Console output (`O` packets) during a monitor command, in chunks that fit a packet."""
        data = text.encode("utf-8")
        step = (rsp.MAX_PACKET - 8) // 2
        for i in range(0, len(data), step):
            self._send(session, b"O" + data[i:i + step].hex().encode("ascii"))

    # ---- polling ----------------------------------------------------------------------------------------------------
    def _poll(self, timeout: float | None) -> None:
        socks: list[socket.socket] = [s for s in self.listeners.values()]
        socks += [s.sock for s in self.sessions.values()]
        if not socks:
            return
        try:
            readable, _, _ = select.select(socks, [], [], timeout)
        except (OSError, ValueError) as exc:   # a socket closed under us: drop the bad ones next round
            log.debug("gdb: select: %s", exc)
            readable = []
        for name, listener in list(self.listeners.items()):
            if listener in readable:
                self._accept(name)
        for session in list(self.sessions.values()):
            if session.sock in readable:
                self._receive(session)
        self._last_poll = time.monotonic()

    def _receive(self, session: Session) -> None:
        try:
            chunk = session.sock.recv(65536)
        except (BlockingIOError, InterruptedError, socket.timeout):
            return
        except OSError as exc:
            self._drop(session, f"disconnected ({exc.strerror or exc})")
            return
        if not chunk:
            self._drop(session, "disconnected")
            return
        for event in session.decoder.feed(chunk):
            if session.closed:
                return
            if event.kind == "packet":
                if not session.no_ack:
                    self._raw(session, b"+")
                self._dispatch(session, event.data)
            elif event.kind == "bad":
                if not session.no_ack:
                    self._raw(session, b"-")
                else:
                    log.warning("gdb: %s: dropped a malformed packet", session.target.name)
            elif event.kind == "nak" and session.last_packet:
                self._raw(session, rsp.frame(session.last_packet))
            elif event.kind == "interrupt":
                self._interrupt(session)

    def _raw(self, session: Session, data: bytes) -> None:
        try:
            session.sock.sendall(data)
        except OSError as exc:
            self._drop(session, f"disconnected ({exc.strerror or exc})")

    def holding(self) -> bool:
        """True while some attached debugger has its core stopped: the machine must not run."""
        return any(s.halted for s in self.sessions.values())

    def _between_windows(self, machine) -> None:
        if self._closed:
            return
        self._collect_stops()
        if self.holding() or time.monotonic() - self._last_poll >= POLL_INTERVAL_S:
            self._poll(0)
        self._collect_stops()
        while self.holding() and not self._closed:
            self._poll(None)
            self._collect_stops()
        for target in self.targets.values():
            target.release()

    def wait_for_debuggers(self, names: list[str] | None = None) -> None:
        """Before the machine starts: wait until a debugger has attached to each port in `names` (default: all)
        and every debugger still attached has resumed its core."""
        wanted = list(names or self.listeners)
        while not self._closed:
            if all(n in self._seen for n in wanted) and not self.holding():
                break
            self._poll(None)
            self._collect_stops()
        for target in self.targets.values():
            target.release()

    def _collect_stops(self) -> None:
        """Report stops produced while running (breakpoints, watchpoints, BKPT, faults, signals, a step that
        waited, the end of the process)."""
        for name, target in self.targets.items():
            session = self.sessions.get(name)
            if session is None:
                target.poll_stop()
                continue
            if session.halted:
                continue
            stop = target.poll_stop()
            if stop is not None:
                self._report_stop(session, stop)

    def _report_stop(self, session: Session, stop: StopReason) -> None:
        session.halted = True
        session.last_stop = stop
        if stop.reason == "fault" and stop.detail:
            self.announce(f"gdb: {session.target.name}: {stop.detail}")
        self._send(session, self._stop_reply(session, stop))
        if stop.reason in ("exited", "killed"):
            # The process is gone: GDB mourns it and disconnects (target remote); the machine runs on.
            self._drop(session, f"told that the app {stop.detail or 'ended'}")

    def _stop_reply(self, session: Session, stop: StopReason) -> bytes:
        target = session.target
        if stop.reason in ("exited", "killed"):
            reply = b"W%02x" % (stop.status & 0xFF) if stop.reason == "exited" else b"X%02x" % stop.signal
            return reply + (b";process:%x" % target.pid if session.multiprocess else b"")
        parts = [b"T%02x" % stop.signal]
        if stop.reason in ("watch", "rwatch", "awatch") and stop.address is not None:
            parts.append(b"%s:%x;" % (stop.reason.encode(), stop.address))
        elif stop.reason == "swbreak" and session.swbreak:
            parts.append(b"swbreak:;")
        elif stop.reason == "hwbreak" and session.hwbreak:
            parts.append(b"hwbreak:;")
        thread = stop.thread if target.thread_alive(stop.thread) else target.current_thread
        for regnum in (13, 14, 15):   # expedite sp, lr, pc: GDB needs them at every stop
            parts.append(b"%02x:%s;" % (regnum, rsp.hex_bytes(target.read_register(regnum, thread))))
        parts.append(b"thread:%s;" % self._format_thread(session, thread))
        # GDB takes the reporting thread as its current (and general) thread from here on.
        target.select_thread("g", thread)
        return b"".join(parts)

    def _format_thread(self, session: Session, tid: int) -> bytes:
        if session.multiprocess:
            return b"p%x.%x" % (session.target.pid, tid)
        return b"%x" % tid

    @staticmethod
    def _parse_thread(text: bytes) -> int | None:
        """A thread id (`tid`, `p<pid>.<tid>`, `p<pid>`, -1, 0); None means all or any thread."""
        if text.startswith(b"p"):
            pid, sep, tid = text[1:].partition(b".")
            if pid != b"-1":
                rsp.parse_hex(pid, "process id")
            if not sep:
                return None
            text = tid
        if text == b"-1":
            return None
        value = rsp.parse_hex(text, "thread id")
        return None if value == 0 else value

    def _interrupt(self, session: Session) -> None:
        if session.halted:
            return  # already stopped: GDB gets no second stop reply
        session.target.poll_stop()
        self._report_stop(session, session.target.interrupt())

    # ---- packets ----------------------------------------------------------------------------------------------------
    def _dispatch(self, session: Session, data: bytes) -> None:
        try:
            reply = self._handle(session, data)
        except rsp.ProtocolError as exc:
            log.info("gdb: %s: malformed packet %r: %s", session.target.name, data[:40], exc)
            reply = E_MALFORMED
        except BusError as exc:
            log.info("gdb: %s: %s", session.target.name, exc)
            reply = E_FAULT
        except Exception:  # a server bug must never kill the emulation
            log.exception("gdb: %s: error handling %r", session.target.name, data[:40])
            reply = E_INVALID
        if reply is not None and not session.closed:
            self._send(session, reply)

    def _handle(self, session: Session, data: bytes) -> bytes | None:
        if not data:
            return b""
        cmd = data[:1]
        body = data[1:]
        target = session.target
        if not session.halted and cmd not in (b"q", b"Q", b"D", b"k", b"v"):
            # All-stop: GDB only talks to a running target to interrupt it (handled as a raw byte).
            return E_INVALID
        if cmd == b"?":
            stop = session.last_stop
            if stop.reason not in ("exited", "killed") and not target.thread_alive(stop.thread):
                stop = target.attach_stop()
            reply = self._stop_reply(session, stop)
            if stop.reason in ("exited", "killed"):
                self._send(session, reply)
                self._drop(session, "told the app has ended")
                return None
            return reply
        if cmd == b"g":
            return rsp.hex_bytes(target.read_all_registers())
        if cmd == b"G":
            try:
                target.write_all_registers(rsp.unhex_bytes(body))
            except ValueError as exc:
                raise rsp.ProtocolError(str(exc)) from None
            return b"OK"
        if cmd == b"p":
            try:
                return rsp.hex_bytes(target.read_register(rsp.parse_hex(body, "register number")))
            except IndexError:
                return E_REGISTER
        if cmd == b"P":
            num, sep, value = body.partition(b"=")
            if not sep:
                raise rsp.ProtocolError("P needs n=value")
            try:
                target.write_register(rsp.parse_hex(num, "register number"), rsp.unhex_bytes(value))
            except IndexError:
                return E_REGISTER
            except ValueError as exc:
                raise rsp.ProtocolError(str(exc)) from None
            return b"OK"
        if cmd == b"m":
            address, length = self._address_length(body)
            if length == 0:
                return b""
            return rsp.hex_bytes(target.read_memory(address, min(length, MAX_READ)))
        if cmd in (b"M", b"X"):
            head, sep, payload = body.partition(b":")
            if not sep:
                raise rsp.ProtocolError(f"{cmd.decode()} needs addr,length:data")
            address, length = self._address_length(head)
            raw = rsp.unhex_bytes(payload) if cmd == b"M" else rsp.unescape(payload)
            if len(raw) != length:
                raise rsp.ProtocolError(f"length {length} but {len(raw)} bytes of data")
            if length:
                target.write_memory(address, raw)
            return b"OK"
        if cmd in (b"c", b"s", b"C", b"S"):
            address = None
            signal = None
            if cmd in (b"C", b"S"):
                _sig, _, rest = body.partition(b";")
                signal = rsp.parse_hex(_sig, "signal") or None
                body = rest
            if body:
                address = rsp.parse_hex(body, "address")
                if address > 0xFFFFFFFF:
                    raise rsp.ProtocolError("resume address outside 32 bits")
            step = cmd in (b"s", b"S")
            # c/C resume every thread; s/S step the thread Hc named (or the current one).
            thread = (target.continue_thread or target.current_thread) if step else None
            return self._resume(session, [Action("s" if step else "c", signal, thread)], address=address)
        if cmd in (b"Z", b"z"):
            return self._breakpoint(session, cmd == b"Z", body)
        if cmd == b"H":
            if body[:1] not in (b"g", b"c", b"m"):
                raise rsp.ProtocolError("H needs g, c or m")
            tid = self._parse_thread(body[1:])
            return b"OK" if target.select_thread("c" if body[:1] == b"c" else "g", tid) else b"E01"
        if cmd == b"T":
            tid = self._parse_thread(body)
            return b"OK" if tid is None or target.thread_alive(tid) else b"E01"
        if cmd == b"D":
            self._send(session, b"OK")
            self._drop(session, "detached")
            return None
        if cmd == b"k":
            self._kill(session)
            return None
        if cmd == b"q":
            return self._query(session, body)
        if cmd == b"Q":
            if body == b"StartNoAckMode":
                self._send(session, b"OK")
                session.no_ack = True
                return None
            if body.startswith(b"PassSignals:") and hasattr(target, "set_pass_signals"):
                numbers = [rsp.parse_hex(n, "signal") for n in body[12:].split(b";") if n]
                target.set_pass_signals(numbers)
                return b"OK"
            return b""
        if cmd == b"v":
            return self._v(session, body)
        return b""   # unsupported: the empty reply, as the protocol requires

    @staticmethod
    def _address_length(text: bytes) -> tuple[int, int]:
        address, sep, length = text.partition(b",")
        if not sep:
            raise rsp.ProtocolError("expected addr,length")
        a, n = rsp.parse_hex(address, "address"), rsp.parse_hex(length, "length")
        if a > 0xFFFFFFFF or n > 0x100000000 - a:
            raise rsp.ProtocolError("address range outside 32 bits")
        return a, n

    def _breakpoint(self, session: Session, insert: bool, body: bytes) -> bytes:
        fields = body.split(b";", 1)[0].split(b",")
        if len(fields) != 3:
            raise rsp.ProtocolError("expected type,addr,kind")
        kind = rsp.parse_hex(fields[0], "type")
        address = rsp.parse_hex(fields[1], "address")
        size = rsp.parse_hex(fields[2], "kind")
        target = session.target
        if address > 0xFFFFFFFF:
            raise rsp.ProtocolError("address outside 32 bits")
        if kind in (0, 1):
            if insert:
                try:
                    target.insert_breakpoint(address, hardware=kind == 1)
                except OverflowError:
                    return E_NOSPACE
            else:
                target.remove_breakpoint(address, hardware=kind == 1)
            return b"OK"
        if kind in (2, 3, 4):
            if insert:
                try:
                    target.insert_watchpoint(kind, address, size)
                except OverflowError:
                    return E_NOSPACE
                except ValueError:
                    return E_INVALID
            else:
                target.remove_watchpoint(kind, address, size)
            return b"OK"
        return b""

    def _resume(self, session: Session, actions: list[Action], address: int | None = None) -> bytes | None:
        target = session.target
        if address is not None:
            target.write_register(15, (address & ~1).to_bytes(4, "little"))
        stop = target.resume(actions, self.mask_step_irqs)
        if stop is not None:
            # A step that completed at once (or a resume that stopped at once): the reply is the stop.
            session.last_stop = stop
            reply = self._stop_reply(session, stop)
            if stop.reason in ("exited", "killed"):
                self._send(session, reply)
                self._drop(session, f"told that the app {stop.detail or 'ended'}")
                return None
            return reply
        session.halted = False
        return None

    def _kill(self, session: Session) -> None:
        """`k` / vKill: the A7's process is killed (SIGKILL, as gdbserver kills its inferior); an IO core's session
        just ends. Either way the emulation goes on."""
        if session.target.kill():
            self._drop(session, "killed the app (SIGKILL); the machine goes on")
        else:
            self._drop(session, "killed the session (the emulation goes on)")

    def _v(self, session: Session, body: bytes) -> bytes | None:
        if body == b"Cont?":
            return b"vCont;c;C;s;S;t"
        if body.startswith(b"Cont;"):
            return self._vcont(session, body[5:])
        if body == b"MustReplyEmpty":
            return b""
        if body.startswith(b"Kill"):
            self._send(session, b"OK")
            self._kill(session)
            return None
        if body.startswith(b"File:"):
            return self._host_io(session, body[5:])
        return b""

    def _vcont(self, session: Session, text: bytes) -> bytes | None:
        actions: list[Action] = []
        for item in text.split(b";"):
            verb, _, thread = item.partition(b":")
            if not verb:
                raise rsp.ProtocolError("empty vCont action")
            op = verb[:1]
            if op not in (b"c", b"C", b"s", b"S", b"t"):
                raise rsp.ProtocolError(f"unsupported vCont action {item!r}")
            signal = rsp.parse_hex(verb[1:], "signal") or None if op in (b"C", b"S") else None
            tid = self._parse_thread(thread) if thread else None
            if tid is not None and not session.target.thread_alive(tid):
                continue          # a thread that does not exist (any more): nothing to do for it
            actions.append(Action(op.lower().decode(), signal, tid))
        if not actions:
            return b"OK"   # nothing for our threads
        if actions[0].op == "t":
            if session.halted:
                return b"OK"
            self._interrupt(session)
            return None
        if not session.halted:
            return E_INVALID
        return self._resume(session, [a for a in actions if a.op != "t"])

    # ---- host I/O (vFile) ---------------------------------------------------------------------------------------
    def _host_io(self, session: Session, body: bytes) -> bytes:
        files = session.target.host_io()
        if files is None:
            return b""
        op, _, args = body.partition(b":")
        fields = args.split(b",")
        try:
            if op == b"setfs":
                return b"F0"
            if op == b"open":
                if len(fields) != 3:
                    raise rsp.ProtocolError("vFile:open needs path,flags,mode")
                path = rsp.unhex_bytes(fields[0]).decode("utf-8", "surrogateescape")
                fd = files.open(path, rsp.parse_hex(fields[1], "flags"), rsp.parse_hex(fields[2], "mode"))
                return b"F%x" % fd
            if op == b"close":
                files.close(rsp.parse_hex(args, "fd"))
                return b"F0"
            if op == b"pread":
                if len(fields) != 3:
                    raise rsp.ProtocolError("vFile:pread needs fd,count,offset")
                fd, count, offset = (rsp.parse_hex(f, "number") for f in fields)
                data = files.pread(fd, min(count, MAX_FILE_READ), offset)
                return b"F%x;" % len(data) + rsp.escape(data)
            if op == b"fstat":
                data = files.fstat(rsp.parse_hex(args, "fd"))
                return b"F%x;" % len(data) + rsp.escape(data)
            if op == b"readlink":
                target = files.readlink(rsp.unhex_bytes(args).decode("utf-8", "surrogateescape")).encode()
                return b"F%x;" % len(target) + rsp.escape(target)
            if op in (b"pwrite", b"unlink"):
                raise HostIoError(13)      # EACCES: the target's files are read-only for a debugger
        except HostIoError as exc:
            return b"F-1,%x" % exc.errno
        return b""

    # ---- queries ----------------------------------------------------------------------------------------------------
    def _query(self, session: Session, body: bytes) -> bytes | None:
        target = session.target
        name, _, args = body.partition(b":")
        if body.startswith(b"Supported"):
            features = args.split(b";") if args else []
            session.swbreak = b"swbreak+" in features
            session.hwbreak = b"hwbreak+" in features
            session.multiprocess = target.multiprocess and b"multiprocess+" in features
            reply = SUPPORTED
            if target.memory_map_xml() is not None:
                reply += ";qXfer:memory-map:read+"
            if target.qsupported:
                reply += ";" + target.qsupported
            if session.multiprocess:
                reply += ";multiprocess+"
            return reply.encode()
        if body.startswith(b"Xfer:"):
            return self._xfer(session, body[5:])
        if body == b"C":
            return b"QC%s" % self._format_thread(session, target.current_thread)
        if body == b"fThreadInfo":
            ids = target.thread_ids()
            if not ids:
                return b"l"
            return b"m" + b",".join(self._format_thread(session, tid) for tid in ids)
        if body == b"sThreadInfo":
            return b"l"
        if body.startswith(b"Attached"):
            return b"1"
        if body.startswith(b"ThreadExtraInfo,"):
            tid = self._parse_thread(body[16:])
            return rsp.hex_text(target.thread_extra(tid if tid is not None else target.current_thread))
        if body.startswith(b"Symbol:"):
            return b"OK"
        if body.startswith(b"Rcmd,"):
            command = rsp.unhex_bytes(body[5:]).decode("utf-8", "replace").strip()
            text = run_monitor(self, session, command)
            if text:
                self._send_output(session, text if text.endswith("\n") else text + "\n")
            return b"OK"
        if body.startswith(b"CRC:"):
            address, length = self._address_length(body[4:])
            if length > MAX_CRC:
                return E_INVALID
            crc = 0xFFFFFFFF
            while length:
                chunk = target.read_memory(address, min(length, 0x10000))
                crc = rsp.gdb_crc32(chunk, crc)
                address += len(chunk)
                length -= len(chunk)
            return b"C%x" % crc
        return b""

    def _xfer(self, session: Session, body: bytes) -> bytes:
        try:
            obj, op, annex, span = body.split(b":", 3)
        except ValueError:
            raise rsp.ProtocolError("qXfer needs object:read:annex:offset,length") from None
        if op != b"read":
            return b""
        target = session.target
        if obj == b"features":
            if annex != b"target.xml":
                return b"E00"
            document = target.target_xml()
        elif obj == b"memory-map" and target.memory_map_xml() is not None:
            document = target.memory_map_xml()
        elif obj == b"threads":
            lines = ['<?xml version="1.0"?>', "<threads>"]
            for tid in target.thread_ids():
                lines.append(f'  <thread id="{self._format_thread(session, tid).decode()}" '
                             f'core="{_core_index(target)}" name={quoteattr(target.thread_name(tid))}/>')
            document = "\n".join(lines + ["</threads>"]) + "\n"
        else:
            document = target.xfer(obj, annex)
            if document is None:
                return b""
        offset, length = self._address_length(span)
        raw = document.encode("utf-8") if isinstance(document, str) else document
        chunk = raw[offset:offset + min(length, MAX_READ)]
        more = offset + len(chunk) < len(raw)
        return (b"m" if more else b"l") + rsp.escape(chunk)

    # ---- end --------------------------------------------------------------------------------------------------------
    def close(self, exit_code: int | None = None) -> None:
        """Stop serving: running debuggers are told the program ended (W, or X with the signal of a fault)."""
        if self._closed:
            return
        self._closed = True
        for session in list(self.sessions.values()):
            if not session.halted:
                self._send(session, self._stop_reply(session, session.target.end_reply(exit_code or 0)))
            self._drop(session, "disconnected: the emulation ended")
        for listener in self.listeners.values():
            try:
                listener.close()
            except OSError:
                pass
        self.listeners.clear()
        if self._hook in self.machine.between_windows:
            self.machine.between_windows.remove(self._hook)
        for target in self.targets.values():
            target.release()
            target.close()


def _core_index(target: DebugTarget) -> int:
    digits = "".join(ch for ch in target.name if ch.isdigit())
    return int(digits) if digits else 0


def free_port() -> int:
    """A free loopback port (tests); binding port 0 in the server itself avoids the race where possible."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


__all__ = ["GdbServer", "GdbServerError", "Session", "free_port"]
