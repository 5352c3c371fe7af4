"""The RSP server packet by packet, with a raw client over loopback against the project's firmware running in the
engine: every packet the issue lists, malformed input, all-stop timing, breakpoint and step accounting."""
from __future__ import annotations

import struct
import xml.etree.ElementTree as ET

import pytest

from gdb_helpers import RspClient, ServedMachine, stop_fields, symbols

UART_LSR = 0x21040014
ICSR = 0xE000ED04
PENDSTSET = 1 << 26


@pytest.fixture
def served(gdb_target_elf):
    """ServedMachine factory (gdb_target on io0 unless `apps` says otherwise); every machine is stopped after the
    test, so no run goes on in the background of the next one."""
    machines = []

    def make(duration="2s", apps=None, **kw):
        sm = ServedMachine(apps or {"io0": gdb_target_elf}, duration=duration, **kw)
        machines.append(sm)
        return sm
    yield make
    for sm in machines:
        sm.stop()


def connect(sm: ServedMachine, core: str = "io0", ack: bool = False) -> RspClient:
    c = RspClient(sm.ports[core], ack=ack)
    c.command(b"qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=arm")
    return c


def run_to(c: RspClient, address: int) -> dict[str, str]:
    assert c.command(b"Z0,%x,2" % address) == b"OK"
    c.send(b"vCont;c")
    stop = stop_fields(c.packet())
    assert c.command(b"z0,%x,2" % address) == b"OK"
    return stop


def interrupt(c: RspClient) -> dict[str, str]:
    c.raw(b"\x03")
    return stop_fields(c.packet())


def continue_then_interrupt(c: RspClient, sm: ServedMachine, windows: int = 20) -> dict[str, str]:
    """Resume, let the machine run `windows` windows (each up to 1 ms of virtual time), then Ctrl-C."""
    c.send(b"vCont;c")
    sm.wait_windows(windows)
    return interrupt(c)


def run_until(c: RspClient, sm: ServedMachine, condition, tries: int = 200, windows: int = 5) -> None:
    """Let the machine run in short bursts until `condition()` holds while halted."""
    for _ in range(tries):
        if condition():
            return
        continue_then_interrupt(c, sm, windows)
    assert condition()


def still_holding(c: RspClient, rounds: int = 3) -> None:
    """Round trips through the server: each reply shows the machine's thread went once more around its
    while-held loop (the server runs in that thread), so whatever the test checks next had every chance to move."""
    for _ in range(rounds):
        assert c.command(b"qC") == b"QC1"


def detach(c: RspClient) -> None:
    assert c.command(b"D") == b"OK"
    c.close()


# ---- queries --------------------------------------------------------------------------------------------------------
def test_handshake_queries_and_documents(served):
    sm = served()
    c = RspClient(sm.ports["io0"])         # acknowledgement mode first, as GDB starts
    features = c.command(b"qSupported:multiprocess+;swbreak+;hwbreak+").split(b";")
    for f in (b"PacketSize=4000", b"qXfer:features:read+", b"qXfer:memory-map:read+", b"QStartNoAckMode+",
              b"swbreak+", b"hwbreak+", b"vContSupported+"):
        assert f in features
    assert c.command(b"QStartNoAckMode") == b"OK"
    c.ack = False
    assert stop_fields(c.command(b"?"))["signal"] == "05"        # attaching halts the target
    assert c.command(b"vCont?") == b"vCont;c;C;s;S;t"
    assert c.command(b"qC") == b"QC1"
    assert c.command(b"qfThreadInfo") == b"m1" and c.command(b"qsThreadInfo") == b"l"
    assert c.command(b"qAttached") == b"1"
    assert c.command(b"Hg0") == b"OK" and c.command(b"Hc-1") == b"OK" and c.command(b"T1") == b"OK"
    assert bytes.fromhex(c.command(b"qThreadExtraInfo,1").decode()).startswith(b"io0 Cortex-M4F")

    def xfer(obj: bytes, annex: bytes = b"") -> str:
        data, offset = b"", 0
        while True:
            reply = c.command(b"qXfer:%s:read:%s:%x,%x" % (obj, annex, offset, 0x100))
            assert reply[:1] in (b"m", b"l"), reply
            data += reply[1:]
            offset += len(reply) - 1
            if reply[:1] == b"l":
                return data.decode()

    tdesc = xfer(b"features", b"target.xml")
    assert 'name="org.gnu.gdb.arm.m-profile"' in tdesc and 'name="xpsr"' in tdesc and 'name="d15"' in tdesc
    ET.fromstring(tdesc.split("\n", 2)[2])
    mmap = xfer(b"memory-map")
    assert '<memory type="ram" start="0x100000" length="0x30000"/>' in mmap
    threads = xfer(b"threads")
    assert 'name="io0"' in threads
    assert c.command(b"qXfer:features:read:other.xml:0,100") == b"E00"
    assert c.command(b"qXfer:nothing:read::0,100") == b""
    assert c.command(b"qOffsets") == b"" and c.command(b"vMustReplyEmpty") == b"" and c.command(b"!") == b""
    detach(c)
    assert sm.finish().reason == "timeout"


