"""Helpers for the GDB tests: a raw RSP client, an in-process machine served on loopback, `mt3620 run --gdb` as a
subprocess, and gdb-multiarch in batch mode. Ports are always picked by the server (port 0) and read back."""
from __future__ import annotations

import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

from mt3620.engine.simulation.clock import parse_duration
from mt3620.testing.lines import LineLog

GDB = shutil.which("gdb-multiarch")
FIRMWARE_DIR = Path(__file__).resolve().parents[2] / "firmware"
PROGRAMS = Path(__file__).resolve().parent / "programs"
SOCKET_TIMEOUT = 20.0
# The `mt3620` console script's entry point (python -m mt3620.cli would define a second UserError class in
# __main__, so errors raised by the engine would not be recognised as user errors).
MT3620 = [sys.executable, "-c", "import sys; from mt3620.cli import main; sys.exit(main())"]


# ---- raw RSP client ----------------------------------------------------------------------------------------------
class RspClient:
    """Speaks the protocol byte by byte, so tests can send malformed input and check every reply."""

    def __init__(self, port: int, ack: bool = True) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=SOCKET_TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.ack = True
        if not ack:
            assert self.command(b"QStartNoAckMode") == b"OK"
            self.ack = False

    def close(self) -> None:
        self.sock.close()

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        self.buf += chunk

    def raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send(self, data: bytes) -> None:
        self.raw(b"$" + data + b"#%02x" % (sum(data) & 0xFF))
        if self.ack:
            assert self.read_ack() == b"+"

    def read_ack(self) -> bytes:
        while not self.buf:
            self._fill()
        b = bytes(self.buf[:1])
        del self.buf[:1]
        return b

    def packet(self) -> bytes:
        while True:
            start = self.buf.find(b"$")
            if start >= 0:
                end = self.buf.find(b"#", start)
                if end >= 0 and len(self.buf) >= end + 3:
                    data = bytes(self.buf[start + 1:end])
                    check = int(self.buf[end + 1:end + 3], 16)
                    assert check == sum(data) & 0xFF, f"bad checksum on {data!r}"
                    del self.buf[:end + 3]
                    if self.ack:
                        self.raw(b"+")
                    return data
            self._fill()

    def command(self, data: bytes) -> bytes:
        self.send(data)
        return self.packet()

    def monitor(self, text: str) -> str:
        self.send(b"qRcmd," + text.encode().hex().encode())
        out = []
        while True:
            reply = self.packet()
            if reply.startswith(b"O") and reply != b"OK":
                out.append(bytes.fromhex(reply[1:].decode()).decode())
                continue
            assert reply == b"OK", reply
            return "".join(out)

    def closed_by_server(self, timeout: float = 5.0) -> bool:
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(1) == b""
        except (ConnectionResetError, BrokenPipeError):
            return True
        finally:
            self.sock.settimeout(SOCKET_TIMEOUT)

    def register(self, number: int) -> int:
        return int.from_bytes(bytes.fromhex(self.command(b"p%x" % number).decode()), "little")

    def read(self, address: int, length: int) -> bytes:
        return bytes.fromhex(self.command(b"m%x,%x" % (address, length)).decode())


def stop_fields(reply: bytes) -> dict[str, str]:
    """'T05watch:100f0c;0d:...;thread:1;' -> {'signal': '05', 'watch': '100f0c', ...}."""
    assert reply[:1] == b"T", reply
    out = {"signal": reply[1:3].decode()}
    for part in reply[3:].decode().split(";"):
        if part:
            key, _, value = part.partition(":")
            out[key] = value
    return out


