"""The bridge (engine/renode/bridge.py) through a real loopback connection, as Renode's MT3620.BridgedPeripheral
shims use it: models named by the platform, RESET sessions at t = 0, output lines, inputs, memory requests, logs.
The shim's side runs in the real Renode in test_in_renode.py."""
from __future__ import annotations

import socket
import struct
import threading

import pytest

from mt3620.engine import repl
from mt3620.engine.machine import Machine, MachineError
from mt3620.engine.renode import bridge as rb

TOKEN = "0123456789abcdef0123456789abcdef"
PLATFORM = repl.default_platform_path()


@pytest.fixture(scope="module")
def platform():
    return repl.load_platform(PLATFORM)


def start(server: rb.BridgeServer):
    stop = threading.Event()
    thread = threading.Thread(target=server.serve_forever, args=(stop.is_set,), daemon=True)
    thread.start()

    def finish():
        stop.set()
        thread.join(5)
        server.close()
    return finish


@pytest.fixture
def bridge(platform):
    server = rb.BridgeServer(rb.BridgeModels(platform), token=TOKEN)
    finish = start(server)
    yield server
    finish()


def connect(server) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    s.settimeout(5)
    assert ask(s, f"HELLO {TOKEN} {rb.PROTOCOL}") == f"OK mt3620-bridge {rb.PROTOCOL}"
    return s


def ask(s: socket.socket, text: str) -> str:
    rb.send_frame(s, text)
    return rb.recv_frame(s)


def lines(reply: str, kind: str) -> list[str]:
    return [ln for ln in reply.split("\n")[1:] if ln.startswith(kind + " ")]


def value(reply: str) -> int:
    head = reply.split("\n")[0].split()
    assert head[0] == "OK", reply
    return int(head[1])


# ---- models from the platform ------------------------------------------------------------------------------------
def test_every_bridged_entry_is_served_by_the_model_its_platform_names(platform):
    models = rb.BridgeModels(platform)
    bridged = {e.name for e in platform.entries.values() if e.type == "MT3620.BridgedPeripheral"}
    assert set(models.blocks) == bridged and len(bridged) > 50
    assert models.blocks["io0_gpt"].spec == "mt3620.peripherals.timers.gpt:Gpt"
    assert models.blocks["adc"].spec == "mt3620.peripherals.adc.adc:Adc"
    assert models.blocks["rtc"].spec == "mt3620.engine.simulation.peripheral:LoggingRegion"   # known, not modelled
    assert "io0_uart" not in models.blocks          # a Renode UART: served by Renode itself


GPT_MODEL = 'io0_gpt:\n    model: "mt3620.peripherals.timers.gpt:Gpt"\n'


def broken(tmp_path, replacement: str):
    bridged = (PLATFORM.parent / "mt3620-bridged.repl").read_text()
    assert GPT_MODEL in bridged
    (tmp_path / "bridged.repl").write_text(bridged.replace(GPT_MODEL, replacement, 1))
    (tmp_path / "chip.repl").write_text(f'using "{PLATFORM.parent / "mt3620-renode-a7.repl"}"\n'
                                        f'using "{tmp_path / "bridged.repl"}"\n')
    return tmp_path / "chip.repl"


@pytest.mark.parametrize("replacement, fragment, where", [
    (GPT_MODEL.replace(".gpt:", ".gtp:"), "No module named 'mt3620.peripherals.timers.gtp'", "bridged.repl"),
    (GPT_MODEL.replace(":Gpt", ":Gtp"), "has no class 'Gtp'", "bridged.repl"),
    ('io0_gpt:\n    model: "gpt"\n', "must be a string \"package.module:Class\"", "bridged.repl"),
    ("io0_gpt:\n", "needs a `model: \"package.module:Class\"` attribute", "io-core.repl"),
])
def test_a_model_that_cannot_be_resolved_is_a_load_error_in_both_engines(tmp_path, replacement, fragment, where):
    path = broken(tmp_path, replacement)
    with pytest.raises(rb.BridgeError) as bridge_error:
        rb.BridgeModels(repl.load_platform(path))
    assert "io0_gpt" in str(bridge_error.value) and fragment in str(bridge_error.value)
    with pytest.raises(MachineError) as engine_error:
        Machine(path)
    message = str(engine_error.value)
    assert "io0_gpt" in message and fragment in message
    assert message.split(":")[0].endswith(where)          # file:line:col of the model line, else of the entry


