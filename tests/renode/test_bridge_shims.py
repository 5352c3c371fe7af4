"""The IronPython shims executed under CPython against fake Renode objects, in both request naming styles,
through a real bridge server on 127.0.0.1 serving the project's models."""
from __future__ import annotations

import os
import socket
import struct
import sys
import threading
from pathlib import Path

import pytest

from mt3620.engine.renode import bridge as rb
from mt3620.engine.repl.parser import default_platform_path, load_platform
from mt3620.peripherals.uart.mt3620_uart import Mt3620Uart

sys.path.insert(0, str(Path(__file__).parent))
from renode_fakes import FakeCpu, FakeMachine, FakeReceiver, ShimRunner  # noqa: E402

SHIMS = default_platform_path().parent.parent / "peripherals" / "renode"
TOKEN = "0123456789abcdef0123456789abcdef"
STYLES = ["lower", "pascal"]


def start(server: rb.BridgeServer):
    stop = threading.Event()
    thread = threading.Thread(target=server.serve_forever, args=(stop.is_set,), daemon=True)
    thread.start()

    def finish():
        stop.set()
        thread.join(5)
        server.close()
    return finish


@pytest.fixture(scope="module")
def platform():
    return load_platform(default_platform_path())


@pytest.fixture
def bridge(platform, monkeypatch):
    server = rb.BridgeServer(rb.BridgeModels(platform), token=TOKEN)
    finish = start(server)
    monkeypatch.setenv("MT3620_BRIDGE", f"127.0.0.1:{server.port}:{TOKEN}")
    yield server
    finish()


def machine_with(*names: str) -> tuple[FakeMachine, dict]:
    m = FakeMachine()
    objs = {}
    for n in names:
        objs[n] = FakeCpu(n) if n.startswith("cpu") else FakeReceiver(n)
        m.add(n, objs[n])
    return m, objs


@pytest.mark.parametrize("style", STYLES)
def test_uart_registers_irq_and_lines_cross_the_bridge(bridge, style):
    m, objs = machine_with("nvic0", "cpuM4_0")
    shim = ShimRunner(SHIMS / "mt3620_uart.py27", m, "io0_uart", 0x1000, style)
    shim.init()
    reference = Mt3620Uart(name="reference", base_address=0x21040000, cpu="io0")
    for offset in (0x14, 0x08, 0x0C, 0x24, 0x28):     # LSR, IIR, LCR, HIGHSPEED, SAMPLE_COUNT at reset
        assert shim.read(offset) == reference.read(offset)
    shim.write(0x04, 0x02)                              # IER.ETBEI: THR empty raises IRQ 4 of this core's NVIC
    assert objs["nvic0"].levels.get(4) is True
    for ch in b"hi there\r\n":
        shim.write(0x00, ch)
    assert objs["nvic0"].levels.get(4) is False         # FIFO holds bytes: THR no longer empty
    assert m.scheduled, "the shim must schedule a wake-up at the model's next event"
    fired = m.run_scheduled(m.now_ns + 5_000_000)       # 5 ms of virtual time, only through scheduled ticks
    assert fired >= 1
    assert ("info", "io0_uart: hi there") in shim.periph.logs
    assert objs["nvic0"].levels.get(4) is True          # drained: THR empty again
    assert ("io0_uart", "hi there") in bridge.models.lines


@pytest.mark.parametrize("style", STYLES)
def test_watchdog_reset_line_resets_the_core(bridge, style):
    m, objs = machine_with("nvic0", "cpuM4_0")
    shim = ShimRunner(SHIMS / "m4_watchdog.py27", m, "io0_wdt", 0x1000, style)
    shim.init()
    shim.write(0x34, (1 << 5) | 0x08)                   # LENGTH: one 32 Hz tick, key 0x08
    shim.write(0x30, 0x2200 | 0x1)                      # MODE: key, enabled, reset (not IRQ) mode
    assert objs["cpuM4_0"].resets == 0
    m.run_scheduled(m.now_ns + 100_000_000)             # 100 ms > 1/32 s
    assert objs["cpuM4_0"].resets == 1
    assert 3 not in objs["nvic0"].levels