# ---- registers ------------------------------------------------------------------------------------------------------
def test_registers_g_G_p_P(served):
    sm = served()
    c = connect(sm)
    core = sm.core()
    regs = bytes.fromhex(c.command(b"g").decode())
    assert len(regs) == 17 * 4 + 6 * 4 + 16 * 8 + 4
    pc = struct.unpack_from("<I", regs, 15 * 4)[0]
    assert pc == core.pc == c.register(15)
    xpsr = c.register(16)
    assert xpsr & (1 << 24)                               # Thumb bit in EPSR
    assert c.register(17) == core.reg("msp")              # msp
    assert c.command(b"P0=78563412") == b"OK" and core.reg("r0") == 0x12345678
    # d0 is s0 (low word) and s1 (high word): FPv4-SP-D16
    assert c.command(b"P17=0000c03f00002040") == b"OK"    # register 23 (0x17) = d0
    assert core.reg("s0") == 0x3FC00000 and core.reg("s1") == 0x40200000
    assert c.command(b"p17") == b"0000c03f00002040"
    assert c.command(b"G" + c.command(b"g")) == b"OK"
    assert c.command(b"p0") == b"78563412"
    assert c.command(b"p63") == b"E02"                    # no register 0x63
    assert c.command(b"P0=12") == b"E01"                  # wrong size
    assert c.command(b"Pzz=00000000") == b"E01"
    assert c.command(b"G00") == b"E01"
    detach(c)
    sm.finish()


# ---- memory ---------------------------------------------------------------------------------------------------------
def test_memory_m_M_X_and_errors(served, gdb_target_elf):
    sm = served()
    syms = symbols(gdb_target_elf)
    c = connect(sm)
    counter = syms["gdb_counter"]
    assert c.command(b"M%x,4:efbeadde" % counter) == b"OK"
    assert c.read(counter, 4) == b"\xef\xbe\xad\xde"
    assert sm.machine.read_memory("io0", counter, 4) == b"\xef\xbe\xad\xde"
    binary = bytes([0x23, 0x24, 0x7D, 0x2A, 0x00, 0xFF, 0x03, 0x10])   # '#', '$', '}', '*' travel escaped
    escaped = bytearray()
    for b in binary:
        escaped += bytes((0x7D, b ^ 0x20)) if b in b"#$}*" else bytes((b,))
    assert c.command(b"X%x,%x:" % (counter, len(binary)) + bytes(escaped)) == b"OK"
    assert c.read(counter, len(binary)) == binary
    assert c.command(b"X%x,0:" % counter) == b"OK"               # GDB's probe for X support
    assert c.command(b"m%x,0" % counter) == b""
    assert c.command(b"m50000000,4") == b"E0e"                    # nothing mapped there
    end = 0x00130000
    assert len(c.read(end - 2, 8)) == 2                           # partial read up to the end of TCM
    assert c.read(UART_LSR, 4)[0] & 0x20                          # a device register: THRE set when idle
    assert len(c.read(0x00100000, 0x10000)) == (0x4000 - 8) // 2  # clamped to one packet
    assert c.command(b"m100000") == b"E01"
    assert c.command(b"mzz,4") == b"E01"
    assert c.command(b"M%x,4:0011" % counter) == b"E01"           # length and data disagree
    assert c.command(b"M%x,4" % counter) == b"E01"
    assert c.command(b"mffffffff,10") == b"E01"                   # wraps past 32 bits
    from mt3620.engine.gdb.rsp import gdb_crc32
    tcm = sm.machine.read_memory("io0", 0x00100000, 0x2000)
    assert c.command(b"qCRC:100000,2000") == b"C%x" % gdb_crc32(tcm)
    assert c.command(b"qCRC:50000000,10") == b"E0e"
    detach(c)
    sm.finish()


