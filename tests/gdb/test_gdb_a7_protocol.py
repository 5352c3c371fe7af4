"""The A7's GDB server packet by packet: a raw RSP client over loopback against tests/gdb/programs/gdb_app.c
running on the A7 as a high-level app (the musl loader, libapplibs, threads). A-profile registers, breakpoints
and steps in A32 and Thumb-2 code (IT blocks included), watchpoints, threads, signals, the auxiliary vector, the
exec file, the loader's library list, host I/O, exit and kill."""
from __future__ import annotations

import struct
import xml.etree.ElementTree as ET

import pytest
from elftools.elf.elffile import ELFFile

from gdb_helpers import RspClient, ServedMachine, a7_program, stop_fields, symbols

AT_PHDR, AT_BASE, AT_ENTRY = 3, 7, 9
PID = 100                                # the first process (emulator-defined, docs/a7.md)
MAIN = b"p64.64"
CPSR_T = 1 << 5
IT_BITS = 0x0600FC00


@pytest.fixture
def served():
    """ServedMachine factory for gdb_app in a mode; every machine is stopped after the test."""
    machines = []

    def make(mode: str = "steps", duration: str = "5s", extra_apps=None):
        elf, package = a7_program("gdb_app", (mode,) if mode != "steps" else ())
        sm = ServedMachine({"a7": package, **(extra_apps or {})}, duration=duration, debug=["a7"])
        sm.elf = elf
        machines.append(sm)
        return sm
    yield make
    for sm in machines:
        sm.stop()


def connect(sm: ServedMachine) -> RspClient:
    c = RspClient(sm.ports["a7"], ack=False)
    c.command(b"qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=arm")
    return c


def attach(served, *args, **kwargs) -> tuple[ServedMachine, RspClient, "App"]:
    """gdb_app served (served(*args, **kwargs)), a connected client and where the app's symbols are."""
    sm = served(*args, **kwargs)
    c = connect(sm)
    return sm, c, App(c, sm.elf)


def xfer(c: RspClient, obj: bytes, annex: bytes = b"") -> bytes:
    data, offset = b"", 0
    while True:
        reply = c.command(b"qXfer:%s:read:%s:%x,%x" % (obj, annex, offset, 0x200))
        assert reply[:1] in (b"m", b"l"), reply
        chunk = _unescape(reply[1:])
        data += chunk
        offset += len(chunk)
        if reply[:1] == b"l":
            return data


def _unescape(data: bytes) -> bytes:
    out, i = bytearray(), 0
    while i < len(data):
        if data[i] == 0x7D:
            out.append(data[i + 1] ^ 0x20)
            i += 2
        else:
            out.append(data[i])
            i += 1
    return bytes(out)


def auxv(c: RspClient) -> dict[int, int]:
    raw = xfer(c, b"auxv")
    return dict(struct.unpack_from("<II", raw, i) for i in range(0, len(raw), 8))


class App:
    """Where gdb_app's symbols are in the process (the PIE's load bias from AT_ENTRY, as GDB computes it)."""

    def __init__(self, c: RspClient, elf) -> None:
        with open(elf, "rb") as f:
            entry = ELFFile(f).header["e_entry"]
        self.bias = auxv(c)[AT_ENTRY] - entry
        self.syms = symbols(elf)

    def __getitem__(self, name: str) -> int:
        return self.bias + self.syms[name]


def run_to(c: RspClient, address: int, kind: int = 2) -> dict[str, str]:
    assert c.command(b"Z0,%x,%x" % (address, kind)) == b"OK"
    c.send(b"vCont;c")
    stop = stop_fields(c.packet())
    assert c.command(b"z0,%x,%x" % (address, kind)) == b"OK"
    return stop


def regs(c: RspClient) -> tuple[list[int], int, list[int], int]:
    raw = bytes.fromhex(c.command(b"g").decode())
    assert len(raw) == 16 * 4 + 4 + 32 * 8 + 4
    return (list(struct.unpack_from("<16I", raw)), struct.unpack_from("<I", raw, 64)[0],
            list(struct.unpack_from("<32Q", raw, 68)), struct.unpack_from("<I", raw, 68 + 256)[0])


