"""rtos_pingpong_qemu: the kernel, port and ping-pong of rtos_pingpong (firmware/rtos/, the same sources) on QEMU's
mps2-an386 board through the board layer in firmware/rtos_qemu/, the reference scripts/bench times the engine against.
The QEMU run needs qemu-system-arm (bash scripts/setup --test installs it; CI does); the build checks need only the
firmware compiler."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from mt3620.engine.machine.loader import read_elf
from mt3620.firmware import toolchain
from mt3620.testing.pytest_plugin import require_compiler, require_program


@pytest.fixture
def cc():
    return require_compiler()


@pytest.fixture
def qemu(cc) -> str:
    return require_program("qemu-system-arm", "bash scripts/setup --test")


def _qemu(qemu: str, name: str, board: str = "mps2-an386") -> subprocess.CompletedProcess:
    return subprocess.run([qemu, "-M", board, "-nographic", "-monitor", "none", "-icount", "shift=0",
                           "-semihosting-config", "enable=on,target=native", "-kernel",
                           str(toolchain.firmware_path(name))], capture_output=True, text=True, timeout=120)


def test_pingpong_runs_its_round_trips_on_qemu_with_right_answers_and_exits(qemu):
    res = _qemu(qemu, "rtos_pingpong_qemu")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == "rtos_pingpong: start at 25000000 Hz"
    stop = re.fullmatch(r"rtos_pingpong: stop after (\d+) round trips, (\d+) context switches, (\d+) ticks, "
                        r"answers ok, fp ok", lines[1])
    assert stop, lines
    trips, switches, ticks = (int(g) for g in stop.groups())
    assert trips == toolchain.PINGPONG_QEMU_ROUND_TRIPS
    # Two PendSV switches per round trip, and the first switch away from the start.
    assert 2 * trips <= switches <= 2 * trips + 10
    exit_line = re.fullmatch(r"rtos_qemu: exit after (\d+) us (\d+) ns of virtual time", lines[2])
    assert exit_line and lines[3:] == [], lines
    virtual_ns = int(exit_line.group(1)) * 1000 + int(exit_line.group(2))
    # SysTick ticks at 1 kHz of the board's 25 MHz clock: as many ticks as whole milliseconds of virtual time (one
    # fewer if a millisecond ended while the report was printed, between the two readings).
    assert virtual_ns // 1_000_000 - 1 <= ticks <= virtual_ns // 1_000_000
    # With -icount shift=0 a nanosecond is an instruction: a round trip is a few hundred (455 on the engine).
    assert 400 <= virtual_ns / trips <= 520


def test_the_one_round_trip_twin_stops_at_once(qemu):
    res = _qemu(qemu, "rtos_pingpong_qemu_1")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[1] == ("rtos_pingpong: stop after 1 round trips, 3 context switches, 0 ticks, "
                                          "answers ok, fp ok")


def test_a_fault_is_one_line_and_a_failure_status(qemu):
    # mps2-an385 is the same board with a Cortex-M3: no FPU, so the first FP instruction is a NOCP UsageFault,
    # escalated to HardFault (UsageFault is not enabled), which the board layer reports before leaving QEMU.
    res = _qemu(qemu, "rtos_pingpong_qemu", board="mps2-an385")
    assert res.returncode == 1
    assert res.stdout.splitlines() == ["rtos_pingpong: start at 25000000 Hz",
                                       "rtos_qemu: unhandled exception 3 (CFSR=0x00080000 HFSR=0x40000000)"]


def test_only_the_qemu_builds_carry_the_stop_and_the_board_layer(cc):
    mt3620 = read_elf(toolchain.firmware_path("rtos_pingpong").read_bytes(), "rtos_pingpong.elf")[2]
    qemu = read_elf(toolchain.firmware_path("rtos_pingpong_qemu").read_bytes(), "rtos_pingpong_qemu.elf")[2]
    assert "pingpong_stop" not in mt3620 and "pingpong_stop" in qemu
    # The board's table at 0x00000000, where the M4 of mps2-an386 reads it at reset; the kernel's handlers in it.
    assert qemu["ExceptionVectorTable"] == 0 and {"PendSV_Handler", "SVC_Handler", "k_switched"} <= set(qemu)


def test_files_shared_from_other_folders_are_inputs_of_the_build(cc, tmp_path):
    src = tmp_path / "firmware"
    shutil.copytree(toolchain.FIRMWARE_DIR, src, ignore=shutil.ignore_patterns("build", "__pycache__"))
    out = tmp_path / "out"
    elf = toolchain.build("rtos_pingpong_qemu_1", out, src_dir=src)
    stamp = (out / "rtos_pingpong_qemu_1.elf.stamp").read_text()
    assert toolchain.build("rtos_pingpong_qemu_1", out, src_dir=src) == elf
    assert (out / "rtos_pingpong_qemu_1.elf.stamp").read_text() == stamp          # up to date: not rebuilt
    fmt = src / "common" / "fmt.c"
    fmt.write_text(fmt.read_text() + "\n/* changed */\n")
    toolchain.build("rtos_pingpong_qemu_1", out, src_dir=src)
    assert (out / "rtos_pingpong_qemu_1.elf.stamp").read_text() != stamp          # the shared formatter changed
    (src / "rtos" / "pingpong_stop.h").unlink()
    with pytest.raises(toolchain.ToolchainError, match="firmware source missing: .*pingpong_stop.h"):
        toolchain.build("rtos_pingpong_qemu_1", out, src_dir=src)
