"""The Renode bridge: serves the project's CPython peripheral models to Renode's IronPython shims over loopback.

Renode runs each Python.PythonPeripheral shim (peripherals/renode/*.py27) inside its IronPython 2.7, which cannot
import the project's models (they need CPython 3 and `cryptography`). The shim forwards every access to this
server; the server owns the models (built from the same .repl files as the embedded engine) on one VirtualClock.

Transport: TCP on 127.0.0.1 only; every frame is a 4-byte big-endian length and that many bytes of ASCII text
(at most MAX_FRAME). The first frame of a connection must be `HELLO <token> <protocol>`; a wrong token closes it.
Requests (one reply each; `t` = Renode virtual time in nanoseconds, `cpu` = the requesting CPU entry or `-`):
    ATTACH <entry>                          -> OK <module:Class> <size>
    INIT <entry> <t>                        -> reset the model (Renode sends INIT on machine reset)
    READ <entry> <offset> <width> <t> <cpu>
    WRITE <entry> <offset> <width> <value> <t> <cpu>
    TICK <t>                                -> only advance time (the shim's scheduled wake-up)
    BYE
Replies: `ERR <message>`, or a first line `OK <value> <next>` (next = virtual time in ns of the models' next
event, `-` if none) followed by lines
    IRQ <target> <input> <0|1>   a receiver input changed level (OR of every output wired to it)
    RST <cpu>                    an output wired to a CPU's input 1 rose: reset that core
    CLK <cpu> <nvic|-> <hz>      the core's clock block switched HCLK: new instruction rate and SysTick clock
    LINE <entry> <hex>           a complete line a UART model transmitted (without its CR/LF)
While serving a request the server may ask the same connection for guest memory (models that reach shared
buffers, like the Pluton mailbox): `MEMR <cpu> <address> <count>` answered by `DATA <hex>`, and
`MEMW <cpu> <address> <hex>` answered by `DONE`; `cpu` is the CPU whose view to use, or `-`.

Virtual time: before each request the clock advances to the request's time (never backwards: Renode's time at a
sync point can lag a core inside its quantum), which fires due model events; the reply's `next` lets the shim
schedule a TICK at that time with Renode's machine.ScheduleAction, so timers and UART transmission progress
while the guest is not touching the block. Everything runs in one thread: models never see concurrency.
"""
from __future__ import annotations

import logging
import os
import secrets
import selectors
import socket
import struct
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from mt3620.engine.machine.models import (DEFAULT_DEVICE_SEED, bind_links, cpu_clock, import_model, instantiate,
                                          make_pluton)
from mt3620.engine.repl import parser as repl
from mt3620.engine.simulation.access import Access, BusError
from mt3620.engine.simulation.clock import VirtualClock
from mt3620.engine.simulation.links import LinkError
from mt3620.engine.simulation.protocols import IrqInputs, SerialLine, SerialOutput

log = logging.getLogger("mt3620.renode_bridge")

PROTOCOL = 1
MAX_FRAME = 1 << 20
MAX_LINE = 4096               # a UART line longer than this is cut (the rest until the newline is dropped)
RPC_TIMEOUT = 5.0             # seconds a shim has to answer a memory request
HANDSHAKE_TIMEOUT = 5.0       # seconds a new connection has to say HELLO
MAX_CLIENTS = 256             # shim connections at once (the MT3620 platform has under 100 bridged blocks)
CPU_RESET_INPUT = 1
DEFAULT_SEED = DEFAULT_DEVICE_SEED
IO_CORE_TYPES = {"CPU.CortexM"}


class BridgeError(Exception):
    """A protocol or configuration problem; the message is meant for the user."""


# ---- framing ------------------------------------------------------------------------------------------------
def encode_frame(text: str) -> bytes:
    data = text.encode("ascii")
    if len(data) > MAX_FRAME:
        raise BridgeError(f"frame of {len(data)} bytes exceeds {MAX_FRAME}")
    return struct.pack(">I", len(data)) + data


def recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed")
        buf += chunk
    return bytes(buf)


def recv_frame(sock: socket.socket) -> str:
    (length,) = struct.unpack(">I", recv_exact(sock, 4))
    if length > MAX_FRAME:
        raise BridgeError(f"frame of {length} bytes exceeds {MAX_FRAME}")
    data = recv_exact(sock, length)
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        raise BridgeError("frame is not ASCII text") from None