def step(c: RspClient, thread: bytes = MAIN) -> dict[str, str]:
    return stop_fields(c.command(b"vCont;s:%s" % thread))


# ---- the handshake, the target description, the process documents ------------------------------------------------
def test_handshake_advertises_a_linux_process(served):
    sm = served()
    c = RspClient(sm.ports["a7"])
    features = c.command(b"qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=arm").split(b";")
    for f in (b"qXfer:features:read+", b"qXfer:auxv:read+", b"qXfer:libraries-svr4:read+", b"qXfer:exec-file:read+",
              b"qXfer:siginfo:read+", b"QPassSignals+", b"multiprocess+", b"qXfer:threads:read+", b"swbreak+",
              b"hwbreak+", b"vContSupported+"):
        assert f in features, f
    assert b"qXfer:memory-map:read+" not in features          # a process has no memory map: every page may come
    assert c.command(b"QStartNoAckMode") == b"OK"
    c.ack = False
    tdesc = xfer(c, b"features", b"target.xml").decode()
    root = ET.fromstring(tdesc.split("\n", 2)[2])
    assert root.find("osabi").text == "GNU/Linux"
    names = [r.get("name") for r in root.iter("reg")]
    assert names[:17] == [f"r{i}" for i in range(13)] + ["sp", "lr", "pc", "cpsr"]
    assert names[17:] == [f"d{i}" for i in range(32)] + ["fpscr"]
    assert c.command(b"qXfer:memory-map:read::0,100") == b""
    assert c.command(b"qAttached") == b"1" and c.command(b"qC") == b"QC" + MAIN
    assert c.command(b"qfThreadInfo") == b"m" + MAIN and c.command(b"qsThreadInfo") == b"l"
    assert c.command(b"qOffsets") == b""                      # GDB relocates the PIE from the auxv instead


def test_attach_holds_the_app_at_the_loader_entry(served, sysroot_loader):
    sm = served()
    c = connect(sm)
    stop = stop_fields(c.command(b"?"))
    assert stop["signal"] == "05" and stop["thread"] == MAIN.decode()
    aux = auxv(c)
    with open(sysroot_loader, "rb") as f:
        loader_entry = ELFFile(f).header["e_entry"]
    r, cpsr, _, _ = regs(c)
    assert r[15] == (aux[AT_BASE] + loader_entry) & ~1 == int.from_bytes(bytes.fromhex(stop["0f"]), "little")
    assert bool(cpsr & CPSR_T) == bool(loader_entry & 1)      # the entry's instruction set
    assert cpsr & 0x1F == 0x10                               # USR mode
    assert sm.machine.clock.now == 0 and sm.machine.a7.instructions == 0     # nothing has run