# ---- malformed input and the connection -----------------------------------------------------------------------------
def test_malformed_packets_get_error_replies_and_never_stop_the_machine(served):
    sm = served()
    c = RspClient(sm.ports["io0"])                 # ack mode
    c.raw(b"$g#00")                                # bad checksum: the server asks for a resend
    assert c.read_ack() == b"-"
    c.raw(b"noise\r\n")                            # ignored between packets
    assert len(c.command(b"g")) > 100
    c.raw(b"$g#zz")
    assert c.read_ack() == b"-"
    for packet, reply in [(b"Z0,zz,2", b"E01"), (b"Z0,100000", b"E01"), (b"Z9,100000,2", b""),
                          (b"Z0,50000000,2", b"E0e"), (b"vCont;x", b"E01"), (b"vCont;", b"E01"),
                          (b"Hx1", b"E01"), (b"T2", b"E01"), (b"qXfer:features:read:target.xml", b"E01"),
                          (b"qRcmd,zz", b"E01"), (b"C;", b"E01"), (b"sxyz", b"E01"), (b"y", b""),
                          (b"Z2,100f0c,0", b"E16"), (b"z0,100000,2", b"OK")]:
        assert c.command(packet) == reply, packet
    c.raw(b"+++")                                  # stray acknowledgements are harmless
    assert stop_fields(c.command(b"?"))["signal"] == "05"
    detach(c)
    assert sm.finish().reason == "timeout"


def test_second_debugger_on_a_port_is_refused(served):
    sm = served()
    first = connect(sm)
    second = RspClient(sm.ports["io0"])
    assert second.closed_by_server()
    assert any("already attached" in m for m in sm.messages)
    assert first.command(b"qC") == b"QC1"                     # the first session is unaffected
    detach(first)
    sm.finish()


def test_disconnect_without_detach_lets_the_emulation_finish(served, gdb_target_elf):
    sm = served(duration="300ms")
    c = connect(sm)
    assert c.command(b"Z0,%x,2" % symbols(gdb_target_elf)["gdb_count_to"]) == b"OK"
    assert c.command(b"Z2,%x,4" % symbols(gdb_target_elf)["gdb_counter"]) == b"OK"
    c.sock.close()                                 # GDB killed: no D packet
    result = sm.finish()
    assert result.reason == "timeout"              # ran its full 300 ms, no breakpoint left behind
    target = sm.server.targets["io0"]
    assert not target.breakpoints and not target.watchpoints
    assert "gdb_target: busy" in sm.machine.uart_text()
    assert any("disconnected" in m for m in sm.messages)


def test_kill_ends_the_session_not_the_emulation(served):
    sm = served(duration="200ms")
    c = connect(sm)
    c.send(b"k")
    assert c.closed_by_server()
    assert sm.finish().reason == "timeout"


def test_detach_and_reattach(served, gdb_target_elf):
    sm = served(duration="5s")
    syms = symbols(gdb_target_elf)
    c = connect(sm)
    stop = run_to(c, syms["gdb_add"])
    assert stop["signal"] == "05" and "swbreak" in stop
    detach(c)                                      # the core runs on into the busy loop
    sm.wait_for(lambda: "gdb_target: busy" in sm.machine.uart_text())
    again = connect(sm)
    assert stop_fields(again.command(b"?"))["signal"] == "05"
    in_loop = lambda: syms["gdb_busy_loop"] <= sm.core().pc < syms["gdb_busy_loop"] + 0x40   # noqa: E731
    run_until(again, sm, lambda: int.from_bytes(again.read(syms["gdb_spin"], 4), "little") > 0 and in_loop())
    pc = again.register(15)
    assert syms["gdb_busy_loop"] <= pc < syms["gdb_busy_loop"] + 0x40
    assert again.read(syms["gdb_counter"], 4) == (10).to_bytes(4, "little")
    assert int.from_bytes(again.read(syms["gdb_spin"], 4), "little") > 0
    detach(again)
    sm.finish()


