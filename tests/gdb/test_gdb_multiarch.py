"""A real gdb-multiarch in batch mode against `mt3620 run --gdb-port ...` on loopback, debugging the project's
gdb_target firmware: breakpoints, step and next, registers with xPSR and the FPU, memory, watchpoints, Ctrl-C,
two debuggers on two cores, detach and re-attach, monitor commands, a killed debugger, a guest fault."""
from __future__ import annotations

import re

import pytest
from elftools.elf.elffile import ELFFile

from gdb_helpers import Emulator, run_gdb, start_gdb, symbols

pytestmark = pytest.mark.usefixtures("gdb_multiarch")


def test_break_step_next_finish_and_backtrace(gdb_target_elf):
    with Emulator({"io0": gdb_target_elf}) as emu:
        out = run_gdb(gdb_target_elf, emu.ports["io0"], [
            "break gdb_add", "continue", "bt", "finish",
            "next", "step", "next", "next", "info line *$pc", "p n", "finish", "p gdb_counter", "detach"])
    assert "Breakpoint 1, gdb_add (a=2, b=3) at gdb_target/main.c:12" in out
    assert re.search(r"#1  0x[0-9a-f]+ in main \(\) at gdb_target/main\.c:40", out)
    assert "Value returned is $1 = 5" in out
    assert "gdb_count_to (n=10) at gdb_target/main.c:17" in out      # `step` entered the function
    assert re.search(r"\n1[78]\s", out)                              # `next` moved through its loop lines
    assert "$2 = 10" in out                                          # p n
    assert "main () at gdb_target/main.c:42" in out                  # `finish` returned to the caller
    assert "$3 = 10" in out                                          # gdb_counter after the loop
    assert "[Inferior 1 (Remote target) detached]" in out


def test_registers_xpsr_and_fpu(gdb_target_elf):
    with Emulator({"io0": gdb_target_elf}) as emu:
        out = run_gdb(gdb_target_elf, emu.ports["io0"], [
            "break gdb_float_compute", "continue", "p $s0", "p x", "finish", "p $s0", "p/x $d0",
            "p/x $xpsr", "p/x $fpscr", "p/x $control", "p/x $msp == $sp", "p/x $primask",
            "set $r0 = 0x1234abcd", "p/x $r0", "set $s1 = 2.5", "p $s1",
            "info registers xpsr", "info all-registers", "detach"])
    assert "Breakpoint 1, gdb_float_compute (x=3) at gdb_target/main.c:24" in out
    assert "$1 = 3" in out and "$2 = 3" in out
    assert "Value returned is $3 = 5.75" in out and "$4 = 5.75" in out
    assert "$5 = 0x40b80000" in out                                  # d0 low half is s0 = 5.75f
    xpsr = int(re.search(r"\$6 = (0x[0-9a-f]+)", out).group(1), 16)
    assert xpsr & (1 << 24) and xpsr & 0x1FF == 0                    # Thumb state, thread mode
    assert "$7 = 0x" in out                                          # fpscr readable
    control = int(re.search(r"\$8 = (0x[0-9a-f]+)", out).group(1), 16)
    assert control & 0x4                                             # FPCA: the FPU has been used
    assert "$9 = 0x1" in out and "$10 = 0x0" in out
    assert "$11 = 0x1234abcd" in out and "$12 = 2.5" in out
    for name in ("d15", "fpscr", "s31", "msp", "psp", "basepri", "faultmask"):
        assert re.search(rf"^{name}\s", out, re.M), name


