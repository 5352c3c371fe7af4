"""Semantic platform checks, the .resc linter, the Python 2.7 shim checker and the renode-* commands."""
from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mt3620.engine.renode import bridge as rb
from mt3620.engine.renode.resc_lint import check_py27, check_shim_file, lint_resc
from mt3620.engine.repl.check import check_file, check_platform
from mt3620.engine.repl.parser import default_platform_path, load_platform

ROOT = default_platform_path().parent.parent
PLATFORMS = ROOT / "platforms"
SHIMS = ROOT / "peripherals" / "renode"


def errors(problems):
    return [p for p in problems if p.kind == "error"]


# ---- platform checks ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, for_renode", [("mt3620.repl", False), ("mt3620-renode.repl", True),
                                              ("mt3620-renode-a15.repl", True)])
def test_shipped_platforms_are_sound(name, for_renode):
    platform, problems = check_file(PLATFORMS / name, for_renode=for_renode)
    assert platform is not None
    assert errors(problems) == [], "\n".join(map(str, problems))
    for p in problems:   # a missing model is tolerated only while its module really is absent
        assert p.kind == "model-missing"
        module = p.message.split("'")[1]
        assert importlib.util.find_spec(module) is None


def test_engine_only_wiring_is_rejected_for_renode():
    _, problems = check_file(PLATFORMS / "mt3620.repl", for_renode=True)
    assert any("Renode rejects '->'" in p.message and "mt3620-bridged.repl" in p.location[0] for p in problems)


def platform_from(tmp_path: Path, text: str):
    (tmp_path / "p.repl").write_text(text)
    return load_platform(tmp_path / "p.repl")


CORES = '''cpu0: CPU.CortexM @ sysbus
    cpuType: "cortex-m4"
    nvic: nvic0

cpu1: CPU.CortexM @ sysbus
    cpuType: "cortex-m4"
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


@pytest.mark.parametrize("extra, fragment", [
    ('shared: Memory.MappedMemory @ sysbus 0x110000\n    size: 0x1000\n'
     'tcm0: Memory.MappedMemory @ sysbus new Bus.BusPointRegistration { address: 0x100000; cpu: cpu0 }\n'
     '    size: 0x30000\n', "overlaps"),
    ('odd: Memory.MappedMemory @ sysbus 0x100800\n    size: 0x1000\n', "4 KB-aligned"),
    ('span: Python.PythonPeripheral @ sysbus 0x38070F00\n    size: 0x200\n    filename: "peripherals/renode/gpt.py27"\n',
     "neither whole 4 KB pages"),
    ('x: Some.Thing @ sysbus 0x40000000\n', "size of the region"),
    ('x: Memory.MappedMemory @ sysbus 0x40000000\n    size: 0x1000\n    -> nowhere@3\n', "not defined"),
    ('x: Memory.MappedMemory @ sysbus 0x40000000\n    size: 0x1000\n    other: ghost\n', "undefined reference"),
    ('x: Memory.MappedMemory @ sysbus new Bus.BusPointRegistration { address: 0x40000000; cpu: nvic0 }\n'
     '    size: 0x1000\n', "not a CPU"),
    ('cpu2: CPU.CortexM @ sysbus\n    cpuType: "cortex-m4f"\n    nvic: nvic0\n', "Cortex-M7"),
    ('x: Python.PythonPeripheral @ sysbus 0x40000000\n    size: 0x1000\n    filename: "no/such.py27"\n',
     "not found"),
    ('x: Python.PythonPeripheral @ sysbus 0x40000000\n    size: 0x1000\n    filename: "peripherals/renode/gpt.py27"\n'
     '    7 -> nvic0@1\n', "output 7 does not exist"),
    ('x: Python.PythonPeripheral @ sysbus 0x40000000\n    size: 0x1000\n    filename: "peripherals/renode/gpt.py27"\n'
     '    0 -> nvic0@300\n', "inputs 0..239"),
    ('x: Python.PythonPeripheral @ sysbus 0x40000000\n    size: 0x1000\n    filename: "peripherals/renode/gpt.py27"\n'
     '    0 -> cpu0@2\n', "inputs 0 (IRQ) and 1 (reset request)"),
    ('x: Python.PythonPeripheral @ sysbus 0x40000000\n    filename: "peripherals/renode/gpt.py27"\n', "positive 'size'"),
])
def test_semantic_problems_are_found_with_locations(tmp_path, extra, fragment):
    # shim paths are relative to the tree root: give the case a tree with the GPT shim in it
    (tmp_path / "peripherals" / "renode").mkdir(parents=True)
    (tmp_path / "peripherals" / "renode" / "gpt.py27").write_text((SHIMS / "gpt.py27").read_text())
    path = tmp_path / "case.repl"
    path.write_text(CORES + "\n" + extra)
    _, problems = check_file(path)
    hits = [p for p in problems if fragment in p.message]
    assert hits, "\n".join(map(str, problems))
    assert all(p.location[0] == str(path) and p.location[1] > 0 for p in hits)


def test_renode_bound_python_peripheral_takes_only_its_constructor(tmp_path):
    p = platform_from(tmp_path, CORES + '''
