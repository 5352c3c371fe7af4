"""A real gdb-multiarch against `mt3620 run --hl ... --gdb-port a7=0 --gdb-wait`, debugging the position-independent
high-level app tests/gdb/programs/gdb_app.c on the A7 out of the box: `break main`, step/next/finish, the shared
libraries (the musl loader, libapplibs) with their symbols, backtraces through libapplibs, breakpoints in a
library, watchpoints, threads, Ctrl-C, a crash, the program read from the target, and an IO core debugged at the
same time."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from gdb_helpers import GDB, Emulator, a7_program, run_gdb, start_gdb

pytestmark = pytest.mark.usefixtures("gdb_multiarch", "sysroot")

REPO = Path(__file__).resolve().parents[2]
# Where GDB finds the sources: the app's (built with a `firmware` prefix map) and libapplibs' (firmware/applibs).
SOURCES = [f"directory {REPO}", f"directory {REPO / 'tests' / 'gdb' / 'programs'}"]


def debug_app(commands: list[str], args: tuple[str, ...] = ()) -> tuple[str, int, Emulator]:
    """gdb_app (with CmdArgs `args`) on the A7 of `mt3620 run --gdb-wait`, GDB running SOURCES + `commands` until
    it ends: (GDB's output, the emulator's exit code, the emulator with its output lines)."""
    elf, package = a7_program("gdb_app", args)
    with Emulator({"a7": package}) as emu:
        out = run_gdb(elf, emu.ports["a7"], SOURCES + commands)
        code = emu.wait()
    return out, code, emu


def test_break_main_of_a_pie_app_then_step_next_finish(tmp_path):
    out, code, emu = debug_app([
        "info sharedlibrary", "break main", "continue", "break gdb_add", "continue", "bt", "finish",
        "step", "step", "finish", "next", "next", "p gdb_counter", "next", "p gdb_counter",
        "info sharedlibrary", "continue"])
    # Held at the loader's first instruction (--gdb-wait), symbols of the loader read from the target.
    assert re.search(r"0x[0-9a-f]+ in _dlstart \(\) from target:/lib/ld-musl-armhf\.so\.1", out)
    assert re.search(r"Breakpoint 1 at 0x4[0-9a-f]{5}: file .*gdb_app\.c", out)      # relocated to the PIE's base
    assert re.search(r"Breakpoint 1, main \(argc=1, argv=0x[0-9a-f]+\) at .*gdb_app\.c:\d+", out)
    assert "const char *mode = argc > 1" in out                                      # the source line
    assert "Breakpoint 2, gdb_add (a=2, b=3) at" in out
    assert re.search(r"#1  0x[0-9a-f]+ in main \(.*\) at .*gdb_app\.c:\d+", out)
    assert "Value returned is $1 = 5" in out
    assert "gdb_arm_scale (x=5) at" in out                                           # `step` into A32 code
    assert "Value returned is $2 = 16" in out
    assert "$3 = 0" in out and "$4 = 5" in out                                        # `next` over gdb_count_to
    assert re.search(r"0x4[0-9a-f]+\s+0x4[0-9a-f]+\s+Yes \(\*\)\s+target:/lib/ld-musl-armhf\.so\.1", out)
    assert re.search(r"0x4[0-9a-f]+\s+0x4[0-9a-f]+\s+Yes\s+target:/usr/lib/libapplibs\.so\.0", out)
    assert "[Inferior 1 (process 100) exited with code 03]" in out
    assert code == 0 and any("app gdb_app exited with status 3" in line for line in emu.stderr_lines)


def test_the_program_and_its_symbols_come_from_the_target():
    """No local copy of the program: GDB asks for the exec file and reads it (and the libraries) over vFile."""
    _, package = a7_program("gdb_app")
    with Emulator({"a7": package}) as emu:
        import subprocess
        args = [GDB, "-batch", "-nx", "-ex", "set pagination off", "-ex", f"target remote 127.0.0.1:{emu.ports['a7']}",
                "-ex", "break gdb_add", "-ex", "continue", "-ex", "p $pc == gdb_add + 4", "-ex", "info inferiors",
                "-ex", "kill"]
        out = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60).stdout
        emu.wait()
    assert re.search(r"Reading /mnt/apps/[0-9a-f-]+/bin/app from remote target", out)
    assert "Breakpoint 1, gdb_add (a=2, b=3)" in out
    assert "$1 = 1" in out                                   # the breakpoint is where the symbols say
    assert re.search(r"process 100\s+1 \(remote 127\.0\.0\.1:\d+\)\s+target:/mnt/apps/[0-9a-f-]+/bin/app", out)
    assert "[Inferior 1 (process 100) killed]" in out
    assert any("app gdb_app killed by SIGKILL" in line for line in emu.stdout_lines)


def test_backtrace_through_libapplibs_and_breakpoints_in_a_library():
    out, _, _ = debug_app([
        "set breakpoint pending on", "break write_all", "break Log_Debug", "continue", "bt", "delete 2",
        "continue", "bt", "p (char)text[0]", "delete", "continue"])
    assert "Breakpoint 2 (Log_Debug) pending." in out        # libapplibs is not loaded yet at the loader's entry
    assert re.search(r"Breakpoint 2, Log_Debug \(fmt=0x[0-9a-f]+ \"gdb_app: start %s\\n\"\) at "
                     r"firmware/applibs/log\.c:\d+", out)
    assert re.search(r"#1  0x[0-9a-f]+ in main \(", out)
    frames = re.findall(r"^#(\d)  (?:0x[0-9a-f]+ in )?(\w+) \(", out, re.M)
    names = [name for _, name in frames]
    i = names.index("write_all")
    assert names[i:i + 4] == ["write_all", "Log_DebugVarArgs", "Log_Debug", "main"]    # app <- libapplibs
    assert re.search(r'Breakpoint 1\.1, write_all \(text=0x[0-9a-f]+ "gdb_app: start steps\\n", length=21\)', out)
    assert "$1 = 103 'g'" in out
    assert "[Inferior 1 (process 100) exited with code 03]" in out


def test_watchpoint_on_a_global():
    out, _, _ = debug_app([
        "break main", "continue", "watch gdb_counter", "continue", "continue", "bt 1", "delete",
        "rwatch gdb_counter", "continue", "delete", "continue"])
    assert "Hardware watchpoint 2: gdb_counter\n\nOld value = 0\nNew value = 1" in out
    assert "Old value = 1\nNew value = 2" in out
    assert re.search(r"#0  gdb_count_to \(n=.*\) at .*gdb_app\.c:\d+", out)
    assert "Hardware read watchpoint 3: gdb_counter\n\nValue = 2" in out
    assert "[Inferior 1 (process 100) exited with code 03]" in out


def test_threads_of_the_app_are_gdb_threads():
    out, _, _ = debug_app([
        "break gdb_worker", "continue", "info threads", "thread 1", "p $sp > 0xb0000000", "thread 2",
        "p (char *)arg", "delete", "continue"])
    assert "[New Thread 100.101]" in out
    assert re.search(r'Thread 2 "gdb_app" hit Breakpoint 1, gdb_worker \(arg=0x[0-9a-f]+\) at', out)
    assert re.search(r'  1    Thread 100\.100 "gdb_app" ', out)
    assert re.search(r'\* 2    Thread 100\.101 "gdb_app" gdb_worker', out)
    assert "[Switching to thread 1 (Thread 100.100)]" in out and "$1 = 1" in out
    assert '$2 = 0x' in out and '"one"' in out
    assert "[Inferior 1 (process 100) exited with code 03]" in out


def test_ctrl_c_stops_a_busy_app():
    elf, package = a7_program("gdb_app", ("busy",))
    with Emulator({"a7": package}) as emu:
        gdb = start_gdb(elf, emu.ports["a7"], SOURCES + [
            "continue", "bt 1", "p gdb_spin > 1000", "info threads", "detach"])
        emu.stdout.wait(r"\[a7\.gdb_app\] gdb_app: busy")     # GDB has resumed the app (--gdb-wait)
        gdb.interrupt()
        out = gdb.finish()
    assert "Program received signal SIGINT, Interrupt." in out
    assert re.search(r"#0  (0x[0-9a-f]+ in )?main \(", out)
    assert "$1 = 1" in out
    assert "[Inferior 1 (process 100) detached]" in out


def test_a_crash_stops_in_gdb_before_the_crash_report():
    out, code, emu = debug_app([
        "continue", "bt 1", "p $_siginfo.si_signo", "p $_siginfo._sifields._sigfault.si_addr",
        "p gdb_null_pointer", "continue"], args=("crash",))
    assert "Program received signal SIGSEGV, Segmentation fault." in out
    assert re.search(r"#0  0x[0-9a-f]+ in main \(.*\) at .*gdb_app\.c:\d+", out)
    assert "$1 = 11" in out and "$2 = (void *) 0x0" in out and "$3 = (int * volatile) 0x0" in out
    assert "Program terminated with signal SIGSEGV, Segmentation fault." in out
    assert code == 3                                          # then the crash report, as without a debugger
    report = "\n".join(emu.stderr_lines)
    assert "gdb: a7: thread 100: SIGSEGV at PC 0x" in report
    assert re.search(r"mt3620: guest fault: a7: app gdb_app: SIGSEGV at PC 0x[0-9a-f]+ accessing 0x00000000", report)
    assert report.index("gdb: a7: thread 100: SIGSEGV") < report.index("mt3620: guest fault")


def test_two_debuggers_the_a7_app_and_an_io_core(gdb_target_elf):
    elf, package = a7_program("gdb_app")
    with Emulator({"a7": package, "io0": gdb_target_elf}) as emu:
        a = start_gdb(elf, emu.ports["a7"], SOURCES + [
            "break gdb_count_to", "continue", "monitor halt", "next", "finish", "p gdb_counter", "detach"])
        b = start_gdb(gdb_target_elf, emu.ports["io0"], [
            "break gdb_float_compute", "continue", "finish", "monitor halt", "detach"])
        out_a = a.finish()
        out_b = b.finish()
    assert "Breakpoint 1, gdb_count_to (n=5)" in out_a
    assert re.search(r"a7: app gdb_app \(pid 100, 1 thread\), ready, held by its debugger", out_a)
    assert "$1 = 5" in out_a and "[Inferior 1 (process 100) detached]" in out_a
    assert "Value returned is $1 = 5.75" in out_b and "detached" in out_b
    assert re.search(r"io0: pc 0x[0-9a-f]+, ready, held by its debugger", out_b)


def test_attaching_to_a_running_app_finds_its_libraries_and_mappings():
    """Without --gdb-wait the app runs; `target remote` stops it where it is (ptrace's attach) and GDB finds the
    PIE's load address and the loaded libraries from the loader's list, and /proc through the target's files."""
    elf, package = a7_program("gdb_app", ("busy",))
    with Emulator({"a7": package}, wait=False) as emu:
        emu.stdout.wait(r"gdb_app: busy")
        out = run_gdb(elf, emu.ports["a7"], SOURCES + [
            "bt 1", "info sharedlibrary", "info proc mappings", "p gdb_spin > 0", "detach"])
        emu.stderr.wait(r"gdb: a7: debugger detached")
    assert re.search(r"#0  (0x[0-9a-f]+ in )?main \(", out)
    assert re.search(r"Yes\s+target:/usr/lib/libapplibs\.so\.0", out) and "target:/lib/ld-musl-armhf.so.1" in out
    assert re.search(r"0x400000\s+0x401000\s+0x1000\s+0x0\s+r--p\s+/mnt/apps/[0-9a-f-]+/bin/app", out)
    assert re.search(r"0xffff0000\s+0xffff1000\s+0x1000\s+0x0\s+r-xp\s+\[vectors\]", out)
    assert "$1 = 1" in out and "[Inferior 1 (process 100) detached]" in out


def test_an_eventloop_callback_backtraces_through_libapplibs_into_main():
    """hl_blink's LED timer: the callback runs from libapplibs' EventLoop_Run, called by the app's main."""
    from mt3620.firmware.toolchain import DEFAULT_OUT, ToolchainError, hl_app_path
    try:
        package = hl_app_path("hl_blink")
    except ToolchainError as exc:
        pytest.skip(f"cannot build hl_blink: {exc}")
    with Emulator({"a7": package}) as emu:
        out = run_gdb(DEFAULT_OUT / "hl_blink.elf", emu.ports["a7"], [
            "set breakpoint pending on", "break on_blink", "continue", "bt", "p led_level", "continue",
            "p led_level", "kill"])
        emu.wait()
    assert re.search(r"Breakpoint 1, on_blink \(el=0x[0-9a-f]+, fd=\d+", out)
    assert re.search(r"#1  0x[0-9a-f]+ in EventLoop_Run \(el=0x[0-9a-f]+, .*\) at firmware/applibs/eventloop\.c:\d+",
                     out)
    assert re.search(r"#2  0x[0-9a-f]+ in main \(.*\) at .*hl_blink/main\.c:\d+", out)
    assert "$1 = 1 '\\001'" in out and "$2 = 0 '\\000'" in out                 # the LED toggled between the hits