@pytest.mark.parametrize("style", STYLES)
def test_pll_switch_changes_the_core_rate_and_systick_clock(bridge, style):
    m, objs = machine_with("nvic1", "cpuM4_1")
    shim = ShimRunner(SHIMS / "rgu.py27", m, "io1_rgu", 0x1000, style)
    shim.init()
    shim.write(0x0C, (shim.read(0x0C) & ~0x300) | (2 << 8))     # HCLK source 2: the 197.6 MHz PLL
    assert objs["cpuM4_1"].PerformanceInMips == 197
    assert objs["nvic1"].Frequency == 197_600_000


def test_two_shims_share_one_clock_and_see_each_others_interrupts(bridge):
    m, objs = machine_with("nvic0", "nvic1", "cpuM4_0", "cpuM4_1")
    io0 = ShimRunner(SHIMS / "m4_mailbox.py27", m, "io0_mbox_m4", 0x1000, "pascal")
    io1 = ShimRunner(SHIMS / "m4_mailbox.py27", m, "io1_mbox_m4", 0x1000, "lower")
    io0.init()
    io1.init()
    io1.write(0x38, 0x1F)                               # INT_EN: every FIFO interrupt on io1's side
    io0.write(0x44, 0xCAFE)                             # DATA_PUSH then CMD_PUSH commits the pair
    io0.write(0x40, 0x1234)
    assert io1.read(0x58) == 1                          # FIFO_POP_CNT on the far side
    assert any(objs["nvic1"].levels.get(n) for n in range(12, 18))   # io1's mailbox IRQ 12-17
    assert io1.read(0x54) == 0xCAFE and io1.read(0x50) == 0x1234


def test_virtual_time_never_goes_backwards(bridge):
    models = bridge.models
    models.handle("TICK 5000")
    assert models.clock.now == 5_000_000
    models.handle("READ io0_gpt 0 4 10 -")
    assert models.clock.now == 5_000_000


def test_memory_requests_go_back_to_renode(tmp_path, monkeypatch):
    (tmp_path / "bridge_test_models.py").write_text('''
from mt3620.engine.simulation.peripheral import Peripheral, Register

class Copier(Peripheral):
    """Test-only block: a write to SRC copies 4 bytes from SRC to DST reversed and raises its IRQ."""
    REGISTERS = (Register(0x0, "SRC", write="_go"), Register(0x4, "DST"), Register(0x8, "SUM", access="ro"))
    IRQS = ("done",)

    def __init__(self, name=None, clock=None, *, memory, **attributes):
        self.memory = memory
        super().__init__(name, clock, **attributes)

    def _go(self, value):
        data = self.memory.read(value, 4)
        self.memory.write(self.regs["DST"], data[::-1])
        self.regs["SUM"] = sum(data)
        self.irq[0].set(True)
''')
    monkeypatch.syspath_prepend(str(tmp_path))
    body = (SHIMS / "mt3620_uart.py27").read_text().split("\n", 1)[1]
    (tmp_path / "copier.py27").write_text("# mt3620-model: bridge_test_models:Copier\n" + body)
    (tmp_path / "t.repl").write_text('''cpu0: CPU.CortexM @ sysbus
    cpuType: "cortex-m4"
    nvic: nvic0

nvic0: IRQControllers.NVIC @ sysbus new Bus.BusPointRegistration { address: 0xE000E000; cpu: cpu0 }
    -> cpu0@0

copier: Python.PythonPeripheral @ sysbus new Bus.BusPointRegistration { address: 0x40000000; cpu: cpu0 }
    size: 0x1000
    initable: true
    filename: "copier.py27"
    0 -> nvic0@9
''')
    server = rb.BridgeServer(rb.BridgeModels(load_platform(tmp_path / "t.repl")), token=TOKEN)
    finish = start(server)
    try:
        monkeypatch.setenv("MT3620_BRIDGE", f"127.0.0.1:{server.port}:{TOKEN}")
        m, objs = machine_with("nvic0", "cpu0")
        for i, b in enumerate([1, 2, 3, 4]):
            m.SystemBus.memory[(objs["cpu0"], 0x100 + i)] = b
        shim = ShimRunner(tmp_path / "copier.py27", m, "copier", 0x1000, "pascal")
        shim.init()
        shim.write(0x4, 0x200)
        shim.write(0x0, 0x100)
        assert [m.SystemBus.memory[(objs["cpu0"], 0x200 + i)] for i in range(4)] == [4, 3, 2, 1]
        assert shim.read(0x8) == 10
        assert objs["nvic0"].levels[9] is True
    finally:
        finish()