def test_memory_read_write_and_a_4k_dump(gdb_target_elf, tmp_path):
    dump = tmp_path / "tcm.bin"
    with Emulator({"io0": gdb_target_elf}) as emu:
        out = run_gdb(gdb_target_elf, emu.ports["io0"], [
            "break gdb_count_to", "continue", "set var gdb_counter = 4242", "p gdb_counter",
            "x/2xw &gdb_counter", "set {char[4]}&gdb_spin = \"abc\"", "x/s &gdb_spin",
            "x/xw 0x21040014", "x/xw 0x50000000",
            f"dump binary memory {dump} 0x100000 0x101000", "next", "next", "p gdb_counter", "detach"])
    assert "$1 = 4242" in out
    assert re.search(r"<gdb_counter>:\s+0x00001092", out)
    assert '"abc"' in out
    assert re.search(r"0x21040014:\s+0x[0-9a-f]{8}", out)            # a device register (debug UART LSR)
    assert "Cannot access memory at address 0x50000000" in out
    assert "$2 = 1" in out                                           # the loop overwrote it again
    with open(gdb_target_elf, "rb") as f:
        elf = ELFFile(f)
        seg = next(s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD" and s["p_vaddr"] == 0x100000)
        image = seg.data()[:0x1000]
    assert dump.read_bytes()[:len(image)] == image                   # a 4 KB read of TCM, byte for byte


def test_watchpoints_and_hardware_breakpoint(gdb_target_elf):
    with Emulator({"io0": gdb_target_elf}) as emu:
        out = run_gdb(gdb_target_elf, emu.ports["io0"], [
            "watch gdb_counter", "continue", "continue", "delete",
            "rwatch gdb_counter", "continue", "delete",
            "hbreak gdb_float_compute", "continue", "delete",
            "awatch gdb_spin", "continue", "continue", "detach"])
    assert "Hardware watchpoint 1: gdb_counter\n\nOld value = 0\nNew value = 1" in out
    assert "Old value = 1\nNew value = 2" in out
    assert "Hardware read watchpoint 2: gdb_counter\n\nValue = 10" in out
    assert "Hardware assisted breakpoint 3 at" in out
    assert "Breakpoint 3, gdb_float_compute (x=3)" in out
    assert "Hardware access (read/write) watchpoint 4: gdb_spin\n\nValue = 0" in out
    assert re.search(r"Hardware access \(read/write\) watchpoint 4: gdb_spin\n\n(Old value = 0\nNew value = 1|"
                     r"Value = 1)", out)


def test_ctrl_c_stops_a_busy_loop(gdb_target_elf):
    with Emulator({"io0": gdb_target_elf}) as emu:
        gdb = start_gdb(gdb_target_elf, emu.ports["io0"], [
            "continue", "bt 1", "p gdb_spin > 1000", "p gdb_counter", "detach"])
        emu.stdout.wait("gdb_target: spinning")
        gdb.interrupt()
        out = gdb.finish()
    assert "Program received signal SIGINT, Interrupt." in out
    assert "#0  gdb_busy_loop () at gdb_target/main.c" in out
    assert "$1 = 1" in out and "$2 = 10" in out


def test_two_debuggers_on_two_cores_at_once(gdb_target_elf):
    with Emulator({"io0": gdb_target_elf, "io1": gdb_target_elf}) as emu:
        a = start_gdb(gdb_target_elf, emu.ports["io0"], [
            "break gdb_count_to", "continue", "p n", "next", "next", "monitor halt", "detach"])
        b = start_gdb(gdb_target_elf, emu.ports["io1"], [
            "break gdb_float_compute", "continue", "finish", "p gdb_counter", "detach"])
        out_a = a.finish()
        out_b = b.finish()
    assert "Breakpoint 1, gdb_count_to (n=10)" in out_a and "$1 = 10" in out_a
    assert re.search(r"io0: pc 0x[0-9a-f]+, ready, held by its debugger", out_a)
    assert "Value returned is $1 = 5.75" in out_b and "$2 = 10" in out_b
    assert "detached" in out_a and "detached" in out_b


def test_detach_and_reattach(gdb_target_elf):
    with Emulator({"io0": gdb_target_elf}) as emu:
        first = run_gdb(gdb_target_elf, emu.ports["io0"], ["break gdb_add", "continue", "detach"])
        assert "Breakpoint 1, gdb_add" in first and "detached" in first
        emu.stdout.wait("gdb_target: busy")
        second = run_gdb(gdb_target_elf, emu.ports["io0"], [
            "bt 1", "p gdb_counter", "p gdb_spin > 0", "info breakpoints", "detach"])
        third = run_gdb(gdb_target_elf, emu.ports["io0"], ["p gdb_spin > 0", "detach"])
        assert emu.proc.poll() is None                                # the emulation goes on
    assert "#0  gdb_busy_loop () at gdb_target/main.c" in second
    assert "$1 = 10" in second and "$2 = 1" in second
    assert "No breakpoints or watchpoints." in second
    assert "$1 = 1" in third


def test_monitor_commands_through_gdb(gdb_target_elf):
    syms = symbols(gdb_target_elf)
    with Emulator({"io0": gdb_target_elf}) as emu:
        out = run_gdb(gdb_target_elf, emu.ports["io0"], [
            "monitor help", "break gdb_count_to", "continue", "monitor uart 1", "monitor time",
            "monitor maskisr on", "stepi", "load", "compare-sections", "monitor reset", "maint flush register-cache",
            "p/x $pc", "detach"])
    assert "monitor commands" in out
    assert "Section .text, range 0x100000 -- " in out and "matched." in out and "MIS-MATCHED" not in out
    assert "gdb_target: add=5" in out
    assert re.search(r"virtual time \d+\.\d{9}s", out)
    assert "interrupts are masked during single steps" in out
    assert f"$1 = 0x{syms['Reset_Handler']:x}" in out


def test_a_killed_debugger_does_not_end_the_emulation(gdb_target_elf):
    with Emulator({"io0": gdb_target_elf}, duration="300ms") as emu:
        gdb = start_gdb(gdb_target_elf, emu.ports["io0"], ["break gdb_count_to", "continue", "shell sleep 60"])
        emu.stderr.wait("debugger attached")
        gdb.output.wait("Breakpoint 1, gdb_count_to")        # the debugger holds the machine, then sleeps
        gdb.kill()
        assert emu.wait() == 0
    assert any("gdb_target: busy" in line for line in emu.stdout_lines)
    assert any("disconnected" in line for line in emu.stderr_lines)


def test_a_guest_fault_is_seen_by_gdb_then_ends_the_run(build_firmware):
    elf = build_firmware("busfault")
    with Emulator({"io0": elf}) as emu:
        out = run_gdb(elf, emu.ports["io0"], ["continue", "p/x $pc", "continue"])
        assert emu.wait() == 3
    assert "Program received signal SIGBUS, Bus error." in out
    assert "Program terminated with signal SIGBUS, Bus error." in out
    assert any("guest fault" in line for line in emu.stderr_lines)