# ---- in-process machine ------------------------------------------------------------------------------------------
class ServedMachine:
    """A Machine with a GdbServer on free ports, run in a background thread (the test is the debugger's side).
    The machine thread waits for a debugger on every port before it starts, then runs `duration`. Every window
    the machine runs is an event tests can wait on (`wait_windows`, `wait_for`) instead of sleeping."""

    def __init__(self, apps: dict[str, Path], duration: str = "20s", stop_on_fault: bool = False,
                 mask_step_irqs: bool = False, debug: list[str] | None = None) -> None:
        from mt3620.engine.gdb import GdbServer
        from mt3620.engine.machine import Machine
        self.machine = Machine(stop_on_fault=stop_on_fault)
        self.app = None
        for core, path in apps.items():
            if core == "a7":
                from mt3620.sphere_os.apps import SphereOs
                self.app = SphereOs.of(self.machine).launch(path)
            else:
                self.machine.load(core, path)
        self.windows = 0
        self._progress = threading.Condition()
        self.machine.between_windows.append(self._window_done)   # before the server's hook, which may hold
        self.messages: list[str] = []
        self.server = GdbServer(self.machine, {core: 0 for core in debug or apps}, mask_step_irqs=mask_step_irqs,
                                announce=self.messages.append)
        self.ports = self.server.ports
        self.duration = parse_duration(duration)
        self.result = None
        self._stop = False
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.server.wait_for_debuggers()
            self.result = self.machine.run(duration_ps=self.duration, until=lambda: self._stop)
        except BaseException as exc:  # surfaced by finish()
            self.error = exc
        finally:
            self.server.close()

    def _window_done(self, machine) -> None:
        with self._progress:
            self.windows += 1
            self._progress.notify_all()

    def _finished(self) -> bool:
        return not self.thread.is_alive()

    def wait_windows(self, count: int, timeout: float = SOCKET_TIMEOUT) -> None:
        """Wait until the machine has run `count` more windows (each up to 1 ms of virtual time)."""
        with self._progress:
            target = self.windows + count
            ran = self._progress.wait_for(lambda: self.windows >= target or self._finished(), timeout)
        assert ran and self.windows >= target, f"the machine ran {self.windows - target + count} of {count} windows"

    def wait_for(self, predicate, timeout: float = SOCKET_TIMEOUT) -> None:
        """Wait until `predicate()` holds, checked after every window the machine runs."""
        with self._progress:
            self._progress.wait_for(lambda: predicate() or self._finished(), timeout)
        assert predicate(), "condition not reached while the machine ran"

    def stop(self) -> None:
        """End the run from the test: the machine stops at its next window; a server waiting in select is woken
        by a connection to its port."""
        self._stop = True
        self.server._closed = True
        for port in self.ports.values():
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            except OSError:
                pass
        self.thread.join(10)

    def core(self, name: str = "io0"):
        return self.machine.cores[name]

    def finish(self, timeout: float = 60.0):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the machine did not finish"
        if self.error:
            raise self.error
        return self.result


# ---- mt3620 run subprocess ---------------------------------------------------------------------------------------
class Emulator:
    """`mt3620 run` with --gdb-port CORE=0 for each app; the ports are read from its stderr."""

    def __init__(self, apps: dict[str, Path], *extra: str, wait: bool = True, duration: str | None = None) -> None:
        args = [*MT3620, "run"]
        for core, path in apps.items():
            args += ["--hl" if core == "a7" else f"--rt{core[-1]}", str(path), "--gdb-port", f"{core}=0"]
        if wait:
            args.append("--gdb-wait")
        if duration:
            args += ["--for", duration]
        args += list(extra)
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.stdout = LineLog(self.proc.stdout, timeout=SOCKET_TIMEOUT)
        self.stderr = LineLog(self.proc.stderr, timeout=SOCKET_TIMEOUT)
        self.ports: dict[str, int] = {}
        try:
            for core in apps:
                line = self.stderr.wait(rf"gdb: {core} listening on 127\.0\.0\.1:\d+", timeout=30)
                self.ports[core] = int(re.search(r"127\.0\.0\.1:(\d+)", line).group(1))
        except AssertionError:
            self.kill()
            raise

    @property
    def stdout_lines(self) -> list[str]:
        return self.stdout.lines

    @property
    def stderr_lines(self) -> list[str]:
        return self.stderr.lines

    def wait(self, timeout: float = 60.0) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"mt3620 run did not exit; stderr: {self.stderr_lines[-10:]}") from None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def __enter__(self) -> "Emulator":
        return self

    def __exit__(self, *exc) -> None:
        self.kill()