def test_shim_without_bridge_degrades_with_a_log_not_an_exception(monkeypatch, tmp_path):
    with socket.socket() as s:          # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("MT3620_BRIDGE", f"127.0.0.1:{port}:{TOKEN}")
    m, _ = machine_with("nvic0")
    shim = ShimRunner(SHIMS / "gpt.py27", m, "io0_gpt", 0x1000, "lower")
    shim.init()
    assert shim.read(0x0) == 0
    shim.write(0x4, 1)
    errors = [t for lv, t in shim.periph.logs if lv == "error"]
    assert len(errors) == 1 and "bridge unavailable" in errors[0]


def test_shim_refuses_a_non_loopback_endpoint(monkeypatch):
    monkeypatch.setenv("MT3620_BRIDGE", f"10.0.0.1:1234:{TOKEN}")
    m, _ = machine_with("nvic0")
    shim = ShimRunner(SHIMS / "gpt.py27", m, "io0_gpt", 0x1000, "pascal")
    shim.init()
    assert any("only reached on 127.0.0.1" in t for lv, t in shim.periph.logs)


def test_connection_file_is_found_and_private(tmp_path, bridge, monkeypatch):
    conn = tmp_path / "conn"
    rb.write_connection_file(conn, bridge.port, TOKEN)
    assert conn.stat().st_mode & 0o077 == 0
    monkeypatch.delenv("MT3620_BRIDGE")
    monkeypatch.setenv("MT3620_BRIDGE_FILE", str(conn))
    m, objs = machine_with("nvic0")
    shim = ShimRunner(SHIMS / "mt3620_uart.py27", m, "io0_uart", 0x1000, "pascal")
    shim.init()
    assert shim.read(0x14) == Mt3620Uart(base_address=0x21040000).read(0x14)


def raw(server) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    s.settimeout(5)
    return s


def ask(s: socket.socket, text: str) -> str:
    rb.send_frame(s, text)
    return rb.recv_frame(s)


def test_protocol_rejects_bad_token_bad_requests_and_oversized_frames(bridge):
    with raw(bridge) as s:
        assert ask(s, "HELLO wrong 1") == "ERR bad token"
        assert s.recv(1) == b""                         # closed
    with raw(bridge) as s:
        assert ask(s, f"HELLO {TOKEN} 99").startswith("ERR protocol")
    with raw(bridge) as s:
        assert ask(s, f"HELLO {TOKEN} 1") == "OK mt3620-bridge 1"
        assert ask(s, "ATTACH io0_uart") == "OK mt3620.peripherals.uart.mt3620_uart:Mt3620Uart 4096"
        assert ask(s, "ATTACH nosuch").startswith("ERR no bridged block")
        assert ask(s, "READ io0_uart 0x1000 4 0 -").startswith("ERR io0_uart: offset")
        assert ask(s, "WRITE io0_uart 0 3 1 0 -").startswith("ERR access width")
        assert ask(s, "WRITE io0_uart 0 1 256 0 -").startswith("ERR value")
        assert ask(s, "READ io0_uart zz 4 0 -").startswith("ERR not a number")
        assert ask(s, "FROB").startswith("ERR bad request")
        assert ask(s, "READ io0_uart 0x14 4 0 -").startswith("OK 96 ")   # still serving
        s.sendall(struct.pack(">I", rb.MAX_FRAME + 1))
        assert s.recv(1) == b""                         # oversized: dropped
    with raw(bridge) as s:                              # the server survived all of it
        assert ask(s, f"HELLO {TOKEN} 1").startswith("OK")


