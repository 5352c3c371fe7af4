"""The MT3620 in a real Renode (found by mt3620.engine.renode.runtime; the tests skip with one line when there is
none): Renode's own loader on the platform files, against the project's rules; mt3620.resc from another working
directory; the GDB servers of its macros with a real gdb-multiarch.

Every Renode here runs with a private TMPDIR (Renode deletes other $TMPDIR/renode-* folders at start-up)."""
from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from mt3620.engine import repl
from mt3620.engine.renode import runtime
from mt3620.engine.renode.platform_check import check_platform
from mt3620.peripherals.board import rdb

ROOT = Path(__file__).resolve().parents[2]
PLATFORMS = ROOT / "platforms"
RENODE = runtime.find()
FIRMWARE = ROOT / "firmware" / "build"

pytestmark = pytest.mark.usefixtures("renode_runtime")     # skips, or fails under CI, without Renode


# ---- Renode's loader and the project's rules -------------------------------------------------------------------
def test_renode_loads_the_shipped_chip_and_board():
    result = runtime.load_with_renode(RENODE, [PLATFORMS / "boards" / "mt3620-rdb.repl"],
                                      on_top_of=[PLATFORMS / "mt3620-renode.repl"])
    assert result.ok, result.error


def test_the_a7_file_is_refused_only_for_the_cpu_type_this_renode_lacks():
    has_a7 = runtime.arm_cpu_type_available(RENODE, "cortex-a7")
    result = runtime.load_with_renode(RENODE, [PLATFORMS / "mt3620-renode-a7.repl"])
    if has_a7:
        assert result.ok, result.error
    else:
        assert not result.ok and "Unknown CPU type" in result.error and "cpuA7" in result.error


# Mistakes Renode's loader knows and the project's rules cannot (they know no Renode types, constructors or
# properties), each added to the shipped chip as an update or a new entry.
RENODE_ONLY = [
    ("cpuM4_0:\n    cpuu: \"cortex-m4f\"\n", "'cpuu'"),
    ("x: CPU.CortexMM @ sysbus\n    cpuType: \"cortex-m4f\"\n", "CortexMM"),
    ("cpuM4_1:\n    PerformanceInMipz: 26\n", "PerformanceInMipz"),
    ("nvic0:\n    systickFrequenc: 26000000\n", "systickFrequenc"),
    # Renode 1.16.1 dies on an unknown enum value ("Value cannot be null") instead of naming it: still refused
    ("gic:\n    architectureVersion: .GICv9\n", "Fatal error"),
    ("nvic1:\n    init:\n        FrobnicateAll 3\n", "FrobnicateAll"),
]


def _variant(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"{name}.repl"
    path.write_text(f'using "{PLATFORMS / "mt3620-renode.repl"}"\n\n{text}')
    return path


def test_renode_refuses_what_only_it_can_know_and_the_project_rules_do_not_see(tmp_path):
    variants = [(_variant(tmp_path, f"case{i}", text), fragment) for i, (text, fragment) in enumerate(RENODE_ONLY)]
    for path, _ in variants:
        # the project's rules pass these: nothing in them is about models, wiring, or the memory map
        full = tmp_path / f"full-{path.name}"
        full.write_text(f'using "{path}"\nusing "{PLATFORMS / "mt3620-bridged.repl"}"\n')
        problems = [p for p in check_platform(repl.load_platform(full)) if p.kind == "error"]
        assert problems == [], (path.read_text(), [str(p) for p in problems])
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda v: runtime.load_with_renode(RENODE, [v[0]]), variants))
    for (path, fragment), result in zip(variants, results):
        assert not result.ok and fragment in result.error, (path.read_text(), result.error)


def test_a_renode_type_renode_knows_is_accepted_by_both(tmp_path):
    """UART.NS16550 is a valid Renode UART: Renode loads it, and the project's rules know its size (the earlier
    linter called it "size unknown"); a Renode type they know nothing of only gets a warning."""
    path = _variant(tmp_path, "ns16550", "extra_uart: UART.NS16550 @ sysbus 0x40000000\n    wideRegisters: true\n")
    assert runtime.load_with_renode(RENODE, [path]).ok
    full = tmp_path / "full.repl"
    full.write_text(f'using "{path}"\nusing "{PLATFORMS / "mt3620-bridged.repl"}"\n')
    problems = check_platform(repl.load_platform(full))
    assert [str(p) for p in problems if "extra_uart" in str(p)] == []