# ---- gdb-multiarch -----------------------------------------------------------------------------------------------
def gdb_args(elf: Path, port: int, commands: list[str]) -> list[str]:
    args = [GDB, "-batch", "-nx", str(elf)]
    for c in ["set pagination off", "set confirm off", f"directory {FIRMWARE_DIR}",
              f"target remote 127.0.0.1:{port}", *commands]:
        args += ["-ex", c]
    return args


def run_gdb(elf: Path, port: int, commands: list[str], timeout: float = 60.0) -> str:
    proc = subprocess.run(gdb_args(elf, port, commands), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=timeout)
    return proc.stdout


class GdbProcess:
    """gdb-multiarch running in the background; its output lines are events tests can wait on."""

    def __init__(self, elf: Path, port: int, commands: list[str]) -> None:
        self.proc = subprocess.Popen(gdb_args(elf, port, commands), stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.output = LineLog(self.proc.stdout, timeout=SOCKET_TIMEOUT)

    def interrupt(self) -> None:
        """What Ctrl-C in GDB's terminal does: GDB sends the interrupt byte (0x03) to the target."""
        self.proc.send_signal(signal.SIGINT)

    def finish(self, timeout: float = 60.0) -> str:
        """Wait for GDB to exit; its whole output."""
        self.proc.wait(timeout)
        self.output.wait_closed(timeout)
        return "\n".join(self.output) + "\n"

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(10)


def start_gdb(elf: Path, port: int, commands: list[str]) -> GdbProcess:
    return GdbProcess(elf, port, commands)


def symbols(elf: Path) -> dict[str, int]:
    """Addresses of the ELF's symbols (functions without the Thumb bit)."""
    from elftools.elf.elffile import ELFFile
    with open(elf, "rb") as f:
        table = ELFFile(f).get_section_by_name(".symtab")
        out = {}
        for sym in table.iter_symbols():
            value = sym["st_value"]
            if sym["st_info"]["type"] == "STT_FUNC":
                value &= ~1
            out[sym.name] = value
        return out


# ---- A7 programs ---------------------------------------------------------------------------------------------------
def a7_program(name: str = "gdb_app", args: tuple[str, ...] = ()) -> tuple[Path, Path]:
    """tests/gdb/programs/<name>.c built for the A7 (PIE, musl, libapplibs) and packed as an application package
    whose CmdArgs are `args`: (elf, package)."""
    import json
    import tempfile
    import uuid

    import pytest

    from mt3620.firmware import toolchain
    from mt3620.imagepackage import SdkTestSigner, build_application
    from mt3620.testing.pytest_plugin import require_sysroot

    out = toolchain.DEFAULT_OUT / "tests"
    try:
        elf = toolchain.build_program(out / f"{name}.elf", [PROGRAMS / f"{name}.c"])
    except toolchain.ToolchainError as exc:
        pytest.skip(f"cannot build {name} for the A7: {exc}")
    require_sysroot(f"{name} on the A7")     # missing: a failure under CI=true, else a skip
    cid = str(uuid.uuid5(uuid.NAMESPACE_URL, f"mt3620-emulator/tests/gdb/{name}"))
    package = out / f"{name}-{'-'.join(args) or 'default'}.imagepackage"
    with tempfile.TemporaryDirectory(dir=out) as tmp:
        root = Path(tmp)
        (root / "bin").mkdir()
        shutil.copyfile(elf, root / "bin" / "app")
        (root / "app_manifest.json").write_text(json.dumps({
            "SchemaVersion": 1, "Name": name, "ComponentId": cid, "EntryPoint": "/bin/app", "CmdArgs": list(args),
            "Capabilities": {}, "ApplicationType": "Default"}))
        data = build_application(root, SdkTestSigner(), build_time=0)
    if not package.is_file() or package.read_bytes() != data:
        tmp_package = package.with_name(f".{package.name}.{uuid.uuid4().hex}")
        tmp_package.write_bytes(data)
        tmp_package.replace(package)
    return elf, package