def test_auxv_exec_file_and_host_io_locate_the_pie(served):
    sm, c, app = attach(served)
    aux = auxv(c)
    assert app.bias and app.bias % 0x1000 == 0               # a position-independent program, moved
    with open(sm.elf, "rb") as f:
        image = f.read()
        phoff = ELFFile(f).header["e_phoff"]
    assert aux[AT_PHDR] == app.bias + phoff
    exe = xfer(c, b"exec-file", b"%x" % PID).decode()
    assert exe == f"/mnt/apps/{sm.app.component_id}/bin/app"
    assert c.command(b"vFile:setfs:0") == b"F0"
    fd = c.command(b"vFile:open:%s,0,0" % exe.encode().hex().encode())
    assert fd.startswith(b"F") and not fd.startswith(b"F-")
    fd = int(fd[1:], 16)
    data, offset = b"", 0
    while True:
        reply = c.command(b"vFile:pread:%x,%x,%x" % (fd, 0x1000, offset))
        count, _, chunk = reply[1:].partition(b";")
        chunk = _unescape(chunk)
        assert int(count, 16) == len(chunk)
        if not chunk:
            break
        data += chunk
        offset += len(chunk)
    assert data == image                                     # the program GDB reads is the one that runs
    stat = _unescape(c.command(b"vFile:fstat:%x" % fd).partition(b";")[2])
    assert len(stat) == 64 and struct.unpack_from(">Q", stat, 28)[0] == len(image)
    assert struct.unpack_from(">I", stat, 8)[0] & 0o170000 == 0o100000          # a regular file
    assert c.command(b"vFile:close:%x" % fd) == b"F0"
    assert c.command(b"vFile:close:%x" % fd) == b"F-1,9"                        # EBADF
    assert c.command(b"vFile:open:%s,0,0" % b"/no/such".hex().encode()) == b"F-1,2"   # ENOENT
    assert c.command(b"vFile:open:%s,1,0" % exe.encode().hex().encode()) == b"F-1,d"  # EACCES: read-only
    assert c.command(b"vFile:pwrite:0,0,x") == b"F-1,d" and c.command(b"vFile:unlink:2f78") == b"F-1,d"
    assert c.command(b"vFile:pread:zz,1,0") == b"E01" and c.command(b"vFile:open:2f") == b"E01"
    maps = c.command(b"vFile:open:%s,0,0" % f"/proc/{PID}/maps".encode().hex().encode())
    assert maps == b"F0"                                     # GDB's `info proc mappings` reads it
    text = _unescape(c.command(b"vFile:pread:0,%x,0" % 0x1000).partition(b";")[2]).decode()
    assert "/lib/ld-musl-armhf.so.1" in text and exe in text


def test_libraries_svr4_follows_the_musl_loader(served):
    sm, c, app = attach(served)
    before = xfer(c, b"libraries-svr4").decode()
    assert "<library " not in before                        # the loader has not run yet
    stop = run_to(c, app["main"], 4)
    assert stop["signal"] == "05" and "swbreak" in stop
    doc = ET.fromstring(xfer(c, b"libraries-svr4").decode())
    assert doc.get("version") == "1.0" and int(doc.get("main-lm"), 16)
    libraries = {lib.get("name"): lib for lib in doc.findall("library")}
    assert set(libraries) >= {"/lib/ld-musl-armhf.so.1", "/usr/lib/libapplibs.so.0"}
    memory = sm.machine.a7.system.process.memory
    for name, lib in libraries.items():
        l_addr = int(lib.get("l_addr"), 16)
        first = min(v.start for v in memory.vmas if v.name == name)
        assert l_addr == first, name                         # the load address of every library
        assert memory.find(int(lib.get("l_ld"), 16)).name == name      # its dynamic section, in its mapping
        assert lib.get("lmid") == "0x0"
    assert int(libraries["/lib/ld-musl-armhf.so.1"].get("l_addr"), 16) == auxv(c)[AT_BASE]


# ---- registers --------------------------------------------------------------------------------------------------
def test_a_profile_registers_of_the_selected_thread(served):
    sm, c, app = attach(served)
    run_to(c, app["gdb_add"])
    r, cpsr, d, fpscr = regs(c)
    assert r[0] == 2 and r[1] == 3 and r[15] == app["gdb_add"] and cpsr & CPSR_T     # Thumb code
    core = sm.machine.a7
    assert c.command(b"P0=efbeadde") == b"OK" and core.reg("r0") == 0xDEADBEEF
    assert c.command(b"P30=0000000000000840") == b"OK"          # register 48 (0x30) = d31 = 3.0
    assert core.reg("d31") == 0x4008000000000000 and c.command(b"p30") == b"0000000000000840"
    assert c.command(b"P31=00000003") == b"OK" and core.reg("fpscr") == 0x03000000     # fpscr (49)
    assert c.command(b"P10=df010000") == b"OK"                 # cpsr: a debugger cannot leave USR mode
    assert core.reg("cpsr") & 0x1F == 0x10 and core.reg("cpsr") & CPSR_T == 0
    assert c.command(b"P10=%s" % struct.pack("<I", cpsr).hex().encode()) == b"OK"
    assert c.command(b"G" + c.command(b"g")) == b"OK"
    assert c.command(b"p32") == b"E02" and c.command(b"P0=12") == b"E01" and c.command(b"G00") == b"E01"
    assert c.command(b"P0=02000000") == b"OK"
    c.send(b"vCont;c")
    assert c.packet() == b"W03;process:64"
    assert "gdb_app: sum 5 scaled 16 picked 30 counter 5" in sm.machine.uarts["a7.gdb_app"].lines


