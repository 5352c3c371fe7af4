"""The Renode bridge: serves the project's CPython peripheral models to Renode's MT3620.BridgedPeripheral shims.

Renode cannot run the models (they need CPython 3 and `cryptography`), so the blocks Renode does not serve natively
are MT3620.BridgedPeripheral shims (peripherals/renode/MT3620Bridge.cs) that forward every access to this server.
The server owns one model per bridged entry of the platform (platforms/mt3620.repl; the `model:` attribute names
it) on one VirtualClock. mt3620.resc starts it from inside Renode (`machine StartMT3620Bridge`), one per machine.

Transport: TCP on 127.0.0.1 only, one connection per Renode machine; every frame is a 4-byte big-endian length and
that many bytes of ASCII text (at most MAX_FRAME). The first frame must be `HELLO <token> <protocol>`; a wrong
token closes the connection. Requests (one reply each; `t` = the machine's virtual time in nanoseconds since the
last RESET, `cpu` = the requesting CPU entry or `-`):
    ATTACH <entry>                          -> OK <module:Class> <size>     (refused: ERR, an entry not served)
    RESET                                   -> rebuild every model at t = 0 (a new session, a machine reset)
    READ <entry> <offset> <width> <t> <cpu>
    WRITE <entry> <offset> <width> <value> <t> <cpu>
    IN <entry> <input> <0|1> <t>            -> a line into the block (a button on a GPIO pin)
    TICK <t>                                -> only advance time (the shim's scheduled wake-up)
    BYE
Replies: `ERR <message>`, or a first line `OK <value> <next>` (next = virtual time in ns of the models' next
event, `-` if none) followed by lines
    GPIO <entry> <output> <0|1>  an output of a bridged block changed level; Renode's wiring (the `->` lines of the
                                 files Renode loads) takes it from there. After RESET every such output is sent.
    RST <cpu> <entry>...         an output wired to a CPU's input 1 rose: reset that core and the Renode blocks
                                 private to it (the bridge has reset the models private to it)
    CLK <cpu> <nvic|-> <hz>      the core's clock block switched HCLK: new instruction rate and SysTick clock
    LOG <entry> <level> <hex>    a message a model logged while serving the request (info, warning, error)
    LIN <entry> <offset> <base> <start_ps> <num> <den> <down 0|1> <from_ps> <until_ps|->
                                 (after a 4-byte READ) until any other request, or until the models' next event
                                 (until_ps), a read of that register is (base +- (max(t, from) - start) * num // den)
                                 & 0xFFFFFFFF (t in ps; num/den reduced so that 64-bit arithmetic is exact): the
                                 shim answers it itself (a GPT counter polled in a
                                 busy-wait costs no round trip; the value is the model's, to the picosecond)
While serving a request the server may ask the same connection for guest memory (models that reach shared
buffers, like the Pluton mailbox): `MEMR <cpu> <address> <count>` answered by `DATA <hex>`, and
`MEMW <cpu> <address> <hex>` answered by `DONE`; `cpu` is the CPU whose view to use, or `-`.

Outputs: output n of an entry is output n of its model (IRQS order). A line from one bridged model to another
(a GPIO pin into the EINT blocks) is delivered here and not reported; a line into input 1 of a CPU entry becomes
RST; every other output is reported as GPIO. Models with pins (GPIO blocks: `add_output_listener`) also report the
level each pin drives as output PAD_OUTPUT_BASE + k (1 when the pin's driver is off), where board LEDs attach.

Virtual time: before each request the clock advances to the request's time (never backwards: two cores run in
parallel inside a Renode quantum), which fires due model events; the reply's `next` lets the shim schedule a TICK
at that time. Everything runs in one thread: models never see concurrency.
"""
from __future__ import annotations

import logging
import math
import os
import secrets
import selectors
import socket
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from mt3620.engine import repl
from mt3620.engine.machine.models import (BRIDGED_TYPE, DEFAULT_DEVICE_SEED, ModelError, bind_links, cpu_clock,
                                          instantiate, make_pluton, model_class)
