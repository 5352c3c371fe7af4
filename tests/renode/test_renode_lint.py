"""The project's platform rules (engine/renode/platform_check.py), the .resc linter and the renode-* commands. What Renode's
own loader says of the same files is tested against the real Renode in test_in_renode.py."""
from __future__ import annotations

import importlib.util
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from mt3620.engine.renode import bridge as rb
from mt3620.engine.renode.resc_lint import lint_resc
from mt3620.engine.repl import default_platform_path, load_platform
from mt3620.engine.renode.platform_check import check_file, check_platform

ROOT = default_platform_path().parent.parent
PLATFORMS = ROOT / "platforms"


def errors(problems):
    return [p for p in problems if p.kind == "error"]


# ---- platform checks ---------------------------------------------------------------------------------------------
def test_shipped_platform_is_sound():
    platform, problems = check_file(PLATFORMS / "mt3620.repl")
    assert platform is not None
    assert errors(problems) == [], "\n".join(map(str, problems))
    for p in problems:   # a missing model is tolerated only while its module really is absent
        assert p.kind == "model-missing"
        module = p.message.split("'")[1]
        assert importlib.util.find_spec(module) is None


def platform_from(tmp_path: Path, text: str):
    (tmp_path / "p.repl").write_text(text)
    return load_platform(tmp_path / "p.repl")


CORES = '''cpu0: CPU.CortexM @ sysbus
    cpuType: "cortex-m4f"
    nvic: nvic0

cpu1: CPU.CortexM @ sysbus
    cpuType: "cortex-m4f"
    nvic: nvic1

nvic0: IRQControllers.NVIC @ sysbus new Bus.BusPointRegistration { address: 0xE000E000; cpu: cpu0 }
    -> cpu0@0

nvic1: IRQControllers.NVIC @ sysbus new Bus.BusPointRegistration { address: 0xE000E000; cpu: cpu1 }
    -> cpu1@0
'''


def test_per_cpu_registrations_at_one_address_are_not_overlaps(tmp_path):
    p = platform_from(tmp_path, CORES + '''
tcm0: Memory.MappedMemory @ sysbus new Bus.BusPointRegistration { address: 0x100000; cpu: cpu0 }
    size: 0x30000

tcm1: Memory.MappedMemory @ sysbus new Bus.BusPointRegistration { address: 0x100000; cpu: cpu1 }
    size: 0x30000
''')
    assert check_platform(p) == []


GPT = ('x: MT3620.BridgedPeripheral @ sysbus new Bus.BusPointRegistration { address: 0x40000000; cpu: cpu0 }\n'
       '    size: 0x1000\n')
ENGINE_ONLY = 'x:\n    model: "mt3620.peripherals.timers.gpt:Gpt"\n'    # in the second file (see the test)