def test_board_pins_agree_with_the_embedded_engines_board():
    """platforms/boards/mt3620-rdb.repl (Renode) and mt3620.peripherals.board.rdb (the engine) name the same pins."""
    text = (PLATFORMS / "boards" / "mt3620-rdb.repl").read_text()
    outputs: dict[str, int] = {}
    for block, body in re.findall(r"(?m)^(gpio\d):\n((?:    \d+ -> \w+@0\n)+)", text):
        for out, led in re.findall(r"(\d+) -> (\w+)@0", body):
            outputs[led] = 4 * int(block[4:]) + int(out) - 16
    assert {f"LED{n[3]}_{n[5].upper()}": pin for n, pin in outputs.items()} == rdb.LEDS
    buttons = {m.group(1)[-1].upper(): 4 * int(m.group(2)) + int(m.group(3))
               for m in re.finditer(r"(?m)^(button_\w): Miscellaneous\.Button @ gpio(\d) (\d)\n", text)}
    assert buttons == rdb.BUTTONS
    assert re.findall(r"(?m)^    -> gpio(\d)@(\d)$", text) == [("3", "0"), ("3", "1")]


# ---- mt3620.resc -----------------------------------------------------------------------------------------------
def _needs_firmware(*names: str) -> None:
    for name in names:
        if not (FIRMWARE / f"{name}.elf").exists():
            pytest.skip(f"firmware/build/{name}.elf not built (scripts/build_firmware)")


def test_resc_runs_from_any_working_directory_with_an_rtapp_given_by_rt0(tmp_path):
    _needs_firmware("blink_button", "gpt_timer")
    res = RENODE.monitor([f'$python="{sys.executable}"', f"$rt0=@{FIRMWARE / 'blink_button.elf'}",
                          f"include @{ROOT / 'mt3620.resc'}", "showAnalyzer io0_uart", "showAnalyzer io1_uart",
                          'emulation RunFor "0.6"', "sysbus.gpio2.led1_r State", "machine MT3620BridgeStatus"],
                         cwd=tmp_path, timeout=300)
    out = res.stdout
    assert "There was an error" not in out, out[-3000:]
    assert re.search(r"io0_uart: .*blink_button: buttons A=1 B=1", out), out[-3000:]
    assert re.search(r"io1_uart: .*gpt_timer: done after 5 ticks", out), out[-3000:]   # $rt1's default
    assert re.search(r"(?m)^False$", out)                                                # LED1 red is dark
    assert re.search(r"connected to 127\.0\.0\.1:\d+ \(started by Renode, pid \d+\), \d+ blocks", out)
    assert "this Renode has no cortex-a7: loading" in out or "this Renode has cortex-a7" in out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(shutil.which("gdb-multiarch") is None, reason="gdb-multiarch is not installed")
def test_gdb_macros_serve_each_io_core_to_a_real_gdb(tmp_path):
    _needs_firmware("gdb_target")
    ports = {"io0": _free_port(), "io1": _free_port()}
    proc = subprocess.Popen(
        [str(RENODE.renode), "--console", "--disable-xwt", "--plain", "-e",
         "; ".join([f'$python="{sys.executable}"', f"$rt0=@{FIRMWARE / 'gdb_target.elf'}",
                    f"$rt1=@{FIRMWARE / 'gdb_target.elf'}", f"$gdb_io0_port={ports['io0']}",
                    f"$gdb_io1_port={ports['io1']}", f"include @{ROOT / 'mt3620.resc'}", "runMacro $gdb_io0",
                    "runMacro $gdb_io1", 'echo "MT3620-GDB-READY"'])],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=RENODE.env(), cwd=tmp_path)
    ready = threading.Event()
    seen: list[str] = []

    def pump() -> None:
        for line in proc.stdout:
            seen.append(line)
            if line.strip() == "MT3620-GDB-READY":
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    try:
        assert ready.wait(180), "".join(seen[-40:])
        # both cores run gdb_target, which ends spinning in gdb_busy_loop (docs/firmware.md): a breakpoint on the
        # loop's line is hit whenever the debugger arrives
        source = ROOT / "firmware" / "gdb_target" / "main.c"
        line = next(n for n, text in enumerate(source.read_text().splitlines(), 1) if "++gdb_spin" in text)
        for core in ("io0", "io1"):
            res = subprocess.run(["gdb-multiarch", "-nx", "-batch", str(FIRMWARE / "gdb_target.elf"),
                                  "-ex", "set pagination off", "-ex", f"target remote 127.0.0.1:{ports[core]}",
                                  "-ex", f"break main.c:{line}", "-ex", "continue", "-ex", "info registers pc",
                                  "-ex", "delete", "-ex", "detach"],
                                 capture_output=True, text=True, timeout=180)
            assert re.search(r"Breakpoint 1, (0x[0-9a-f]+ in )?gdb_busy_loop", res.stdout), res.stdout + res.stderr
            assert re.search(r"pc\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <gdb_busy_loop", res.stdout), res.stdout
    finally:
        proc.stdin.write("quit\n")
        proc.stdin.flush()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