x: Python.PythonPeripheral @ sysbus 0x40000000
    size: 0x1000
    filename: "x.py27"
    channel: "a"
''')
    assert any("Renode rejects 'channel'" in q.message for q in check_platform(p, for_renode=True))


# ---- .resc linter --------------------------------------------------------------------------------------------------
def test_shipped_resc_is_clean():
    platform = load_platform(PLATFORMS / "mt3620-renode.repl")
    problems = lint_resc(ROOT / "mt3620.resc", platform)
    assert errors(problems) == [], "\n".join(map(str, problems))
    assert all("build it first" in p.message for p in problems)   # only images not built yet


def test_resc_problems_are_reported_with_lines(tmp_path):
    platform = load_platform(PLATFORMS / "mt3620-renode.repl")
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


# ---- Python 2.7 checker ------------------------------------------------------------------------------------------
def test_every_shim_is_python27_and_bridge_shims_share_one_body():
    shims = sorted(SHIMS.glob("*.py27"))
    assert len(shims) >= 10
    bodies = set()
    for shim in shims:
        assert check_shim_file(shim) == [], shim
        first, body = shim.read_text().split("\n", 1)
        assert first.startswith("# mt3620-model: ")
        if shim.name != "logging_region.py27":
            bodies.add(body)
    assert len(bodies) == 1, "bridge shims differ below their model line: copy mt3620_uart.py27's body to all"


PY3_ONLY = [
    ("x = f'{1}'\n", "f-string"),
    ("x: int = 1\n", "variable annotation"),
    ("def f(a: int): pass\n", "parameter annotation"),
    ("def f() -> int: pass\n", "return annotation"),
    ("if (n := 1): pass\n", "assignment expression"),
    ("def f():\n    x = 1\n    def g():\n        nonlocal x\n", "nonlocal"),
    ("async def f(): pass\n", "async def"),
    ("def f(a, *, b): pass\n", "keyword-only"),
    ("def f(a, /): pass\n", "positional-only"),
    ("def f():\n    yield from g()\n", "yield from"),
    ("raise ValueError() from None\n", "raise ... from"),
    ("a, *b = [1, 2]\n", "starred assignment"),
    ("x = [*a, *b]\n", "unpacking in a literal"),
    ("x = {**a}\n", "** unpacking"),
    ("f(*a, *b)\n", "more than one *args"),
    ("x = a @ b\n", "@ operator"),
    ("print(1, 2)\n", "print()"),
    ("print('a', end='')\n", "print()"),
    ("x = 1_000\n", "numeric literal"),
    ("x = ...\n", "outside a subscript"),
    ("class A(metaclass=M): pass\n", "class keywords"),
    ("match x:\n    case 1: pass\n", "match statement"),
    ("print = 1\n", "keyword in Python 2.7"),
    ("x = Rb'a'\n", "string prefix"),
]


@pytest.mark.parametrize("src, fragment", PY3_ONLY)
def test_py27_checker_rejects_python3_only_syntax(src, fragment):
    problems = check_py27(src)
    assert any(fragment in p.message for p in problems), (src, [str(p) for p in problems])


def test_py27_checker_accepts_the_common_subset():
    src = ("from __future__ import print_function\nimport struct\nclass A(object):\n    pass\n"
           "def f(a, b=1, *args, **kw):\n    return [x for x in args], {k: v for k, v in kw.items()}\n"
           "print('a', 'b')\ntry:\n    pass\nexcept ValueError as e:\n    raise\nx = b'ab' + u'c'\ny = a[...]\n"
           "z = 0x1F | 0o7\n")
    assert check_py27(src) == []


def test_shim_with_non_ascii_bytes_is_rejected(tmp_path):
    f = tmp_path / "s.py27"
    f.write_bytes("# mt3620-model: a:B\nx = 'é'\n".encode())
    assert "not ASCII" in check_shim_file(f)[0].message


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
    res = run_cli("renode-bridge", "--uart-tcp", "io0_uart", "--connection-file", str(tmp_path / "c"))
    assert res.returncode == 2 and "UART=PORT" in res.stderr and "Traceback" not in res.stderr
    bad = tmp_path / "bad.repl"
    bad.write_text("x: @@\n")
    res = run_cli("renode-bridge", "--platform", str(bad), "--connection-file", str(tmp_path / "c"))
    assert res.returncode == 2 and f"{bad}:1:" in res.stderr and "Traceback" not in res.stderr


def test_renode_bridge_command_serves_until_terminated(tmp_path):
    conn = tmp_path / "conn"
    proc = subprocess.Popen([sys.executable, "-m", "mt3620", "renode-bridge", "--connection-file", str(conn)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(300):                              # bounded wait for the connection file (up to 30 s)
            if conn.exists() and conn.read_text().strip():
                break
            if proc.poll() is not None:
                break
            time.sleep(0.1)
        host, port, token = rb.read_connection_file(conn)
        assert host == "127.0.0.1"
        with socket.create_connection((host, port), timeout=10) as s:
            s.settimeout(10)
            rb.send_frame(s, f"HELLO {token} 1")
            assert rb.recv_frame(s).startswith("OK")
            rb.send_frame(s, "ATTACH io1_gpt")
            assert rb.recv_frame(s) == "OK mt3620.peripherals.timers.gpt:Gpt 4096"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert "serving" in out and "stopped" in out
        assert not conn.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


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
    platform = load_platform(PLATFORMS / "mt3620-renode.repl")
    problems = lint_resc(resc, platform)
    assert errors(problems) == [], [str(p) for p in problems]
    assert [p.kind for p in problems] == ["warning"]     # the documented ports collide, in comments only


def _python27():
    import glob
    import shutil
    for c in [shutil.which("python2.7"), *sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/2.7*/bin/python2.7")))]:
        if c and subprocess.run([c, "-c", "pass"], capture_output=True).returncode == 0:
            return c
    return None


@pytest.mark.skipif(_python27() is None, reason="no CPython 2.7 interpreter on this machine")
def test_py27_checker_agrees_with_a_real_python27(tmp_path):
    """Every construct the checker rejects is rejected by CPython 2.7's compiler too (print() with several
    arguments compiles there but prints a tuple: the checker's rule is about meaning), and the accepted sample
    and every shim compile."""
    py27 = _python27()
    probe = ("import sys\nsrc = sys.stdin.read()\ntry:\n    compile(src, 'x', 'exec')\n    print('ok')\n"
             "except SyntaxError:\n    print('syntax')\n")
    for src, _ in PY3_ONLY:
        res = subprocess.run([py27, "-c", probe], input=src, capture_output=True, text=True, timeout=30)
        expected = "ok" if src == "print(1, 2)\n" else "syntax"
        assert res.stdout.strip() == expected, (src, res.stdout, res.stderr)
    for path in [*sorted(SHIMS.glob("*.py27")), Path(__file__).parent / "py27_driver.py27"]:
        res = subprocess.run([py27, "-c", probe], input=path.read_text(), capture_output=True, text=True, timeout=30)
        assert res.stdout.strip() == "ok", path