# ---- breakpoints and steps --------------------------------------------------------------------------------------
def test_breakpoints_in_a32_thumb_and_a_shared_library(served, applibs_symbols):
    sm, c, app = attach(served)
    stop = run_to(c, app["gdb_add"], 2)
    assert "swbreak" in stop and stop["thread"] == MAIN.decode()
    assert regs(c)[0][15] == app["gdb_add"] and regs(c)[1] & CPSR_T
    stop = run_to(c, app["gdb_arm_scale"], 4)
    r, cpsr, _, _ = regs(c)
    assert r[15] == app["gdb_arm_scale"] and not cpsr & CPSR_T and r[0] == 5        # A32 code
    libraries = ET.fromstring(xfer(c, b"libraries-svr4").decode())
    base = next(int(lib.get("l_addr"), 16) for lib in libraries.findall("library")
                if lib.get("name") == "/usr/lib/libapplibs.so.0")
    log_debug = base + applibs_symbols["Log_Debug"]
    assert c.command(b"Z1,%x,4" % log_debug) == b"OK"        # a hardware breakpoint inside libapplibs
    c.send(b"vCont;c")
    stop = stop_fields(c.packet())
    assert "hwbreak" in stop and regs(c)[0][15] == log_debug
    assert c.command(b"z1,%x,4" % log_debug) == b"OK"
    for i in range(6):                                       # six breakpoint register pairs on the Cortex-A7
        assert c.command(b"Z1,%x,2" % (app["gdb_count_to"] + 2 * i)) == b"OK"
    assert c.command(b"Z1,%x,2" % app["gdb_it_select"]) == b"E1c"
    assert c.command(b"Z0,50000000,2") == b"E0e"              # nothing mapped there


def test_steps_through_thumb_it_blocks_and_branches(served):
    sm, c, app = attach(served)
    core = sm.machine.a7
    for x, expected in ((0, 10), (1, 20)):
        run_to(c, app["gdb_it_select"])
        assert regs(c)[0][0] == x
        seen = []
        for _ in range(6):                                   # push, mov, cmp, ite, moveq, movne
            before = core.instructions
            stop = step(c)
            assert stop["signal"] == "05" and "swbreak" not in stop
            assert core.instructions == before + 1           # exactly one instruction per step
            r, cpsr, _, _ = regs(c)
            seen.append((r[15] - app["gdb_it_select"], cpsr & IT_BITS, r[0]))
        assert [s[0] for s in seen] == [2, 4, 6, 8, 10, 12]  # 16-bit Thumb instructions, one after the other
        assert seen[3][1] == 0x0C00 and seen[4][1] == 0x1800     # ITSTATE after `ite eq`, then advanced
        assert seen[5][1] == 0 and seen[5][2] == expected    # out of the block, the right move done
        stop = step(c)                                       # pop {r7, pc}: back into A32 code in main
        r, cpsr, _, _ = regs(c)
        assert app["main"] < r[15] < app["main"] + 0x200 and not cpsr & CPSR_T
    run_to(c, app["gdb_count_to"])
    step(c), step(c)                                         # cmp r0, #1; it lt
    assert regs(c)[1] & IT_BITS                              # inside the IT block of `bxlt lr`
    step(c)                                                  # bxlt lr, not taken (n = 5)
    assert regs(c)[0][15] == app["gdb_count_to"] + 6