# ---- run control ----------------------------------------------------------------------------------------------------
def test_interrupt_a_busy_loop_and_time_stands_while_halted(served, gdb_target_elf):
    sm = served(duration="100s")
    syms = symbols(gdb_target_elf)
    c = connect(sm)
    run_to(c, syms["gdb_busy_loop"])
    c.send(b"vCont;c")                             # past the one print the loop makes, then well inside it
    sm.wait_for(lambda: "gdb_target: spinning" in sm.machine.uart_text())
    sm.wait_windows(20)
    stop = interrupt(c)
    assert stop["signal"] == "02" and stop["thread"] == "1"
    assert syms["gdb_busy_loop"] <= int.from_bytes(bytes.fromhex(stop["0f"]), "little") < syms["gdb_busy_loop"] + 0x40
    now, spin = sm.machine.clock.now, c.read(syms["gdb_spin"], 4)
    still_holding(c)
    assert sm.machine.clock.now == now and c.read(syms["gdb_spin"], 4) == spin
    assert "virtual time" in c.monitor("time")
    c.raw(b"\x03")                                 # a second Ctrl-C while halted: no second stop reply
    assert c.command(b"qC") == b"QC1"
    again = continue_then_interrupt(c, sm)
    assert again["signal"] == "02" and sm.machine.clock.now > now
    detach(c)


def test_breakpoint_and_step_accounting_are_exact(served, gdb_target_elf):
    """A breakpoint stops before its instruction with the instruction count and the clock exact; n steps are n
    instructions; one more lap of the loop to the same breakpoint costs the same n instructions."""
    sm = served(duration="100s")
    syms = symbols(gdb_target_elf)
    core = sm.core()
    c = connect(sm)
    stop = run_to(c, syms["gdb_busy_loop"])
    assert stop.get("swbreak") == ""
    assert sm.machine.clock.now == core.time          # all-stop: the clock stopped where the core stopped
    seen: dict[int, int] = {}
    while core.pc not in seen:
        seen[core.pc] = core.instructions
        stop = stop_fields(c.command(b"vCont;s:1"))
        assert stop["signal"] == "05"
    head = core.pc
    lap = core.instructions - seen[head]
    assert lap >= 3
    assert c.command(b"Z0,%x,2" % head) == b"OK"
    laps = []
    for _ in range(3):
        before = core.instructions
        c.send(b"c")                                    # from the breakpoint itself: the server steps over it
        stop = stop_fields(c.packet())
        assert stop["signal"] == "05" and core.pc == head
        laps.append(core.instructions - before)
        assert sm.machine.clock.now == core.time
    assert len(set(laps)) == 1                          # deterministic in any case
    if core.budget.native:                              # exact with the native budget hook (docs/gdb.md)
        assert laps[0] == lap
    detach(c)


def test_hardware_and_software_breakpoint_limits(served, gdb_target_elf):
    sm = served()
    base = symbols(gdb_target_elf)["gdb_count_to"]
    c = connect(sm)
    for i in range(6):                                  # six FPB comparators
        assert c.command(b"Z1,%x,2" % (base + 2 * i)) == b"OK"
    assert c.command(b"Z1,%x,2" % (base + 12)) == b"E1c"
    assert c.command(b"Z1,%x,2" % base) == b"OK"       # the same address again is not another comparator
    assert c.command(b"z1,%x,2" % base) == b"OK"
    assert c.command(b"Z1,%x,2" % (base + 12)) == b"OK"
    for i in range(40):                                 # software breakpoints: no limit
        assert c.command(b"Z0,%x,2" % (0x00100400 + 2 * i)) == b"OK"
    c.send(b"c")
    stop = stop_fields(c.packet())
    assert stop.get("hwbreak") == "" and sm.core().pc == base + 2
    detach(c)