def send_frame(sock: socket.socket, text: str) -> None:
    sock.sendall(encode_frame(text))


# ---- connection file ----------------------------------------------------------------------------------------
def default_connection_file() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mt3620" / "renode-bridge"


def write_connection_file(path: Path, port: int, token: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(f"127.0.0.1 {port} {token}\n")
    os.chmod(path, 0o600)


def read_connection_file(path: Path) -> tuple[str, int, str]:
    parts = Path(path).read_text().split()
    if len(parts) != 3:
        raise BridgeError(f"{path}: expected 'host port token'")
    return parts[0], int(parts[1]), parts[2]


# ---- models -------------------------------------------------------------------------------------------------
class RemoteMemory:
    """Guest memory reached through the shim connection that is being served (see MEMR/MEMW)."""

    def __init__(self, bridge: "BridgeModels", cpu: str | None) -> None:
        self.bridge = bridge
        self.cpu = cpu

    def read(self, address: int, size: int) -> bytes:
        rpc = self.bridge.rpc
        if rpc is None:
            raise BusError(address, size, False, "no Renode connection to read guest memory through")
        reply = rpc(f"MEMR {self.cpu or '-'} {address} {size}")
        if not reply.startswith("DATA"):
            raise BusError(address, size, False, f"Renode answered {reply[:60]!r}")
        data = bytes.fromhex(reply[4:].strip())
        if len(data) != size:
            raise BusError(address, size, False, f"Renode returned {len(data)} bytes")
        return data

    def write(self, address: int, data: bytes) -> None:
        rpc = self.bridge.rpc
        if rpc is None:
            raise BusError(address, len(data), True, "no Renode connection to write guest memory through")
        reply = rpc(f"MEMW {self.cpu or '-'} {address} {bytes(data).hex()}")
        if reply.strip() != "DONE":
            raise BusError(address, len(data), True, f"Renode answered {reply[:60]!r}")


@dataclass
class BridgedBlock:
    entry: repl.Entry
    model: Any
    spec: str
    size: int
    cpu: str | None            # core name ("io0", "io1", "a7") for per-CPU blocks


@dataclass
class Status:
    value: int = 0
    lines: list[str] = field(default_factory=list)


class BridgeModels:
    """The models of every Python.PythonPeripheral entry, their IRQ wiring and the shared clock."""

    def __init__(self, platform: repl.Platform, device_seed: bytes = DEFAULT_SEED,
                 efuse_path: str | None = None) -> None:
        self.platform = platform
        self.clock = VirtualClock()
        self.device_seed = device_seed
        self.efuse_path = efuse_path
        self.blocks: dict[str, BridgedBlock] = {}
        self.unavailable: dict[str, str] = {}          # entry -> why its model could not be built
        self.shared_objects: dict[str, Any] = {}
        self.rpc: Callable[[str], str] | None = None   # set while a request is being served
        self._pluton = None
        self._levels: dict[tuple[str, int | str], bool] = {}        # receiver input -> combined level
        self._sources: dict[tuple[str, int | str], dict[tuple, bool]] = {}
        self._pending: list[str] = []
        self._out: dict[str, bytearray] = {}            # UART -> bytes of the line being sent
        self.lines: deque[tuple[str, str]] = deque(maxlen=10000)   # recent complete UART lines (logs, tests)
        self.uart_listeners: list[Callable[[str, bytes], None]] = []
        self.cpu_names: dict[str, str] = {}
        io = 0
        for cpu in platform.cpus():
            if cpu.type in IO_CORE_TYPES:
                self.cpu_names[cpu.name] = f"io{io}"
                io += 1
            else:
                self.cpu_names[cpu.name] = "a7"
        for entry in platform.entries.values():
            if entry.type == repl.PYTHON_PERIPHERAL:
                self._build(entry)
        self._link()
        for block in self.blocks.values():
            self._wire(block)

    # -- building
    @property
    def pluton(self):
        if self._pluton is None:
            from mt3620.engine.machine.secure_boot import power_on
            self._pluton = make_pluton(self.device_seed, self.efuse_path)
            self.boot_result = power_on(self)      # the bridged device boots its signed chain too
        return self._pluton

    def _build(self, entry: repl.Entry) -> None:
        regs = [r for r in entry.registrations if r.address is not None]
        try:
            spec = repl.model_for(entry)
            cls = import_model(spec)
        except (repl.ReplError, ImportError, AttributeError) as exc:
            self.unavailable[entry.name] = str(exc)
            log.warning("%s: not served: %s", entry.name, exc)
            return
        cpus = sorted({self.cpu_names[r.cpu] for r in regs if r.cpu in self.cpu_names})
        cpu = cpus[0] if len(cpus) == 1 else None
        size = entry.attr("size") if isinstance(entry.attr("size"), int) else (
            self.platform.region_size(entry, regs[0]) if regs else 0x1000)
        mem_cpu = next((r.cpu for r in regs if r.cpu), None) or next(
            (n for n, c in self.cpu_names.items() if c == "a7"), None)
        try:
            model = instantiate(cls, entry.name, self.clock, entry.attributes,
                                base_address=regs[0].address if regs else None, cpu=cpu, size=size,
                                shared_objects=self.shared_objects, memory=lambda: RemoteMemory(self, mem_cpu),
                                pluton=lambda: self.pluton)
        except Exception as exc:  # noqa: BLE001 - a model that cannot be built is reported, not fatal
            self.unavailable[entry.name] = f"{type(exc).__name__}: {exc}"
            log.warning("%s: model %s could not be built: %s", entry.name, spec, exc)
            return
        self.blocks[entry.name] = BridgedBlock(entry, model, spec, int(size or 0x1000), cpu)
        if isinstance(model, SerialOutput):
            model.add_tx_listener(lambda byte, name=entry.name: self._uart_byte(name, byte))

    def _model_for(self, name: str) -> Any:
        block = self.blocks.get(name)
        if block is None:
            raise LinkError(f"{name} is not a bridged block" + (f" ({self.unavailable[name]})"
                                                                 if name in self.unavailable else ""))
        return block.model

    def _link(self) -> None:
        """The platform's typed links between models (as the embedded machine makes them), and the CPUs' clock
        sources: a change of a core's HCLK goes to Renode as a CLK line."""
        for name, block in list(self.blocks.items()):
            try:
                bind_links(block.model, block.entry, self._model_for)
            except LinkError as exc:
                self.unavailable[name] = str(exc)
                log.warning("%s: not served: %s", name, exc)
                del self.blocks[name]
        for cpu in self.platform.cpus():
            try:
                source = cpu_clock(cpu, self._model_for)
            except LinkError as exc:
                log.warning("%s: clock not followed: %s", cpu.name, exc)
                continue
            if source is not None:
                nvic = cpu.attr("nvic")
                nvic_name = getattr(nvic, "name", None) or "-"
                source.add_clock_listener(
                    lambda hz, c=cpu.name, n=nvic_name: self._pending.append(f"CLK {c} {n} {int(hz)}"))

    def _wire(self, block: BridgedBlock) -> None:
        model = block.model
        names = list(getattr(model, "IRQS", ()))
        outputs = getattr(model, "irq", [])
        for conn in block.entry.irqs:
            src = conn.source if conn.source is not None else 0
            if isinstance(src, str):
                if src not in names:
                    log.warning("%s: no output %r (has %s)", block.entry.name, src, names)
                    continue
                src = names.index(src)
            if not 0 <= src < len(outputs):
                log.warning("%s: no output %s", block.entry.name, src)
                continue
            peer = self.blocks.get(conn.target)
            if peer is not None and isinstance(peer.model, IrqInputs):
                # Model to model (GPIO pin -> EINT block): delivered inside the bridge, not through Renode.
                outputs[src].connect(lambda level, m=peer.model, n=conn.target_input: m.irq_input(n, level))
                if outputs[src].level:
                    peer.model.irq_input(conn.target_input, True)
                continue
            key = (conn.target, conn.target_input)
            self._sources.setdefault(key, {})
            self._levels.setdefault(key, False)
            target = self.platform.entries.get(conn.target)
            is_cpu = bool(target and target.type and target.type.split(".")[0] == "CPU")
            skey = (block.entry.name, src)
            self._sources[key][skey] = outputs[src].level
            outputs[src].connect(lambda level, key=key, skey=skey, is_cpu=is_cpu: self._line(key, skey, level, is_cpu))

    # -- signals
    def _line(self, key: tuple, skey: tuple, level: bool, is_cpu: bool) -> None:
        self._sources[key][skey] = level
        combined = any(self._sources[key].values())
        if combined == self._levels[key]:
            return
        self._levels[key] = combined
        target, number = key
        if is_cpu and number == CPU_RESET_INPUT:
            if combined:
                self._pending.append(f"RST {target}")
            return
        self._pending.append(f"IRQ {target} {number} {1 if combined else 0}")

    def _uart_byte(self, name: str, byte: int) -> None:
        byte &= 0xFF
        partial = self._out.setdefault(name, bytearray())
        if byte == 0x0A:
            line = bytes(partial).rstrip(b"\r")
            self._pending.append(f"LINE {name} {line.hex()}")
            self.lines.append((name, line.decode("latin-1")))
            partial.clear()
        elif len(partial) < MAX_LINE:
            partial.append(byte)
        for fn in self.uart_listeners:
            fn(name, bytes([byte]))

    def levels(self) -> dict[tuple[str, int | str], bool]:
        return dict(self._levels)

    # -- requests
    def _advance(self, t_ns: int) -> None:
        self.clock.advance_to(max(self.clock.now, t_ns * 1000))

    def _status(self, value: int = 0) -> str:
        nxt = self.clock.next_event_time()
        nxt_ns = "-" if nxt is None else str(-(-nxt // 1000))
        lines = [f"OK {value} {nxt_ns}"] + self._pending
        self._pending = []
        return "\n".join(lines)

    def block(self, name: str) -> BridgedBlock:
        b = self.blocks.get(name)
        if b is None:
            why = self.unavailable.get(name)
            raise BridgeError(f"{name}: {why}" if why else f"no bridged block named {name!r}")
        return b

    def access_for(self, block: BridgedBlock, cpu_entry: str) -> Access:
        who = self.cpu_names.get(cpu_entry) or block.cpu or "renode"
        return Access(who)

    def handle(self, request: str) -> str:
        parts = request.split()
        if not parts:
            raise BridgeError("empty request")
        cmd, args = parts[0], parts[1:]
        try:
            if cmd == "ATTACH" and len(args) == 1:
                b = self.block(args[0])
                return f"OK {b.spec} {b.size}"
            if cmd == "TICK" and len(args) == 1:
                self._advance(_num(args[0]))
                return self._status()
            if cmd == "INIT" and len(args) == 2:
                b = self.block(args[0])
                self._advance(_num(args[1]))
                b.model.reset()
                b.model.update_irq()
                return self._status()
            if cmd == "READ" and len(args) == 5:
                b = self.block(args[0])
                offset, width, t = _num(args[1]), _width(args[2]), _num(args[3])
                self._check_offset(b, offset, width)
                self._advance(t)
                value = b.model.read(offset, width, self.access_for(b, args[4]))
                return self._status(int(value) & ((1 << (8 * width)) - 1))
            if cmd == "WRITE" and len(args) == 6:
                b = self.block(args[0])
                offset, width, value, t = _num(args[1]), _width(args[2]), _num(args[3]), _num(args[4])
                self._check_offset(b, offset, width)
                if value >= 1 << (8 * width):
                    raise BridgeError(f"value 0x{value:x} does not fit in {width} byte(s)")
                self._advance(t)
                b.model.write(offset, width, value, self.access_for(b, args[5]))
                return self._status()
        except BusError as exc:
            return f"ERR bus error: {exc}"
        raise BridgeError(f"bad request {request[:80]!r}")

    @staticmethod
    def _check_offset(b: BridgedBlock, offset: int, width: int) -> None:
        if offset < 0 or offset + width > b.size:
            raise BridgeError(f"{b.entry.name}: offset 0x{offset:x} (+{width}) outside its 0x{b.size:x} bytes")


def _num(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise BridgeError(f"not a number: {text[:40]!r}") from None
    if value < 0:
        raise BridgeError(f"negative number: {text[:40]!r}")
    return value


def _width(text: str) -> int:
    w = _num(text)
    if w not in (1, 2, 4, 8):
        raise BridgeError(f"access width must be 1, 2, 4 or 8, not {w}")
    return w


# ---- server -------------------------------------------------------------------------------------------------
@dataclass
class _Client:
    sock: socket.socket
    addr: Any
    buf: bytearray = field(default_factory=bytearray)
    authed: bool = False
    opened: float = field(default_factory=time.monotonic)   # handshake deadline only (not model time)
    kind: str = "shim"                                     # "shim" or "uart:<entry>"


class BridgeServer:
    """Single-threaded loopback server: shim connections plus optional raw TCP ports per UART."""

    def __init__(self, models: BridgeModels, token: str | None = None, port: int = 0,
                 uart_ports: dict[str, int] | None = None) -> None:
        self.models = models
        self.token = token or secrets.token_hex(16)
        self.sel = selectors.DefaultSelector()
        self.listener = socket.create_server(("127.0.0.1", port))
        self.listener.setblocking(False)
        self.port = self.listener.getsockname()[1]
        self.sel.register(self.listener, selectors.EVENT_READ, ("listen", "shim"))
        self.uart_listeners: dict[str, socket.socket] = {}
        self.uart_clients: dict[str, list[socket.socket]] = {}
        self.uart_input: dict[str, bytearray] = {}
        for name, uport in (uart_ports or {}).items():
            block = models.block(name)
            if not isinstance(block.model, SerialLine):
                raise BridgeError(f"{name} is not a UART")
            ls = socket.create_server(("127.0.0.1", uport))
            ls.setblocking(False)
            self.uart_listeners[name] = ls
            self.uart_clients[name] = []
            self.uart_input[name] = bytearray()
            self.sel.register(ls, selectors.EVENT_READ, ("listen", f"uart:{name}"))
        models.uart_listeners.append(self._uart_out)
        self.clients: list[_Client] = []
        self.requests = 0
        self.closed = False

    def uart_port(self, name: str) -> int:
        return self.uart_listeners[name].getsockname()[1]

    # -- UART side channels
    def _uart_out(self, name: str, data: bytes) -> None:
        for s in list(self.uart_clients.get(name, [])):
            try:
                s.sendall(data)
            except OSError:
                self._drop_uart(name, s)

    def _drop_uart(self, name: str, s: socket.socket) -> None:
        if s in self.uart_clients.get(name, []):
            self.uart_clients[name].remove(s)
        try:
            self.sel.unregister(s)
        except (KeyError, ValueError):
            pass
        s.close()

    def _feed_uarts(self) -> None:
        for name, data in self.uart_input.items():
            if data:
                self.models.block(name).model.feed(bytes(data))
                data.clear()

    # -- shim side
    def _rpc_on(self, client: _Client) -> Callable[[str], str]:
        def rpc(text: str) -> str:
            client.sock.setblocking(True)
            client.sock.settimeout(RPC_TIMEOUT)
            try:
                send_frame(client.sock, text)
                return self._next_frame(client)
            finally:
                client.sock.setblocking(False)
        return rpc

    def _next_frame(self, client: _Client) -> str:
        while True:
            frame = self._pop_frame(client)
            if frame is not None:
                return frame
            chunk = client.sock.recv(65536)
            if not chunk:
                raise ConnectionError("shim closed the connection during a memory request")
            client.buf += chunk

    @staticmethod
    def _pop_frame(client: _Client) -> str | None:
        if len(client.buf) < 4:
            return None
        (length,) = struct.unpack(">I", bytes(client.buf[:4]))
        if length > MAX_FRAME:
            raise BridgeError(f"frame of {length} bytes exceeds {MAX_FRAME}")
        if len(client.buf) < 4 + length:
            return None
        data = bytes(client.buf[4:4 + length])
        del client.buf[:4 + length]
        try:
            return data.decode("ascii")
        except UnicodeDecodeError:
            raise BridgeError("frame is not ASCII text") from None

    def _reply(self, client: _Client, text: str) -> None:
        client.sock.setblocking(True)
        client.sock.settimeout(RPC_TIMEOUT)
        try:
            send_frame(client.sock, text)
        finally:
            client.sock.setblocking(False)

    def _serve_frame(self, client: _Client, frame: str) -> bool:
        """Handle one frame; False closes the connection."""
        if not client.authed:
            parts = frame.split()
            if len(parts) == 3 and parts[0] == "HELLO" and secrets.compare_digest(parts[1], self.token):
                if parts[2] != str(PROTOCOL):
                    self._reply(client, f"ERR protocol {parts[2]} not supported (bridge speaks {PROTOCOL})")
                    return False
                client.authed = True
                self._reply(client, f"OK mt3620-bridge {PROTOCOL}")
                return True
            log.warning("connection from %s refused: bad handshake", client.addr)
            self._reply(client, "ERR bad token")
            return False
        if frame.strip() == "BYE":
            return False
        self.requests += 1
        self._feed_uarts()
        self.models.rpc = self._rpc_on(client)
        try:
            reply = self.models.handle(frame)
        except BridgeError as exc:
            reply = f"ERR {exc}"
        except (ConnectionError, socket.timeout, OSError) as exc:
            log.warning("connection lost while serving %r: %s", frame[:60], exc)
            return False
        except Exception as exc:  # noqa: BLE001 - a model bug must not stop the bridge
            log.exception("model error serving %r", frame[:60])
            reply = f"ERR model error: {type(exc).__name__}: {exc}"
        finally:
            self.models.rpc = None
        for line in reply.split("\n")[1:]:
            if line.startswith("LINE "):
                _, name, hexdata = line.split(" ", 2)
                log.info("%s: %s", name, bytes.fromhex(hexdata).decode("latin-1"))
        self._reply(client, reply)
        return True

    def _close_client(self, client: _Client) -> None:
        if client in self.clients:
            self.clients.remove(client)
        try:
            self.sel.unregister(client.sock)
        except (KeyError, ValueError):
            pass
        client.sock.close()

    def serve_once(self, timeout: float = 0.2) -> None:
        for key, _ in self.sel.select(timeout):
            kind, what = key.data if isinstance(key.data, tuple) else (None, None)
            if kind == "listen":
                conn, addr = key.fileobj.accept()
                conn.setblocking(False)
                if what == "shim":
                    if len(self.clients) >= MAX_CLIENTS:
                        log.warning("refusing %s: %d connections already", addr, MAX_CLIENTS)
                        conn.close()
                        continue
                    client = _Client(conn, addr)
                    self.clients.append(client)
                    self.sel.register(conn, selectors.EVENT_READ, ("client", client))
                else:
                    name = what.split(":", 1)[1]
                    self.uart_clients[name].append(conn)
                    self.sel.register(conn, selectors.EVENT_READ, ("uart", name))
            elif kind == "uart":
                s = key.fileobj
                try:
                    data = s.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    self._drop_uart(what, s)
                else:
                    self.uart_input[what] += data
            elif kind == "client":
                client = what
                try:
                    chunk = client.sock.recv(65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    self._close_client(client)
                    continue
                client.buf += chunk
                try:
                    while True:
                        frame = self._pop_frame(client)
                        if frame is None:
                            break
                        if not self._serve_frame(client, frame):
                            self._close_client(client)
                            break
                except (BridgeError, OSError) as exc:
                    log.warning("dropping %s: %s", client.addr, exc)
                    self._close_client(client)
        now = time.monotonic()
        for client in list(self.clients):
            if not client.authed and now - client.opened > HANDSHAKE_TIMEOUT:
                log.warning("dropping %s: no handshake", client.addr)
                self._close_client(client)

    def serve_forever(self, should_stop: Callable[[], bool] = lambda: False) -> None:
        while not self.closed and not should_stop():
            self.serve_once()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        board = getattr(self.models, "board_devices", None)
        if board is not None:
            board.close()                        # board devices write their PNG / WAV / image files
        for client in list(self.clients):
            self._close_client(client)
        for name, socks in self.uart_clients.items():
            for s in list(socks):
                self._drop_uart(name, s)
        for ls in [self.listener, *self.uart_listeners.values()]:
            try:
                self.sel.unregister(ls)
            except (KeyError, ValueError):
                pass
            ls.close()
        self.sel.close()


def build_server(platform_path: str | Path | None = None, token: str | None = None, port: int = 0,
                 uart_ports: dict[str, int] | None = None, device_seed: bytes = DEFAULT_SEED,
                 board: Any = None) -> BridgeServer:
    """`board`: board description file(s) whose devices sit on the bridged buses (docs/peripherals.md)."""
    path = Path(platform_path) if platform_path else repl.default_platform_path()
    models = BridgeModels(repl.load_platform(path), device_seed=device_seed)
    from mt3620.peripherals.board.board import BoardError, build_board
    try:
        models.board_devices = build_board({n: b.model for n, b in models.blocks.items()}, models.clock, board)
    except BoardError as exc:
        raise BridgeError(str(exc)) from None
    return BridgeServer(models, token=token, port=port, uart_ports=uart_ports)