def test_a_breakpoint_inside_an_it_block_stops_with_the_it_state(served):
    sm, c, app = attach(served)
    movne = app["gdb_it_select"] + 10
    for expected in (10, 20):
        stop = run_to(c, movne)
        r, cpsr, _, _ = regs(c)
        assert r[15] == movne and cpsr & IT_BITS == 0x1800   # the last instruction of the block is next
        step(c)
        r, cpsr, _, _ = regs(c)
        assert r[0] == expected and cpsr & IT_BITS == 0 and r[15] == movne + 2


def test_resuming_from_a_breakpoint_steps_over_it(served):
    sm, c, app = attach(served)
    address = app["gdb_it_select"]
    assert c.command(b"Z0,%x,2" % address) == b"OK"
    c.send(b"vCont;c")
    assert "swbreak" in stop_fields(c.packet()) and regs(c)[0][0] == 0
    c.send(b"vCont;c")                                       # the breakpoint is still there: its instruction
    assert "swbreak" in stop_fields(c.packet())              # runs, then the second call hits it
    assert regs(c)[0][15] == address and regs(c)[0][0] == 1


# ---- watchpoints ------------------------------------------------------------------------------------------------
def test_watchpoints_report_the_data_address(served):
    sm, c, app = attach(served)
    counter = app["gdb_counter"]
    assert c.command(b"Z2,%x,4" % counter) == b"OK"
    c.send(b"vCont;c")
    stop = stop_fields(c.packet())
    assert stop["watch"] == "%x" % counter and stop["thread"] == MAIN.decode()
    pc = regs(c)[0][15]
    assert app["gdb_count_to"] < pc < app["gdb_count_to"] + 0x20      # the store in the loop
    assert c.command(b"z2,%x,4" % counter) == b"OK"
    step(c)                                                  # the store completes
    assert c.read(counter, 4) == b"\x01\x00\x00\x00"
    assert c.command(b"Z3,%x,4" % counter) == b"OK"          # read watchpoint: the next lap's load
    c.send(b"vCont;c")
    stop = stop_fields(c.packet())
    assert stop["rwatch"] == "%x" % counter
    assert c.command(b"z3,%x,4" % counter) == b"OK"
    assert c.command(b"Z4,%x,4" % counter) == b"OK"          # access watchpoint: the load or the store
    c.send(b"vCont;c")
    assert stop_fields(c.packet())["awatch"] == "%x" % counter
    assert c.command(b"z4,%x,4" % counter) == b"OK"
    for i in range(4):
        assert c.command(b"Z2,%x,4" % (counter + 4 * i)) == b"OK"
    assert c.command(b"Z2,%x,4" % (counter + 16)) == b"E1c"    # four watchpoint register pairs


# ---- memory -----------------------------------------------------------------------------------------------------
def test_memory_through_the_process_mappings(served):
    sm, c, app = attach(served)
    with open(sm.elf, "rb") as f:
        elf = ELFFile(f)
        text = elf.get_section_by_name(".text")
        code = text.data()[app.syms["main"] - text["sh_addr"]:][:64]
    assert c.read(app["main"], 64) == code
    assert c.command(b"m10000,4") == b"E0e" and c.command(b"M10000,4:00000000") == b"E0e"
    assert len(c.read(0xFFFF0FE0, 8)) == 8                   # the vectors page (kuser helpers)
    # A debugger writes read-only code (as ptrace does) and the core runs what was written: gdb_add returns 42.
    patch = bytes.fromhex("2a207047")                        # movs r0, #42; bx lr
    assert c.command(b"M%x,4:%s" % (app["gdb_add"], patch.hex().encode())) == b"OK"
    assert c.read(app["gdb_add"], 4) == patch
    memory = sm.machine.a7.system.process.memory
    assert not memory.find(app["gdb_add"]).prot & 2          # still read-only for the app
    c.send(b"vCont;c")
    assert c.packet() == b"W03;process:64"
    assert "gdb_app: sum 42 scaled 127 picked 30 counter 5" in sm.machine.uarts["a7.gdb_app"].lines