from mt3620.engine.simulation.access import Access, BusError
from mt3620.engine.simulation.clock import PS_PER_SECOND, VirtualClock
from mt3620.engine.simulation.links import LinkError
from mt3620.engine.simulation.protocols import IrqInputs
from mt3620.engine.simulation.registers import ResetKind

log = logging.getLogger("mt3620.renode_bridge")

PROTOCOL = 3
MAX_FRAME = 1 << 20
RPC_TIMEOUT = 5.0             # seconds Renode has to answer a memory request
HANDSHAKE_TIMEOUT = 5.0       # seconds a new connection has to say HELLO
MAX_CLIENTS = 16              # Renode machines at once (one connection each)
CPU_RESET_INPUT = 1           # a CPU's input 1: its reset request (emulator-defined, platforms/mt3620-bridged.repl)
PAD_OUTPUT_BASE = 16          # output 16 + k of a block with pins: the level pin k drives
SHIM_OUTPUTS = 32             # GPIO outputs of an MT3620.BridgedPeripheral (MT3620Bridge.cs)
MAX_LOG_LINES = 32            # model log lines forwarded per request
DEFAULT_SEED = DEFAULT_DEVICE_SEED
IO_CORE_TYPES = {"CPU.CortexM"}
ANNOUNCE = "MT3620-BRIDGE"


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
def bridged_entries(platform: repl.Platform) -> list[repl.Entry]:
    """The entries Renode serves through the bridge (MT3620.BridgedPeripheral shims)."""
    return [e for e in platform.entries.values() if e.type == BRIDGED_TYPE]


def resolve_models(platform: repl.Platform) -> dict[str, type]:
    """entry -> model class for every bridged entry; BridgeError listing every entry whose model cannot be
    resolved (a missing or mistyped `model:` is a load error, not a silent block)."""
    found: dict[str, type] = {}
    problems: list[str] = []
    for entry in bridged_entries(platform):
        try:
            found[entry.name] = model_class(entry)
        except ModelError as exc:
            problems.append(str(exc))
    if problems:
        raise BridgeError("cannot serve the platform: " + "; ".join(problems))
    return found


class RemoteMemory:
    """Guest memory reached through the Renode connection that is being served (see MEMR/MEMW)."""

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
        try:
            data = bytes.fromhex(reply[4:].strip())
        except ValueError:
            raise BusError(address, size, False, "Renode answered malformed data") from None
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
    levels: dict[int, bool] = field(default_factory=dict)   # reported outputs -> last level sent