def test_watchpoints_report_the_data_address_before_the_access(served, gdb_target_elf):
    sm = served()
    syms = symbols(gdb_target_elf)
    core = sm.core()
    c = connect(sm)
    counter = syms["gdb_counter"]
    assert c.command(b"Z2,%x,4" % counter) == b"OK"
    c.send(b"c")
    stop = stop_fields(c.packet())
    assert stop["signal"] == "05" and int(stop["watch"], 16) == counter
    pc = core.pc
    assert syms["gdb_count_to"] <= pc < syms["gdb_float_compute"]
    assert c.read(pc, 2)[1] & 0xF8 == 0x60               # the stop names the store (STR immediate, T1)
    # a step with the watchpoint still inserted reports it again without executing the store (GDB removes it)
    step = stop_fields(c.command(b"s"))
    assert int(step["watch"], 16) == counter and core.pc == pc
    assert c.command(b"z2,%x,4" % counter) == b"OK"
    assert stop_fields(c.command(b"s"))["signal"] == "05" and core.pc != pc
    # a read watchpoint: main reads the counter to print it
    assert c.command(b"Z3,%x,4" % counter) == b"OK"
    c.send(b"c")
    stop = stop_fields(c.packet())
    assert int(stop["rwatch"], 16) == counter
    assert c.read(core.pc, 2)[1] & 0xF8 == 0x68          # LDR immediate, T1
    assert c.command(b"z3,%x,4" % counter) == b"OK"
    # an access watchpoint on one byte of the spin counter
    assert c.command(b"Z4,%x,1" % (syms["gdb_spin"] + 1)) == b"OK"
    for i in range(3):
        assert c.command(b"Z2,%x,4" % (0x22000000 + 4 * i)) == b"OK"
    assert c.command(b"Z2,22000100,4") == b"E1c"         # four DWT comparators
    c.send(b"c")
    stop = stop_fields(c.packet())
    assert int(stop["awatch"], 16) == syms["gdb_spin"] + 1
    detach(c)


def test_bkpt_instruction_in_the_guest_stops_for_the_debugger(served):
    sm = served(duration="100s")
    c = connect(sm)
    continue_then_interrupt(c, sm)
    pc = sm.core().pc
    original = c.read(pc, 2)
    assert c.command(b"M%x,2:00be" % pc) == b"OK"       # BKPT #0
    c.send(b"c")
    stop = stop_fields(c.packet())
    assert stop["signal"] == "05" and sm.core().pc == pc
    assert c.command(b"M%x,2:%s" % (pc, original.hex().encode())) == b"OK"
    assert continue_then_interrupt(c, sm)["signal"] == "02"
    assert not sm.core().locked_up
    detach(c)


def test_step_with_interrupts_masked_or_not(served):
    """A pending SysTick: with maskisr on a step stays in thread mode; with it off the step enters the handler."""
    sm = served(duration="100s")
    core = sm.core()
    c = connect(sm)
    continue_then_interrupt(c, sm)
    assert c.monitor("maskisr on").startswith("interrupts are masked")
    assert c.command(b"M%x,4:%s" % (ICSR, PENDSTSET.to_bytes(4, "little").hex().encode())) == b"OK"
    now = sm.machine.clock.now
    for _ in range(5):
        assert stop_fields(c.command(b"vCont;s:1"))["signal"] == "05"
        assert core.reg("xpsr") & 0x1FF == 0
    assert c.monitor("maskisr off").startswith("interrupts are not masked")
    c.command(b"s")
    assert core.reg("xpsr") & 0x1FF == 15                # SysTick entered
    vector = int.from_bytes(c.read(core.scs.regs["VTOR"] + 15 * 4, 4), "little")
    assert core.pc == vector & ~1
    assert sm.machine.clock.now == now                   # steps never move the clock
    detach(c)