# ---- threads ----------------------------------------------------------------------------------------------------
def test_threads_are_gdb_threads(served):
    sm, c, app = attach(served)
    stop = run_to(c, app["gdb_worker"], 4)
    worker = stop["thread"]
    assert worker == "p64.65"
    assert c.command(b"qC") == b"QCp64.65"
    assert c.command(b"qfThreadInfo") == b"mp64.64,p64.65"
    threads = ET.fromstring(xfer(c, b"threads").decode().split("\n", 1)[1])
    assert [(t.get("id"), t.get("name")) for t in threads] == [("p64.64", "gdb_app"), ("p64.65", "gdb_app")]
    assert regs(c)[0][15] == app["gdb_worker"]
    assert c.command(b"Hgp64.64") == b"OK"
    main_regs = regs(c)[0]
    assert main_regs[15] != app["gdb_worker"] and main_regs[13] > 0xB0000000     # main's stack, below 0xBF000000
    assert c.command(b"Hgp64.65") == b"OK" and regs(c)[0][15] == app["gdb_worker"]
    assert c.command(b"Tp64.65") == b"OK" and c.command(b"Tp64.99") == b"E01"
    assert c.command(b"Hgp64.99") == b"E01"
    extra = bytes.fromhex(c.command(b"qThreadExtraInfo,p64.64").decode()).decode()
    assert extra.startswith("gdb_app")
    c.send(b"vCont;c")
    assert c.packet() == b"W03;process:64"


def test_resuming_one_thread_keeps_the_others_stopped(served):
    sm, c, app = attach(served)
    run_to(c, app["gdb_worker"], 4)
    stage = app["gdb_stage"]
    c.send(b"vCont;c:p64.64")                               # main only: it waits for a worker that never runs
    sm.wait_windows(30)
    c.raw(b"\x03")
    stop = stop_fields(c.packet())
    assert stop["signal"] == "02" and stop["thread"] == "p64.64"
    assert c.read(stage, 4) == b"\x00\x00\x00\x00"
    assert c.command(b"Hgp64.65") == b"OK" and regs(c)[0][15] == app["gdb_worker"]
    c.send(b"vCont;c")                                       # everybody again
    assert c.packet() == b"W03;process:64"


def test_stepping_a_thread_blocked_in_a_syscall_waits_for_the_call(served):
    sm = served("sleeper")
    c = connect(sm)
    sleeper = None
    for _ in range(50):                  # stop while the sleeper is inside a sleep that has not ended yet
        c.send(b"vCont;c")
        sm.wait_windows(3)
        c.raw(b"\x03")
        stop_fields(c.packet())
        threads = sm.machine.a7.system.process.threads
        sleeper = threads[1] if len(threads) > 1 else None
        if sleeper is not None and sleeper.state == sleeper.BLOCKED and not sleeper.wake_pending:
            break
    assert sleeper.state == sleeper.BLOCKED and not sleeper.wake_pending
    extra = bytes.fromhex(c.command(b"qThreadExtraInfo,p64.65").decode()).decode()
    assert "waiting" in extra
    assert c.command(b"Hgp64.65") == b"OK"
    pc = regs(c)[0][15]
    before = sm.machine.clock.now
    stop = step(c, b"p64.65")
    assert stop["signal"] == "05" and stop["thread"] == "p64.65"
    assert sm.machine.clock.now > before                     # the machine ran until the sleep ended
    assert regs(c)[0][15] == pc and sleeper.state == sleeper.RUNNABLE     # just past the SVC
    step(c, b"p64.65")
    assert regs(c)[0][15] != pc