# ---- sessions ------------------------------------------------------------------------------------------------------
def test_reset_starts_every_model_again_at_time_zero(bridge):
    with connect(bridge) as s:
        first = ask(s, "RESET")
        assert value(first) == 0
        # Every output Renode sees is sent with its level, so a new machine starts consistent: pin levels of the
        # GPIO blocks (16 + k, 1 = not driven), the EINT and NVIC lines (0), and the RGU clock of each core.
        assert "GPIO gpio2 16 1" in lines(first, "GPIO") and "GPIO io0_gpt 0 0" in lines(first, "GPIO")
        assert "CLK cpuM4_0 nvic0 26000000" in lines(first, "CLK")
        ask(s, "WRITE io0_gpt 0x54 4 7 1000 cpuM4_0")            # GPT3 INIT
        assert value(ask(s, "READ io0_gpt 0x54 4 2000000000 cpuM4_0")) == 7
        assert bridge.models.clock.now == 2_000_000_000_000      # ps
        ask(s, "RESET")                                          # a second session, or `machine Reset`
        assert bridge.models.clock.now == 0 and bridge.models.resets == 2
        assert value(ask(s, "READ io0_gpt 0x54 4 1000 cpuM4_0")) == 0   # a fresh model
        assert bridge.models.clock.now == 1_000_000              # t is counted from the reset again


def test_virtual_time_never_goes_backwards(bridge):
    with connect(bridge) as s:
        ask(s, "RESET")
        ask(s, "TICK 5000")
        assert bridge.models.clock.now == 5_000_000
        ask(s, "READ io0_gpt 0 4 10 cpuM4_1")       # the other core, behind inside its quantum
        assert bridge.models.clock.now == 5_000_000