def test_systick_does_not_fire_during_single_steps(served, build_firmware):
    sm = served(apps={"io0": build_firmware("context_switch")}, duration="100s")
    core = sm.core()
    c = connect(sm)
    run_until(c, sm, lambda: "thread B: 2" in sm.machine.uart_text())
    now = sm.machine.clock.now
    pending = 15 in core.state.pending
    before = core.instructions
    for _ in range(300):
        assert stop_fields(c.command(b"s"))["signal"] == "05"
    assert sm.machine.clock.now == now
    if not pending:
        assert 15 not in core.state.pending
    assert core.instructions - before <= 300
    assert continue_then_interrupt(c, sm)["signal"] == "02"
    assert sm.machine.clock.now > now
    detach(c)


def test_step_of_a_sleeping_core_waits_for_its_interrupt(served, build_firmware):
    sm = served(apps={"io0": build_firmware("blink_button")}, duration="100s")
    core = sm.core()
    c = connect(sm)
    run_until(c, sm, lambda: core.sleeping)                  # halt it while it sleeps in WFI (it mostly does)
    now = sm.machine.clock.now
    stop = stop_fields(c.command(b"s"))                  # returns when an interrupt woke the core
    assert stop["signal"] == "05" and not core.sleeping and sm.machine.clock.now > now
    detach(c)


def test_step_of_a_core_asleep_forever_is_interrupted(served, build_firmware, gdb_target_elf):
    # io1 keeps the machine busy (with nothing scheduled and every core asleep, a run ends at once)
    sm = served(apps={"io0": build_firmware("hello"), "io1": gdb_target_elf}, duration="100s", debug=["io0"])
    core = sm.core()
    c = connect(sm)
    run_until(c, sm, lambda: core.sleeping and "hello: done" in sm.machine.uart_text())  # cpsid i; wfi, forever
    c.send(b"s")
    c.sock.settimeout(0.3)
    with pytest.raises(OSError):
        c.packet()
    c.sock.settimeout(20)
    assert interrupt(c)["signal"] == "02"
    assert core.sleeping
    detach(c)


def test_guest_fault_is_reported_then_ends_the_run(served, build_firmware):
    sm = served(apps={"io0": build_firmware("busfault")}, stop_on_fault=True, duration="1s")
    c = connect(sm)
    c.send(b"c")
    stop = stop_fields(c.packet())
    assert stop["signal"] == "0a"                        # SIGBUS
    assert sm.core().locked_up
    c.send(b"c")                                         # nothing can run: the run ends on the fault
    assert c.packet() == b"X0a"
    assert sm.finish().reason == "fault"


def test_monitor_commands(served, gdb_target_elf):
    sm = served(duration="100s")
    syms = symbols(gdb_target_elf)
    core = sm.core()
    c = connect(sm)
    assert "maskisr" in c.monitor("help")
    run_to(c, syms["gdb_busy_loop"])
    assert "gdb_target: busy" in c.monitor("uart 2")
    assert "gdb_target: start" not in c.monitor("uart 2")
    assert "gdb_target: start" in c.monitor("uart all")
    assert "monitor uart:" in c.monitor("uart zero")
    text = c.monitor("halt")
    assert "io0: pc 0x%08x" % core.pc in text and "held by its debugger" in text and "io1: no app" in text
    t = c.monitor("time")
    assert f"{core.instructions} instructions" in t
    assert "unknown command" in c.monitor("frobnicate")
    assert c.monitor("maskisr maybe").startswith("monitor maskisr:")
    out = c.monitor("reset")
    assert "reset" in out and core.pc == syms["Reset_Handler"]
    assert core.reg("msp") == 0x00130000
    run_until(c, sm, lambda: sm.machine.uart_text("io0.io0_uart").count("gdb_target: add=5") == 2)  # ran again
    detach(c)