# ---- Ctrl-C, signals, exit, kill --------------------------------------------------------------------------------
def test_ctrl_c_stops_a_busy_app_and_time_stands_still(served):
    sm, c, app = attach(served, "busy")
    c.send(b"vCont;c")
    sm.wait_for(lambda: any("busy" in line for line in sm.machine.uarts["a7.gdb_app"].lines))
    sm.wait_windows(5)
    c.raw(b"\x03")
    stop = stop_fields(c.packet())
    assert stop["signal"] == "02" and stop["thread"] == "p64.64"
    assert app["main"] <= regs(c)[0][15] < app["main"] + 0x200
    now, spin = sm.machine.clock.now, c.read(app["gdb_spin"], 4)
    for _ in range(3):
        assert c.command(b"qC") == b"QCp64.64"
    assert sm.machine.clock.now == now and c.read(app["gdb_spin"], 4) == spin
    c.raw(b"\x03")                                           # a second Ctrl-C while stopped: no second reply
    assert c.command(b"qC") == b"QCp64.64"


def test_a_crash_stops_in_the_debugger_before_the_crash_report(served):
    sm = served("crash")
    c = connect(sm)
    c.send(b"vCont;c")
    stop = stop_fields(c.packet())
    assert stop["signal"] == "0b" and stop["thread"] == "p64.64"
    pc = regs(c)[0][15]
    siginfo = xfer(c, b"siginfo")
    assert struct.unpack_from("<iiiI", siginfo) == (11, 0, 1, 0)    # SIGSEGV, SEGV_MAPERR, address 0
    assert sm.machine.faults == [] and sm.app.running        # no crash report yet
    c.send(b"vCont;c")                                       # resumed without the signal: it faults again
    stop = stop_fields(c.packet())
    assert stop["signal"] == "0b" and regs(c)[0][15] == pc
    c.send(b"vCont;C0b:p64.64")                              # pass it: the app dies of it
    assert c.packet() == b"X0b;process:64"
    assert c.closed_by_server()
    sm.wait_for(lambda: sm.machine.faults)
    assert "SIGSEGV at PC 0x%08x accessing 0x00000000" % pc in str(sm.machine.faults[0])
    assert any("thread 100: SIGSEGV" in m for m in sm.messages)


def test_detaching_delivers_a_signal_the_debugger_held(served):
    sm = served("crash")
    c = connect(sm)
    c.send(b"vCont;c")
    assert stop_fields(c.packet())["signal"] == "0b"
    assert c.command(b"D;64") == b"OK"
    sm.wait_for(lambda: sm.machine.faults)                   # the app dies of it, with its crash report
    assert "SIGSEGV" in str(sm.machine.faults[0]) and sm.app.term_signal == 11


def test_malformed_and_unknown_requests_get_error_replies(served):
    sm = served()
    c = connect(sm)
    for packet, reply in [(b"Hgp64.zz", b"E01"), (b"Hgp64.99", b"E01"), (b"Hcp64.-1", b"OK"), (b"Tpzz.1", b"E01"),
                          (b"vCont;c:pzz.1", b"E01"), (b"vCont;c:p64.99", b"OK"), (b"vCont;Czz", b"E01"),
                          (b"qXfer:auxv:read::zz,10", b"E01"), (b"qXfer:siginfo:read::0,80", b"E0e"),
                          (b"qXfer:libraries-svr4:write::0,10", b""), (b"vFile:open:zz,0,0", b"E01"),
                          (b"vFile:readlink:%s" % b"/lib/ld-musl-armhf.so.1".hex().encode(),
                           b"F1c;arm-linux-musleabihf/libc.so"),
                          (b"vFile:readlink:%s" % b"/lib".hex().encode(), b"F-1,16"),
                          (b"QPassSignals:zz", b"E01"), (b"Z0,10000,2", b"E0e"), (b"m0,4", b"E0e"),
                          (b"P10=00", b"E01"), (b"qThreadExtraInfo,p64.99", b"657869746564")]:
        assert c.command(packet) == reply, packet
    assert stop_fields(c.command(b"?"))["thread"] == "p64.64"      # the session goes on
    c.send(b"vCont;c")
    assert c.packet() == b"W03;process:64"