@pytest.mark.parametrize("extra, engine_only, fragment", [
    ('shared: Memory.MappedMemory @ sysbus 0x110000\n    size: 0x1000\n'
     'tcm0: Memory.MappedMemory @ sysbus new Bus.BusPointRegistration { address: 0x100000; cpu: cpu0 }\n'
     '    size: 0x30000\n', "", "overlaps"),
    ('odd: Memory.MappedMemory @ sysbus 0x100800\n    size: 0x1000\n', "", "4 KB-aligned"),
    ('span: MT3620.BridgedPeripheral @ sysbus 0x38070F00\n    size: 0x200\n', ENGINE_ONLY.replace("x:", "span:"),
     "neither whole 4 KB pages"),
    ('x: Memory.MappedMemory @ sysbus 0x40000000\n    size: 0x1000\n    -> nowhere@3\n', "", "not defined"),
    ('x: Memory.MappedMemory @ sysbus 0x40000000\n    size: 0x1000\n    other: ghost\n', "", "undefined reference"),
    ('x: Memory.MappedMemory @ sysbus new Bus.BusPointRegistration { address: 0x40000000; cpu: nvic0 }\n'
     '    size: 0x1000\n', "", "not a CPU"),
    ('cpu2: CPU.CortexM @ sysbus\n    cpuType: "cortex-m4"\n    nvic: nvic0\n', "", "has no FPU"),
    (GPT, "", "needs a `model:"),
    (GPT, ENGINE_ONLY.replace(":Gpt", ":Gtp"), "has no class 'Gtp'"),
    (GPT, ENGINE_ONLY.replace('"mt3620', '"no_such_package_x'), "is not installed"),
    (GPT + '    7 -> nvic0@1\n', ENGINE_ONLY, "output 7 does not exist"),
    (GPT + '    0 -> nvic0@300\n', ENGINE_ONLY, "inputs 0..239"),
    (GPT, ENGINE_ONLY + '    0 -> cpu0@2\n', "inputs 0 (IRQ) and 1 (reset request)"),
    (GPT.replace("    size: 0x1000\n", ""), ENGINE_ONLY, "positive 'size'"),
    # the split: a line into a Renode object in the file Renode never loads is never delivered in Renode...
    (GPT, ENGINE_ONLY + '    0 -> nvic0@1\n', "Renode never delivers it"),
    # ...and a core reset line in a file Renode loads would reach the CPU's input 1 in Renode too
    (GPT + '    1 -> cpu0@1\n', ENGINE_ONLY, "a core reset line belongs in the file Renode does not load"),
    # Renode does not OR interrupt sources: the last change wins
    (GPT + '    0 -> nvic0@1\n'
     'y: MT3620.BridgedPeripheral @ sysbus new Bus.BusPointRegistration { address: 0x40001000; cpu: cpu0 }\n'
     '    size: 0x1000\n    1 -> nvic0@1\n', ENGINE_ONLY + 'y:\n    model: "mt3620.peripherals.timers.gpt:Gpt"\n',
     "is already driven by x"),
])
def test_project_rules_are_found_with_locations(tmp_path, extra, engine_only, fragment):
    renode_file = tmp_path / "renode.repl"
    renode_file.write_text(CORES + "\n" + extra)
    (tmp_path / "engine-only.repl").write_text(engine_only)
    path = tmp_path / "case.repl"
    path.write_text('using "./renode.repl"\nusing "./engine-only.repl"\n')
    _, problems = check_file(path)
    hits = [p for p in problems if fragment in p.message]
    assert hits, "\n".join(map(str, problems))
    assert all(p.location[0] in (str(renode_file), str(tmp_path / "engine-only.repl")) and p.location[1] > 0
               for p in hits)


def test_a_renode_type_of_size_renode_knows_is_not_an_error(tmp_path):
    """UART.NS16550 is a valid Renode UART whose size Renode knows (0x100); the engine knows it too."""
    p = platform_from(tmp_path, CORES + 'u: UART.NS16550 @ sysbus 0x40000000\n    wideRegisters: true\n'
                                        'v: Some.RenodeType @ sysbus 0x40001000\n')
    problems = check_platform(p)
    assert errors(problems) == []
    assert [q.kind for q in problems if "u:" in str(q) or "size of the region" in q.message] == ["warning"]


# ---- .resc linter --------------------------------------------------------------------------------------------------
def test_shipped_resc_is_clean():
    platform = load_platform(PLATFORMS / "mt3620.repl")
    problems = lint_resc(ROOT / "mt3620.resc", platform)
    assert errors(problems) == [], "\n".join(map(str, problems))
    assert all("build it first" in p.message for p in problems)   # only images not built yet


def test_resc_problems_are_reported_with_lines(tmp_path):
    platform = load_platform(PLATFORMS / "mt3620.repl")
    resc = tmp_path / "bad.resc"
    resc.write_text('''using sysbus
mach create "x"
machine LoadPlatformDescription $ORIGIN/platforms/none.repl
sysbus LoadELF $image cpu=cpuM4_0
frobnicate 1
io0_uart Reset
nosuchblock Reset
runMacro $missing
# machine StartGdbServer 3333 true cpuA7
machine StartGdbServer 3333 true cpuM4_0
machine StartGdbServer 3335 true cpuM9
macro reset
"""
    sysbus LoadELF $later cpu=cpuM4_0
"""
$later=@x.elf
''')
    problems = lint_resc(resc, platform)
    got = {(p.location[1], p.message.split(" (")[0]) for p in problems}
    expected_lines = {3: "does not exist", 4: "variable $image", 5: "'frobnicate'", 7: "'nosuchblock'",
                      8: "no macro named 'missing'", 10: "GDB port 3333 is already used", 11: "'cpuM9'"}
    for line, fragment in expected_lines.items():
        assert any(n == line and fragment in msg for n, msg in got), (line, fragment, sorted(got))
    assert not any(n == 6 for n, _ in got)            # io0_uart is a peripheral of the platform
    assert not any("$later" in msg for _, msg in got)  # defined later, used inside a macro: fine
    unclosed = tmp_path / "unclosed.resc"
    unclosed.write_text('macro reset\n"""\n    sysbus Reset\n')
    assert [(p.location[1], p.message) for p in lint_resc(unclosed)] == [(2, 'unclosed """ block')]