def _shim_value(lin: str, t_ns: int) -> int | None:
    """What MT3620Bridge.cs answers from a LIN line at t_ns (its 64-bit arithmetic), or None once it no longer may."""
    _, _, _, base, start, num, den, down, frm, until = lin.split()
    base, start, num, den, frm = map(int, (base, start, num, den, frm))
    now = t_ns * 1000
    if until != "-" and now >= int(until):
        return None
    dt = max(now, frm) - start
    ticks = ((dt // den) * num + (dt % den) * num // den) % (1 << 64)
    assert (dt % den) * num < 1 << 64                      # exact in 64 bits, as the shim needs
    return ((base - ticks) if down == "1" else (base + ticks)) & 0xFFFFFFFF


@pytest.mark.parametrize("offset, ctrl_offset, ctrl", [
    (0x58, 0x50, 0x19 << 16 | 1),       # GPT3 at 1 MHz (OSC_CNT_1US = 25): the busy-wait of Azure's samples
    (0x68, 0x60, 0b11),                 # GPT4 at the bus clock
    (0x34, 0x30, 0b11),                 # GPT2 at 32.768 kHz
])
def test_a_polled_counter_is_answered_by_the_shim_exactly_as_the_model_would(bridge, offset, ctrl_offset, ctrl):
    with connect(bridge) as s:
        ask(s, "RESET")
        ask(s, f"WRITE io0_gpt {ctrl_offset:#x} 4 {ctrl} 1000 cpuM4_0")
        reply = ask(s, f"READ io0_gpt {offset:#x} 4 2000 cpuM4_0")
        [lin] = lines(reply, "LIN")
        assert lin.startswith(f"LIN io0_gpt {offset} ") and _shim_value(lin, 2000) == value(reply)
        for t in (2000, 2001, 2999, 123_457, 999_999, 5_000_000_011):
            shim = _shim_value(lin, t)
            if shim is not None:
                assert shim == value(ask(s, f"READ io0_gpt {offset:#x} 4 {t} cpuM4_0")), t
        assert lines(ask(s, f"READ io0_gpt 0x0 4 {t} cpuM4_0"), "LIN") == []     # GPT_ISR: not a counter
        ask(s, f"WRITE io0_gpt {ctrl_offset:#x} 4 0 {t} cpuM4_0")                  # stopped: held, no LIN
        assert lines(ask(s, f"READ io0_gpt {offset:#x} 4 {t + 10} cpuM4_0"), "LIN") == []


# ---- lines ---------------------------------------------------------------------------------------------------------
def test_gpt_interrupt_is_an_output_line_and_the_next_event_is_announced(bridge):
    with connect(bridge) as s:
        ask(s, "RESET")
        ask(s, "WRITE io0_gpt 0x04 4 1 0 cpuM4_0")              # IER: GPT0
        ask(s, "WRITE io0_gpt 0x14 4 9 0 cpuM4_0")              # GPT0 ICNT: 10 ticks of 32.768 kHz
        reply = ask(s, "WRITE io0_gpt 0x10 4 5 0 cpuM4_0")      # CTRL: EN | 32 kHz
        due = int(reply.split("\n")[0].split()[2])
        assert 250_000 < due < 400_000                          # ~10/32768 s, in ns
        assert ask(s, f"TICK {due - 1000}").split("\n")[1:] == []
        assert lines(ask(s, f"TICK {due}"), "GPIO") == ["GPIO io0_gpt 0 1"]   # the line Renode wires to nvic0@1
        ask(s, f"WRITE io0_gpt 0x00 4 1 {due} cpuM4_0")         # ISR W1C
        assert value(ask(s, f"READ io0_gpt 0x00 4 {due} cpuM4_0")) == 0


def test_watchdog_reset_line_resets_the_core_and_rgu_switch_changes_its_clock(bridge):
    with connect(bridge) as s:
        ask(s, "RESET")
        ask(s, "WRITE io1_wdt 0x34 4 " + str((1 << 5) | 0x08) + " 0 cpuM4_1")    # LENGTH: 1 tick, key
        reply = ask(s, "WRITE io1_wdt 0x30 4 " + str(0x2200 | 1) + " 0 cpuM4_1")  # MODE: key | EN (reset)
        due = int(reply.split("\n")[0].split()[2])
        # The core and its Renode-native private blocks (its NVIC, its debug UART) reset in Renode; the models
        # private to the core reset in the bridge, the watchdog keeping its "reset by watchdog" status.
        assert lines(ask(s, f"TICK {due}"), "RST") == ["RST cpuM4_1 nvic1 io1_uart"]
        assert value(ask(s, f"READ io1_wdt 0x3C 4 {due} cpuM4_1")) & 0x8000
        clk = lines(ask(s, f"WRITE io0_rgu 0x0C 4 {2 << 8} {due} cpuM4_0"), "CLK")      # HCLK = PLL
        assert clk == ["CLK cpuM4_0 nvic0 197600000"]


def test_button_input_reaches_the_eint_line_inside_the_bridge(bridge):
    """A button wired `-> gpio3@0` drives GPIO 12; GPIO -> EINT is delivered in the bridge, the EINT's line to
    the NVIC (NVIC 32 of core 0, Renode's `[0-23] -> nvic0@[20-43]`) comes back as output 12 of io0_irqcfg."""
    with connect(bridge) as s:
        ask(s, "RESET")
        ask(s, "IN gpio3 0 1 0")                                # released: the board's pull-up
        ask(s, "WRITE io0_irqcfg 0x204 4 1 0 cpuM4_0")          # IRQ_SENS1 bit 0 = IRQ 32: level delivery
        ask(s, f"WRITE io0_irqcfg {4 * 12} 4 {3 << 8} 0 cpuM4_0")   # DBNC_CON12: EN, POL = 1 (active low), no debounce
        pressed = ask(s, "IN gpio3 0 0 10")
        assert "GPIO io0_irqcfg 12 1" in lines(pressed, "GPIO")
        assert not any(ln.startswith("GPIO gpio3 ") for ln in lines(pressed, "GPIO"))  # pin 12 is an input
        assert "GPIO io0_irqcfg 12 0" in lines(ask(s, "IN gpio3 0 1 20"), "GPIO")
        assert ask(s, "IN gpio3 9 1 30").startswith("ERR gpio3: no pin 9")
        assert ask(s, "IN io0_gpt 0 1 30").startswith("ERR io0_gpt: its model takes no input lines")


def test_pin_levels_are_outputs_where_leds_attach(bridge):
    """LED1 red is GPIO 8 = pin 0 of gpio2: output 16. Driven low (lit, active low) then its driver off (1)."""
    with connect(bridge) as s:
        ask(s, "RESET")
        ask(s, "WRITE gpio2 0x18 4 1 0 cpuM4_0")                # DOUT_RESET pin 0
        assert "GPIO gpio2 16 0" in lines(ask(s, "WRITE gpio2 0x24 4 1 0 cpuM4_0"), "GPIO")   # OE_SET
        assert "GPIO gpio2 16 1" in lines(ask(s, "WRITE gpio2 0x14 4 1 0 cpuM4_0"), "GPIO")   # DOUT_SET
        assert "GPIO gpio2 16 1" not in lines(ask(s, "WRITE gpio2 0x28 4 1 0 cpuM4_0"), "GPIO")  # OE off: still 1


def test_unmodelled_block_logs_each_access_into_renodes_log(bridge):
    with connect(bridge) as s:
        ask(s, "RESET")
        reply = ask(s, "READ rtc 0x10 4 0 cpuM4_0")
        assert value(reply) == 0
        logs = lines(reply, "LOG")
        assert len(logs) == 1 and logs[0].startswith("LOG rtc info ")
        assert "unmodelled read at +0x10" in bytes.fromhex(logs[0].split()[3]).decode()


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
    (tmp_path / "t.repl").write_text('''cpu0: CPU.CortexM @ sysbus
    cpuType: "cortex-m4f"
    nvic: nvic0

nvic0: IRQControllers.NVIC @ sysbus new Bus.BusPointRegistration { address: 0xE000E000; cpu: cpu0 }
    -> cpu0@0

copier: MT3620.BridgedPeripheral @ sysbus new Bus.BusPointRegistration { address: 0x40000000; cpu: cpu0 }
    size: 0x1000
    0 -> nvic0@9

copier:
    model: "bridge_test_models:Copier"
''')
    server = rb.BridgeServer(rb.BridgeModels(repl.load_platform(tmp_path / "t.repl")), token=TOKEN)
    finish = start(server)
    memory = {0x100 + i: b for i, b in enumerate([1, 2, 3, 4])}
    try:
        with connect(server) as s:
            ask(s, "RESET")
            ask(s, "WRITE copier 4 4 512 0 cpu0")
            rb.send_frame(s, "WRITE copier 0 4 256 0 cpu0")
            while True:                                  # what the C# shim does: serve MEMR/MEMW, then the reply
                frame = rb.recv_frame(s)
                parts = frame.split()
                if parts[0] == "MEMR":
                    assert parts[1] == "cpu0"
                    rb.send_frame(s, "DATA " + bytes(memory[int(parts[2]) + i] for i in range(int(parts[3]))).hex())
                elif parts[0] == "MEMW":
                    for i, b in enumerate(bytes.fromhex(parts[3])):
                        memory[int(parts[2]) + i] = b
                    rb.send_frame(s, "DONE")
                else:
                    break
            assert "GPIO copier 0 1" in lines(frame, "GPIO")
            assert [memory[0x200 + i] for i in range(4)] == [4, 3, 2, 1]
            assert value(ask(s, "READ copier 8 4 0 cpu0")) == 10
    finally:
        finish()


# ---- protocol --------------------------------------------------------------------------------------------------------
def test_protocol_rejects_bad_token_bad_requests_and_oversized_frames(bridge):
    with socket.create_connection(("127.0.0.1", bridge.port), timeout=5) as s:
        assert ask(s, "HELLO wrong 2") == "ERR bad token"
        assert s.recv(1) == b""                         # closed
    with socket.create_connection(("127.0.0.1", bridge.port), timeout=5) as s:
        assert ask(s, f"HELLO {TOKEN} 1").startswith("ERR protocol 1 not supported")
    with connect(bridge) as s:
        assert ask(s, "ATTACH io0_gpt") == "OK mt3620.peripherals.timers.gpt:Gpt 4096"
        assert ask(s, "ATTACH io0_uart").startswith("ERR no bridged block named 'io0_uart'")
        assert ask(s, "READ io0_gpt 0x1000 4 0 -").startswith("ERR io0_gpt: offset")
        assert ask(s, "WRITE io0_gpt 0 3 1 0 -").startswith("ERR access width")
        assert ask(s, "WRITE io0_gpt 0 1 256 0 -").startswith("ERR value")
        assert ask(s, "READ io0_gpt zz 4 0 -").startswith("ERR not a number")
        assert ask(s, "IN gpio3 0 2 0").startswith("ERR a line level is 0 or 1")
        assert ask(s, "FROB").startswith("ERR bad request")
        assert value(ask(s, "READ io0_gpt 0x04 4 0 -")) == 0                     # still serving
        s.sendall(struct.pack(">I", rb.MAX_FRAME + 1))
        assert s.recv(1) == b""                         # oversized: dropped
    with connect(bridge) as s:                          # the server survived all of it
        assert value(ask(s, "TICK 0")) == 0


def test_bridge_stops_when_its_lifeline_closes(platform):
    import os
    server = rb.BridgeServer(rb.BridgeModels(platform), token=TOKEN)
    read_end, write_end = os.pipe()
    reader = os.fdopen(read_end, "rb", buffering=0)
    server.watch_lifeline(reader)
    done = threading.Event()
    thread = threading.Thread(target=lambda: (server.serve_forever(), done.set()), daemon=True)
    thread.start()
    try:
        with connect(server) as s:
            assert value(ask(s, "TICK 1")) == 0
        os.close(write_end)                             # the Renode that started the bridge is gone
        assert done.wait(10)
    finally:
        server.close()
        reader.close()


def test_board_devices_are_built_again_with_the_models_at_each_reset(tmp_path):
    board = tmp_path / "b.board"
    board.write_text('oled: Video.SSD1306 @ isu1.i2c 0x3C\n    png_path: "oled.png"\n')
    server = rb.build_server(token="0" * 32, board=str(board))
    try:
        models = server.models
        first = models.board_devices.device("oled")
        first.on = True
        assert value(models.handle("RESET")) == 0
        assert (tmp_path / "oled.png").exists()              # the old display wrote its file, as at a run's end
        assert models.board_devices.device("oled") is not first and models.clock.now == 0
    finally:
        server.close()