class _LogCapture(logging.Handler):
    """Collects what models log while a request is served, to forward it to Renode's log."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if len(self.records) < MAX_LOG_LINES and record.name != log.name:
            self.records.append(record)


class BridgeModels:
    """The models of every bridged entry, their lines, and the shared clock; RESET builds them again."""

    def __init__(self, platform: repl.Platform, device_seed: bytes = DEFAULT_SEED,
                 efuse_path: str | None = None, board: Any = None) -> None:
        self.platform = platform
        self.board = board
        self.board_devices = None
        self.device_seed = device_seed
        self.efuse_path = efuse_path
        self.classes = resolve_models(platform)
        self.rpc: Callable[[str], str] | None = None   # set while a request is being served
        self.cpu_names: dict[str, str] = {}
        io = 0
        for cpu in platform.cpus():
            if cpu.type in IO_CORE_TYPES:
                self.cpu_names[cpu.name] = f"io{io}"
                io += 1
            else:
                self.cpu_names[cpu.name] = "a7"
        self.resets = 0
        self.build()

    # -- building
    def build(self) -> None:
        """Every model fresh, at t = 0 on a new clock (a new Renode session or a machine reset)."""
        self.clock = VirtualClock()
        self.blocks: dict[str, BridgedBlock] = {}
        self.shared_objects: dict[str, Any] = {}
        self._pluton = None
        self._pending: list[str] = []
        self._clocks: dict[str, tuple[Any, str]] = {}   # CPU entry -> (its clock source, its NVIC or "-")
        for entry in bridged_entries(self.platform):
            self._build(entry)
        self._link()
        for block in self.blocks.values():
            self._wire(block)
        self._attach_board()

    def _attach_board(self) -> None:
        """The devices around the chip on the bridged buses, built again with the models (a reset closes the old
        ones first, so they write their files as at the end of a run)."""
        from mt3620.peripherals.board.board import BoardError, build_board
        if self.board_devices is not None:
            self.board_devices.close()
        try:
            self.board_devices = build_board({n: b.model for n, b in self.blocks.items()}, self.clock, self.board)
        except BoardError as exc:
            raise BridgeError(str(exc)) from None

    def reset(self) -> None:
        self.build()
        self.resets += 1
        for block in self.blocks.values():
            block.model.update_irq()
            for n in list(block.levels):
                self._pending.append(f"GPIO {block.entry.name} {n} {1 if block.levels[n] else 0}")
        for cpu, (source, nvic) in self._clocks.items():
            self._pending.append(f"CLK {cpu} {nvic} {int(source.hz)}")

    @property
    def pluton(self):
        if self._pluton is None:
            from mt3620.engine.machine.secure_boot import power_on
            self._pluton = make_pluton(self.device_seed, self.efuse_path)
            self.boot_result = power_on(self)      # the bridged device boots its signed chain too
        return self._pluton

    def _build(self, entry: repl.Entry) -> None:
        regs = [r for r in entry.registrations if r.address is not None]
        cls = self.classes[entry.name]
        cpus = sorted({self.cpu_names[r.cpu] for r in regs if r.cpu in self.cpu_names})
        cpu = cpus[0] if len(cpus) == 1 else None
        size = (self.platform.region_size(entry, regs[0]) if regs else None) or getattr(cls, "SIZE", None) or 0x1000
        mem_cpu = next((r.cpu for r in regs if r.cpu), None) or next(
            (n for n, c in self.cpu_names.items() if c == "a7"), None)
        try:
            model = instantiate(cls, entry.name, self.clock, entry.attributes,
                                base_address=regs[0].address if regs else None, cpu=cpu, size=size,
                                shared_objects=self.shared_objects, memory=lambda: RemoteMemory(self, mem_cpu),
                                pluton=lambda: self.pluton)
        except Exception as exc:  # noqa: BLE001 - a model that cannot be built is a configuration error
            raise BridgeError(f"{entry.name}: model {cls.__module__}:{cls.__name__} could not be built: "
                              f"{type(exc).__name__}: {exc}") from None
        spec = f"{cls.__module__}:{cls.__name__}"
        block = BridgedBlock(entry, model, spec, int(size), cpu)
        self.blocks[entry.name] = block
        if hasattr(model, "add_output_listener") and hasattr(model, "pins"):
            first = model.pins[0]
            for k, pin in enumerate(model.pins):
                level = model.output_level(pin)
                block.levels[PAD_OUTPUT_BASE + k] = level is None or bool(level)
            model.add_output_listener(lambda pin, level, b=block, first=first: self._report(
                b, PAD_OUTPUT_BASE + pin - first, level is None or bool(level)))

    def _model_for(self, name: str) -> Any:
        block = self.blocks.get(name)
        if block is None:
            raise LinkError(f"{name} is not a bridged block")
        return block.model

    def _link(self) -> None:
        """The platform's typed links between models (as the embedded machine makes them), and the CPUs' clock
        sources: a change of a core's HCLK goes to Renode as a CLK line. A link that cannot be made is a
        configuration error, as in the embedded engine."""
        for name, block in self.blocks.items():
            try:
                bind_links(block.model, block.entry, self._model_for)
            except LinkError as exc:
                raise BridgeError(f"{name}: {exc}") from None
        for cpu in self.platform.cpus():
            try:
                source = cpu_clock(cpu, self._model_for)
            except LinkError as exc:
                raise BridgeError(f"{cpu.name}: {exc}") from None
            if source is not None:
                nvic = getattr(cpu.attr("nvic"), "name", None) or "-"
                self._clocks[cpu.name] = (source, nvic)
                source.add_clock_listener(
                    lambda hz, c=cpu.name, n=nvic: self._pending.append(f"CLK {c} {n} {int(hz)}"))

    def _wire(self, block: BridgedBlock) -> None:
        model = block.model
        names = list(getattr(model, "IRQS", ()))
        outputs = getattr(model, "irq", [])
        internal: dict[int, int] = {}      # output -> connections delivered here
        external: set[int] = set()
        for conn in block.entry.irqs:
            src = conn.source if conn.source is not None else 0
            if isinstance(src, str):
                if src not in names:
                    raise BridgeError(f"{block.entry.name}: no output {src!r} (the model has {names})")
                src = names.index(src)
            if hasattr(model, "add_output_listener") and PAD_OUTPUT_BASE <= src < SHIM_OUTPUTS:
                continue                                  # a pin level, reported by the output listener
            if not 0 <= src < len(outputs):
                raise BridgeError(f"{block.entry.name}: no output {src} (the model has {len(outputs)})")
            peer = self.blocks.get(conn.target)
            target = self.platform.entries.get(conn.target)
            if peer is not None and isinstance(peer.model, IrqInputs):
                # Model to model (a GPIO pin into an EINT block): delivered here, not through Renode.
                outputs[src].connect(lambda level, m=peer.model, n=conn.target_input: m.irq_input(n, level))
                internal[src] = internal.get(src, 0) + 1
            elif target is not None and target.type and target.type.split(".")[0] == "CPU" \
                    and conn.target_input == CPU_RESET_INPUT:
                outputs[src].connect(lambda level, cpu=conn.target: level and self._core_reset(cpu))
                internal[src] = internal.get(src, 0) + 1
            else:
                external.add(src)
        for n, line in enumerate(outputs):
            if n in internal and n not in external:
                continue
            if n >= (PAD_OUTPUT_BASE if hasattr(model, "add_output_listener") else SHIM_OUTPUTS):
                raise BridgeError(f"{block.entry.name}: its model has more outputs than the shim numbers")
            block.levels[n] = bool(line.level)
            line.connect(lambda level, b=block, n=n: self._report(b, n, bool(level)))

    # -- signals
    def _core_reset(self, cpu_entry: str) -> None:
        """A reset request for one core (its watchdog): as the embedded engine does, the blocks private to that core
        receive a core reset (each model says what survives it, such as the watchdog's status); Renode resets the
        core and its own private blocks (its NVIC, its debug UART), named in the RST line."""
        core = self.cpu_names.get(cpu_entry)
        for block in self.blocks.values():
            if core is not None and block.cpu == core:
                block.model.reset(ResetKind.CORE)
        native = [e.name for e in self.platform.entries.values()
                  if e.type not in (BRIDGED_TYPE, None) and not e.type.startswith(("Memory.", "CPU."))
                  and e.registrations and all(r.cpu == cpu_entry for r in e.registrations)]
        self._pending.append(" ".join(["RST", cpu_entry, *native]))

    def _report(self, block: BridgedBlock, output: int, level: bool) -> None:
        if block.levels.get(output) == level:
            return
        block.levels[output] = level
        self._pending.append(f"GPIO {block.entry.name} {output} {1 if level else 0}")

    def input(self, block: BridgedBlock, number: int, level: bool) -> None:
        model = block.model
        if isinstance(model, IrqInputs):
            model.irq_input(number, level)
        elif hasattr(model, "drive_input") and hasattr(model, "pins"):
            if not 0 <= number < len(model.pins):
                raise BridgeError(f"{block.entry.name}: no pin {number} (it has {len(model.pins)})")
            model.drive_input(model.pins[number], int(level))
        else:
            raise BridgeError(f"{block.entry.name}: its model takes no input lines")

    # -- requests
    def _advance(self, t_ns: int) -> None:
        self.clock.advance_to(max(self.clock.now, t_ns * 1000))

    def _status(self, value: int = 0, logs: list[str] = ()) -> str:
        nxt = self.clock.next_event_time()
        nxt_ns = "-" if nxt is None else str(-(-nxt // 1000))
        lines = [f"OK {value} {nxt_ns}", *self._pending, *logs]
        self._pending = []
        return "\n".join(lines)

    def block(self, name: str) -> BridgedBlock:
        b = self.blocks.get(name)
        if b is None:
            raise BridgeError(f"no bridged block named {name!r} (the platform's MT3620.BridgedPeripheral entries "
                              f"are the ones served)")
        return b

    def access_for(self, block: BridgedBlock, cpu_entry: str) -> Access:
        who = self.cpu_names.get(cpu_entry) or block.cpu or "renode"
        return Access(who)

    def handle(self, request: str) -> str:
        capture = _LogCapture()
        root = logging.getLogger("mt3620")
        level, propagate = root.level, root.propagate
        root.addHandler(capture)
        root.setLevel(logging.INFO)
        root.propagate = False          # what models log goes to Renode's log (LOG lines), not twice
        try:
            value, entry = self._dispatch(request)
        finally:
            root.removeHandler(capture)
            root.setLevel(level)
            root.propagate = propagate
        logs = [f"LOG {entry} {_level_name(r.levelno)} {r.getMessage().encode('utf-8', 'replace').hex()}"
                for r in capture.records]
        return self._status(value, logs)

    def _dispatch(self, request: str) -> tuple[int, str]:
        parts = request.split()
        if not parts:
            raise BridgeError("empty request")
        cmd, args = parts[0], parts[1:]
        try:
            if cmd == "TICK" and len(args) == 1:
                self._advance(_num(args[0]))
                return 0, "-"
            if cmd == "RESET" and not args:
                self.reset()
                return 0, "-"
            if cmd == "READ" and len(args) == 5:
                b = self.block(args[0])
                offset, width, t = _num(args[1]), _width(args[2]), _num(args[3])
                self._check_offset(b, offset, width)
                self._advance(t)
                value = b.model.read(offset, width, self.access_for(b, args[4]))
                linear = getattr(b.model, "linear_read", None)
                hint = linear(offset) if linear is not None and width == 4 else None
                if hint is not None:
                    self._linear_hint(b, offset, *hint)
                return int(value) & ((1 << (8 * width)) - 1), b.entry.name
            if cmd == "WRITE" and len(args) == 6:
                b = self.block(args[0])
                offset, width, value, t = _num(args[1]), _width(args[2]), _num(args[3]), _num(args[4])
                self._check_offset(b, offset, width)
                if value >= 1 << (8 * width):
                    raise BridgeError(f"value 0x{value:x} does not fit in {width} byte(s)")
                self._advance(t)
                b.model.write(offset, width, value, self.access_for(b, args[5]))
                return 0, b.entry.name
            if cmd == "IN" and len(args) == 4:
                b = self.block(args[0])
                number, level, t = _num(args[1]), _num(args[2]), _num(args[3])
                if level not in (0, 1):
                    raise BridgeError(f"a line level is 0 or 1, not {level}")
                self._advance(t)
                self.input(b, number, bool(level))
                return 0, b.entry.name
        except BusError as exc:
            raise BridgeError(f"bus error: {exc}") from None
        raise BridgeError(f"bad request {request[:80]!r}")

    def _linear_hint(self, b: BridgedBlock, offset: int, base: int, start: int, num: int, den: int,
                     down: bool) -> None:
        """A LIN line: ticks(t) = (t - start) * num // (den * 10^12), sent as num / d reduced so that the shim's
        64-bit `(dt // d) * num + (dt % d) * num // d` is exact; not sent when it could not be."""
        d = den * PS_PER_SECOND
        g = math.gcd(num, d)
        num, d = num // g, d // g
        if (d - 1) * num >= 1 << 64 or num <= 0:
            return
        nxt = self.clock.next_event_time()
        self._pending.append(f"LIN {b.entry.name} {offset} {base} {start} {num} {d} {int(down)} {self.clock.now} "
                             f"{'-' if nxt is None else nxt}")

    def attach(self, name: str) -> str:
        b = self.block(name)
        return f"OK {b.spec} {b.size}"

    @staticmethod
    def _check_offset(b: BridgedBlock, offset: int, width: int) -> None:
        if offset < 0 or offset + width > b.size:
            raise BridgeError(f"{b.entry.name}: offset 0x{offset:x} (+{width}) outside its 0x{b.size:x} bytes")


def _level_name(levelno: int) -> str:
    if levelno >= logging.ERROR:
        return "error"
    return "warning" if levelno >= logging.WARNING else "info"


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


class BridgeServer:
    """Single-threaded loopback server for the shims of one Renode machine (a new connection starts a session:
    Renode sends RESET first)."""

    def __init__(self, models: BridgeModels, token: str | None = None, port: int = 0) -> None:
        self.models = models
        self.token = token or secrets.token_hex(16)
        self.sel = selectors.DefaultSelector()
        self.listener = socket.create_server(("127.0.0.1", port))
        self.listener.setblocking(False)
        self.port = self.listener.getsockname()[1]
        self.sel.register(self.listener, selectors.EVENT_READ, ("listen", None))
        self.clients: list[_Client] = []
        self.requests = 0
        self.closed = False
        self.lifeline: Any = None

    def watch_lifeline(self, fileobj: Any) -> None:
        """Stop serving when `fileobj` (the stdin pipe of the Renode that started us) reaches end of file."""
        self.lifeline = fileobj
        self.sel.register(fileobj, selectors.EVENT_READ, ("lifeline", None))

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}:{self.token}"

    # -- memory requests back to Renode
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
                raise ConnectionError("Renode closed the connection during a memory request")
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
                    self._reply(client, f"ERR protocol {parts[2]} not supported (this bridge speaks {PROTOCOL})")
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
        self.models.rpc = self._rpc_on(client)
        try:
            parts = frame.split()
            if len(parts) == 2 and parts[0] == "ATTACH":
                reply = self.models.attach(parts[1])
            else:
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
            kind, what = key.data
            if kind == "listen":
                conn, addr = key.fileobj.accept()
                conn.setblocking(False)
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if len(self.clients) >= MAX_CLIENTS:
                    log.warning("refusing %s: %d connections already", addr, MAX_CLIENTS)
                    conn.close()
                    continue
                client = _Client(conn, addr)
                self.clients.append(client)
                self.sel.register(conn, selectors.EVENT_READ, ("client", client))
            elif kind == "lifeline":
                if not os.read(key.fileobj.fileno(), 4096):
                    log.info("the process that started the bridge is gone: stopping")
                    self.closed = True
                    return
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
        if self.sel is None:
            return
        self.closed = True
        board = self.models.board_devices
        if board is not None:
            board.close()                        # board devices write their PNG / WAV / image files
        for client in list(self.clients):
            self._close_client(client)
        for obj in (self.listener, self.lifeline):
            if obj is None:
                continue
            try:
                self.sel.unregister(obj)
            except (KeyError, ValueError):
                pass
        self.listener.close()
        self.sel.close()
        self.sel = None


def build_server(platform_path: str | Path | None = None, token: str | None = None, port: int = 0,
                 device_seed: bytes = DEFAULT_SEED, board: Any = None) -> BridgeServer:
    """`board`: board description file(s) whose devices sit on the bridged buses (docs/peripherals.md)."""
    path = Path(platform_path) if platform_path else repl.default_platform_path()
    models = BridgeModels(repl.load_platform(path), device_seed=device_seed, board=board)
    return BridgeServer(models, token=token, port=port)