# ---- commands ------------------------------------------------------------------------------------------------------
def run_cli(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "mt3620", *args], capture_output=True, text=True, timeout=timeout)


def test_renode_lint_command_passes_on_the_tree_and_fails_on_a_broken_file(tmp_path):
    ok = run_cli("renode-lint")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "0 error(s)" in ok.stdout
    bad = tmp_path / "bad.repl"
    bad.write_text("cpu: CPU.CortexM @ sysbus\n    cpuType: \"cortex-m4\"\n      nvic: x\n")
    res = run_cli("renode-lint", "--platform", str(bad), "--resc", str(ROOT / "mt3620.resc"))
    assert res.returncode == 1
    assert f"{bad}:3:6: indentation has to be a multiple of 4" in res.stdout
    missing = run_cli("renode-lint", "--platform", str(tmp_path / "nope.repl"))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert missing.stderr.strip().startswith("mt3620: error:")


def test_renode_bridge_command_bad_arguments_are_one_line_errors(tmp_path):
    res = run_cli("renode-bridge", "--port", "70000", "--connection-file", str(tmp_path / "c"))
    assert res.returncode == 2 and "not a TCP port" in res.stderr and "Traceback" not in res.stderr
    bad = tmp_path / "bad.repl"
    bad.write_text("x: @@\n")
    res = run_cli("renode-bridge", "--platform", str(bad), "--connection-file", str(tmp_path / "c"))
    assert res.returncode == 2 and f"{bad}:1:" in res.stderr and "Traceback" not in res.stderr


def test_renode_bridge_command_serves_until_terminated(tmp_path):
    conn = tmp_path / "conn"
    proc = subprocess.Popen([sys.executable, "-m", "mt3620", "renode-bridge", "--connection-file", str(conn)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().startswith("mt3620 renode-bridge: 127.0.0.1:")   # written once listening
        assert proc.stdout.readline().startswith("serving ")
        host, port, token = rb.read_connection_file(conn)
        assert host == "127.0.0.1"
        with socket.create_connection((host, port), timeout=10) as s:
            s.settimeout(10)
            rb.send_frame(s, f"HELLO {token} {rb.PROTOCOL}")
            assert rb.recv_frame(s).startswith("OK")
            rb.send_frame(s, "ATTACH io1_gpt")
            assert rb.recv_frame(s) == "OK mt3620.peripherals.timers.gpt:Gpt 4096"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert "stopped" in err
        assert not conn.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_renode_bridge_announces_itself_and_stops_with_its_parent():
    """How Renode starts it (machine StartMT3620Bridge): the endpoint on the first line, no connection file, and
    it stops when the pipe to its standard input closes."""
    proc = subprocess.Popen([sys.executable, "-m", "mt3620", "renode-bridge", "--announce", "--stdin-lifeline"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline().split()
        assert first[0] == rb.ANNOUNCE
        host, port, token = first[1].split(":")
        with socket.create_connection((host, int(port)), timeout=10) as s:
            s.settimeout(10)
            rb.send_frame(s, f"HELLO {token} {rb.PROTOCOL}")
            assert rb.recv_frame(s).startswith("OK")
        proc.stdin.close()
        proc.wait(timeout=30)
        assert proc.returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def test_resc_blocks_set_variables_and_python_are_understood(tmp_path):
    resc = tmp_path / "ok.resc"
    resc.write_text('''using sysbus
mach create "x"
python
"""
import foo   # not Monitor syntax: skipped
frobnicate
"""
set hook
"""
cpu.PC = cpu.LR
"""
macro reset "sysbus Reset"
cpuM4_0 AddHook 0x100 $hook
runMacro $reset
# machine StartGdbServer 3334 true cpuM4_0
# machine StartGdbServer 3334 true cpuM4_1
''')
    platform = load_platform(PLATFORMS / "mt3620.repl")
    problems = lint_resc(resc, platform)
    assert errors(problems) == [], [str(p) for p in problems]
    assert [p.kind for p in problems] == ["warning"]     # the documented ports collide, in comments only