def test_uart_tcp_port_streams_bytes_and_feeds_input(platform):
    server = rb.BridgeServer(rb.BridgeModels(platform), token=TOKEN, uart_ports={"io0_uart": 0})
    finish = start(server)
    try:
        tcp = socket.create_connection(("127.0.0.1", server.uart_port("io0_uart")), timeout=5)
        tcp.settimeout(5)
        with raw(server) as s:
            assert ask(s, f"HELLO {TOKEN} 1").startswith("OK")
            ask(s, "WRITE io0_uart 0 1 0x41 0 -")       # 'A' into THR
            reply = ask(s, "TICK 2000000")              # 2 ms later: transmitted
            assert reply.startswith("OK")
            assert tcp.recv(1) == b"A"
            tcp.sendall(b"z")
            t_ns, lsr = 3_000_000, 0
            for _ in range(100):                        # bounded: input is fed at the next request, then
                lsr = int(ask(s, f"READ io0_uart 0x14 4 {t_ns} -").split()[1])   # arrives at line rate
                if lsr & 1:
                    break
                t_ns += 1_000_000
                threading.Event().wait(0.01)
            assert lsr & 1                              # LSR.DR: a received byte waits in RBR
            assert int(ask(s, f"READ io0_uart 0 4 {t_ns} -").split()[1]) == ord("z")
        tcp.close()
    finally:
        finish()


def python27() -> str | None:
    import glob
    import shutil
    import subprocess
    candidates = [shutil.which("python2.7"), *sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/2.7*/bin/python2.7")))]
    for c in candidates:
        if c and subprocess.run([c, "-c", "pass"], capture_output=True).returncode == 0:
            return c
    return None


PY27 = python27()


@pytest.mark.skipif(PY27 is None, reason="no CPython 2.7 interpreter on this machine")
@pytest.mark.parametrize("style", STYLES)
def test_shim_runs_under_a_real_python27(bridge, style):
    import subprocess
    driver = Path(__file__).parent / "py27_driver.py27"
    ops = ["init", "read:0x14", "write:0x04:2", *[f"write:0:{c}" for c in b"py27\r\n"], "advance:5000000"]
    res = subprocess.run([PY27, str(driver), str(SHIMS / "mt3620_uart.py27"), "io0_uart", style, *ops],
                         capture_output=True, text=True, timeout=60, env={**os.environ})
    assert res.returncode == 0, res.stderr
    events = res.stdout.splitlines()
    assert [e for e in events if e.startswith("value")] == [f"value {Mt3620Uart(base_address=0x21040000).read(0x14)}"]
    assert "irq nvic0 4 1" in events and "irq nvic0 4 0" in events
    assert "log info io0_uart: py27" in events


def test_gpio_pins_reach_the_nvic_through_the_eint_block_inside_the_bridge(platform):
    """GPIO -> EINT block is model to model (inside the bridge); only the EINT's NVIC line goes to Renode."""
    models = rb.BridgeModels(platform)
    eint = models.block("io0_irqcfg").model
    gpio3 = models.block("gpio3").model           # GPIO 12 (button A) is pin 0 of block 3
    gpio3.drive_input(12, 1)                        # released: the board's pull-up
    eint.write(0x204, 4, 1)                         # IRQ_SENS1 bit 0 = IRQ 32: level delivery
    eint.write(4 * 12, 4, 3 << 8)                   # DBNC_CON12: EN, POL = 1 (active low), no debounce
    assert models.levels().get(("nvic0", 32)) is False
    gpio3.drive_input(12, 0)                        # button pressed: the pin is low
    assert models.levels()[("nvic0", 32)] is True
    gpio3.drive_input(12, 1)
    assert models.levels()[("nvic0", 32)] is False
    assert not any(key[0] in ("io0_irqcfg", "io1_irqcfg") for key in models.levels())   # never sent to Renode