def test_passed_signals_do_not_stop(served):
    sm = served("crash")
    c = connect(sm)
    assert c.command(b"QPassSignals:0e;0b") == b"OK"         # SIGALRM, SIGSEGV
    c.send(b"vCont;c")
    assert c.packet() == b"X0b;process:64"


def test_exit_and_kill_end_the_session_not_the_machine(served, gdb_target_elf):
    sm = served("steps", extra_apps={"io0": gdb_target_elf})
    c = connect(sm)
    c.send(b"vCont;c")
    assert c.packet() == b"W03;process:64"
    assert c.closed_by_server()
    io0 = sm.machine.cores["io0"].instructions
    sm.wait_windows(5)
    assert sm.machine.cores["io0"].instructions > io0       # the IO core runs on
    busy = served("busy")
    c = connect(busy)
    assert c.command(b"vKill;64") == b"OK"
    assert c.closed_by_server()
    busy.wait_for(lambda: not busy.app.running)
    assert busy.app.term_signal == 9                         # SIGKILL, as gdbserver kills its inferior


def test_all_stop_across_the_a7_and_both_io_cores(served, gdb_target_elf):
    """A breakpoint in the A7 app stops the clock and both IO cores; continuing lets all three run again."""
    sm, c, app = attach(served, "busy", extra_apps={"io0": gdb_target_elf, "io1": gdb_target_elf})
    run_to(c, app["main"], 4)
    io0, io1 = sm.machine.cores["io0"], sm.machine.cores["io1"]
    frozen = (sm.machine.clock.now, io0.instructions, io1.instructions, sm.machine.a7.instructions)
    for _ in range(3):
        assert c.command(b"qC") == b"QCp64.64"               # round trips through the held machine's thread
    step(c)
    assert (sm.machine.clock.now, io0.instructions, io1.instructions) == frozen[:3]
    assert sm.machine.a7.instructions == frozen[3] + 1       # only the stepped instruction ran
    c.send(b"vCont;c")
    sm.wait_windows(10)
    c.raw(b"\x03")
    assert stop_fields(c.packet())["signal"] == "02"
    assert sm.machine.clock.now > frozen[0] and io0.instructions > frozen[1] and io1.instructions > frozen[2]


def test_debugging_does_not_perturb_the_run(served, applibs_symbols):
    """Stops at breakpoints (A32, Thumb, the library, the thread) cost nothing: the app ends with the same
    instruction count and output as a run without a debugger."""
    from mt3620.engine.machine import Machine
    from mt3620.sphere_os.apps import SphereOs
    _, package = a7_program("gdb_app")
    plain = Machine()
    plain_app = SphereOs.of(plain).launch(package)
    plain.run(duration_ps=5 * 10**12, until=lambda: not plain_app.running)
    assert plain_app.exit_code == 3
    reference = (plain.a7.instructions, list(plain.uarts["a7.gdb_app"].lines))
    sm, c, app = attach(served)
    run_to(c, app["main"], 4)
    libraries = ET.fromstring(xfer(c, b"libraries-svr4").decode())
    base = next(int(lib.get("l_addr"), 16) for lib in libraries.findall("library")
                if lib.get("name") == "/usr/lib/libapplibs.so.0")
    hits = 0
    for address, kind in ((app["gdb_add"], 2), (app["gdb_arm_scale"], 4), (app["gdb_it_select"] + 10, 2),
                          (app["gdb_worker"], 4), (base + applibs_symbols["Log_Debug"], 4)):
        assert c.command(b"Z0,%x,%x" % (address, kind)) == b"OK"
    while True:
        c.send(b"vCont;c")
        reply = c.packet()
        if reply.startswith(b"W"):
            break
        hits += 1
    assert reply == b"W03;process:64" and hits == 8
    assert (sm.machine.a7.instructions, list(sm.machine.uarts["a7.gdb_app"].lines)) == reference