def test_two_debuggers_on_two_cores_all_stop(served, gdb_target_elf):
    sm = served(apps={"io0": gdb_target_elf, "io1": gdb_target_elf}, duration="100s")
    syms = symbols(gdb_target_elf)
    a, b = connect(sm, "io0"), connect(sm, "io1")
    io0, io1 = sm.core("io0"), sm.core("io1")
    assert a.command(b"Z0,%x,2" % syms["gdb_count_to"]) == b"OK"
    assert b.command(b"Z0,%x,2" % syms["gdb_float_compute"]) == b"OK"
    b.send(b"c")
    assert b.command(b"qC") == b"QC1"                 # the server has taken b's continue...
    still_holding(a)
    assert io1.instructions == 0                      # ...and io0's debugger still holds the machine
    a.send(b"c")
    stop = stop_fields(a.packet())                    # io0 reaches gdb_count_to first
    assert stop["signal"] == "05" and io0.pc == syms["gdb_count_to"]
    now, held = sm.machine.clock.now, io1.instructions
    assert io1.time >= now or io1.sleeping
    for _ in range(10):
        a.command(b"s")
    still_holding(a)
    assert io1.instructions == held and sm.machine.clock.now == now   # all-stop: io1 does not move
    a.send(b"c")
    stop = stop_fields(b.packet())                    # now io1 reaches gdb_float_compute
    assert stop["signal"] == "05" and io1.pc == syms["gdb_float_compute"]
    held0 = io0.instructions
    still_holding(b)
    assert io0.instructions == held0                  # io0's debugger sees "running", but time stands
    stop = interrupt(a)                               # and it may still interrupt
    assert stop["signal"] == "02"
    detach(b)
    detach(a)


def test_debugging_does_not_perturb_the_run(served, gdb_target_elf):
    """Breakpoints and watchpoints hit and resumed leave the run exactly as without a debugger (same instruction
    count, same UART output at the same virtual time); single steps may shift it by rounding only (picoseconds)."""
    from mt3620.engine.simulation.clock import parse_duration
    from mt3620.engine.machine import Machine
    syms = symbols(gdb_target_elf)
    plain = Machine()
    plain.load("io0", gdb_target_elf)
    plain.run(duration_ps=parse_duration("60ms"))
    expected = (plain.cores["io0"].instructions, plain.uart_text())

    def debugged(session) -> tuple[int, str]:
        sm = served(duration="60ms")
        c = connect(sm)
        session(c)
        c.send(b"c")
        assert sm.finish().reason == "timeout"
        return sm.core().instructions, sm.machine.uart_text()

    def breakpoints(c):
        for name in ("gdb_add", "gdb_count_to", "gdb_float_compute"):
            run_to(c, syms[name])

    def watchpoints(c):
        counter = syms["gdb_counter"]
        assert c.command(b"Z2,%x,4" % counter) == b"OK"
        for _ in range(4):
            c.send(b"c")
            assert "watch" in stop_fields(c.packet())
            assert c.command(b"z2,%x,4" % counter) == b"OK"     # as GDB does: step over with it removed
            c.command(b"s")
            assert c.command(b"Z2,%x,4" % counter) == b"OK"
        assert c.command(b"z2,%x,4" % counter) == b"OK"

    def steps(c):
        run_to(c, syms["gdb_count_to"])
        for _ in range(25):
            c.command(b"s")

    assert debugged(breakpoints) == expected
    assert debugged(watchpoints) == expected
    instructions, text = debugged(steps)
    assert text == expected[1] and abs(instructions - expected[0]) <= 1


def test_steps_through_an_it_block_one_instruction_at_a_time(served, gdb_target_elf):
    """gdb_count_to's `it hi; bxhi lr`: a step from the IT instruction stops at bxhi with the IT state in xPSR
    (Unicorn runs an IT block as one unit unless the block is cut after each instruction)."""
    sm = served()
    c = connect(sm)
    it = symbols(gdb_target_elf)["gdb_count_to"] + 22
    assert c.read(it, 4) == bytes.fromhex("88bf7047")                 # it hi; bxhi lr
    run_to(c, it)
    core = sm.core()
    before = core.instructions
    stop_fields(c.command(b"vCont;s:1"))
    assert c.register(15) == it + 2 and c.register(16) & 0x0600FC00   # at bxhi, inside the IT block
    stop_fields(c.command(b"vCont;s:1"))
    assert c.register(15) == it + 4 and not c.register(16) & 0x0600FC00   # not taken (the loop goes on)
    assert core.instructions == before + 2
    detach(c)
