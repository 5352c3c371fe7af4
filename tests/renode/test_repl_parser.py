"""The .repl parser: Renode's grammar subset, locations in errors, merging, `using`, the shipped platform."""
from __future__ import annotations

from pathlib import Path

import pytest

from mt3620.engine.repl import (EMPTY, AddressRange, EnumValue, InlineObject, IrqConnection, Reference, Registration,
                                ReplError, default_platform_path, load_platform, parse_text)


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


def load_text(tmp_path: Path, text: str):
    return load_platform(write(tmp_path, "t.repl", text))


def test_entry_forms_and_values(tmp_path):
    p = load_text(tmp_path, '''
cpu0: CPU.CortexM @ sysbus
    cpuType: "cortex-m4"  // comment after a space
    nvic: nvic0

nvic0: IRQControllers.NVIC @ sysbus new Bus.BusPointRegistration { address: 0xE000_E000; cpu: cpu0 }
    -> cpu0@0

/* a block
   comment */
mem: Memory.MappedMemory @ sysbus 0x00100000
    size: 0x30000

uart: Python.PythonPeripheral @ {
        sysbus <0x21040000, +0x1000>;
        sysbus <0x31040000, 0x31041000>
    } as "u0"
    size: 4096
    neg: -0x10
    frac: 1.5
    flags: [true, False, empty, .Shorthand, Full.Enum.Name, "s \\" q", cpu0]
    dict: {1: "one"; "k": [2, 3]}
    obj: new Some.Type { a: 1; b: <0, +4> }
    text: \'\'\'two
lines\'\'\'
    init:
        Tag <0x0, 0x4> "REG" 0x1
        LogLevel 3
''')
    assert list(p.entries) == ["cpu0", "nvic0", "mem", "uart"]
    nvic = p["nvic0"]
    assert nvic.registrations == [Registration("sysbus", 0xE000E000, None, "cpu0")]
    assert nvic.irqs == [IrqConnection(None, "cpu0", 0)]
    assert p["mem"].registrations == [Registration("sysbus", 0x100000, None, None)]
    u = p["uart"]
    assert u.registrations == [Registration("sysbus", 0x21040000, 0x1000, None),
                               Registration("sysbus", 0x31040000, 0x1000, None)]
    assert u.alias == "u0"
    a = u.attributes
    assert a["size"] == 4096 and a["neg"] == -16 and a["frac"] == 1.5
    assert a["flags"] == [True, False, EMPTY, EnumValue(("Shorthand",)), EnumValue(("Full", "Enum", "Name")),
                          's " q', Reference("cpu0")]
    assert a["dict"] == {1: "one", "k": [2, 3]}
    assert a["obj"] == InlineObject("Some.Type", {"a": 1, "b": AddressRange(0, 4)})
    assert a["text"] == "two\nlines"
    assert u.init == ['Tag <0x0, 0x4> "REG" 0x1', "LogLevel 3"]
    assert p["cpu0"].location == (str(tmp_path / "t.repl"), 2, 1)


def test_irq_forms(tmp_path):
    p = load_text(tmp_path, '''
nvic: IRQControllers.NVIC @ sysbus 0xE000E000
gic: IRQControllers.GIC @ sysbus 0x1000
dev: Some.Dev @ sysbus 0x2000
    [0-2] -> nvic@[6-8] | gic@[40, 41, 42]
    IRQ -> gic#1@5
    3 -> nvic@[9]
    [Rx, 7] -> nvic@[10-11]
''')
    irqs = [(c.source, c.target, c.target_input, c.local_index) for c in p["dev"].irqs]
    assert irqs == [(0, "nvic", 6, None), (0, "gic", 40, None), (1, "nvic", 7, None), (1, "gic", 41, None),
                    (2, "nvic", 8, None), (2, "gic", 42, None), ("IRQ", "gic", 5, 1), (3, "nvic", 9, None),
                    ("Rx", "nvic", 10, None), (7, "nvic", 11, None)]


def test_merge_updates_override_and_cancel(tmp_path):
    write(tmp_path, "base.repl", '''
dev: Some.Dev @ sysbus 0x1000
    a: 1
    b: 2
    0 -> nvic@1
    1 -> nvic@2
    init:
        first
nvic: IRQControllers.NVIC @ sysbus 0xE000E000
''')
    top = write(tmp_path, "top.repl", '''using "./base.repl"

dev: @ sysbus <0x3000, +0x100>
    a: 10
    b: none
    0 -> none
    1 -> nvic@5
    init add:
        second
''')
    p = load_platform(top)
    d = p["dev"]
    assert d.type == "Some.Dev"
    assert d.registrations == [Registration("sysbus", 0x3000, 0x100, None)]
    assert d.attributes == {"a": 10}
    assert [(c.source, c.target_input) for c in d.irqs] == [(1, 5)]
    assert d.init == ["first", "second"]
    assert [f.name for f in p.files] == ["top.repl", "base.repl"]
    assert d.location[0].endswith("base.repl") and len(d.locations) == 2


def test_using_paths_and_errors(tmp_path):
    write(tmp_path, "lib/inner.repl", "x: Some.T @ sysbus 0x0\n")
    write(tmp_path, "lib/outer.repl", 'using "./inner.repl"\ny: Some.T @ sysbus 0x1000\n')
    # a path without ./ is searched in the prefixes (the including file's folder first)
    top = write(tmp_path, "top.repl", 'using "lib/outer.repl"\n')
    assert list(load_platform(top).entries) == ["x", "y"]
    bad = write(tmp_path, "bad.repl", 'using "./missing.repl"\n')
    with pytest.raises(ReplError) as e:
        load_platform(bad)
    assert str(e.value) == f"{bad}:1:1: using: file not found: './missing.repl'"
    write(tmp_path, "c1.repl", 'using "./c2.repl"\n')
    write(tmp_path, "c2.repl", 'using "./c1.repl"\n')
    with pytest.raises(ReplError, match="cycle"):
        load_platform(tmp_path / "c1.repl")
    late = write(tmp_path, "late.repl", 'x: Some.T\nusing "./lib/inner.repl"\n')
    with pytest.raises(ReplError, match="before any other entry"):
        load_platform(late)


@pytest.mark.parametrize("text, line, col, fragment", [
    ("cpu: CPU.CortexM @ sysbus\n   cpuType: \"x\"\n", 2, 3, "multiple of 4"),
    ("cpu: CPU.CortexM @ sysbus\n\tcpuType: \"x\"\n", 2, 1, "tabs"),
    ("    cpu: CPU.CortexM\n", 1, 1, "first line"),
    ("cpu CPU.CortexM\n", 1, 5, "expected ':'"),
    ("m: Memory.MappedMemory @ sysbus <0x10, 0x5>\n", 1, 34, "end of a range"),
    ("m: Memory.MappedMemory @ sysbus 0x10\n    size: \"abc\n", 2, 11, "unterminated string"),
    ("m: Memory.MappedMemory @ sysbus 0x10\n    size: 0x1G\n", 2, 11, "malformed number"),
    ("d: Some.Dev @ sysbus 0x0\n    [0, 1] -> nvic@[1]\n", 2, 15, "2 interrupt source(s) but 1"),
    ("d: Some.Dev @ sysbus 0x0\n    0 -> nvic@3-3\n", 2, 17, "other than 3"),
    ("d: Some.Dev @ sysbus 0x0\n    a: 1\n    a: 2\n", 3, 5, "set twice"),
    ("d: Some.Dev\nd: Some.Dev\n", 2, 1, "already declared"),
    ("d:\n    a: 1\n", 1, 1, "never declared"),
    ("d:\n", 1, 1, "is empty"),
    ("d: Some.Dev { a: 1 \n", 1, 19, "missing '}'"),
    ("d: Some.Dev\n    a: \"\\n\"\n", 2, 9, "invalid escape"),
    ("a: X /* c\n c */ b: Y\n", 2, 4, "end of a line"),
    ("d: Some.Dev\n    init:\n", 2, 10, "statements"),
])
def test_errors_have_file_line_column(tmp_path, text, line, col, fragment):
    path = write(tmp_path, "bad.repl", text)
    with pytest.raises(ReplError) as e:
        load_platform(path)
    err = e.value
    assert fragment in err.message
    assert (err.line, err.column) == (line, col), str(err)
    assert str(err).startswith(f"{path}:{line}:{col}: ")


def test_comment_rule_needs_space_before_slashes():
    # as in Renode: `//` starts a comment only at line start or after a space
    _, entries = parse_text('d: Some.Dev @ sysbus 0x0 // c\n    s: "a//b" // c\n')
    assert entries[0].attributes[0][1] == "a//b"


def test_explicit_braces_make_indentation_irrelevant():
    _, entries = parse_text('d: Some.Dev @ {\n  sysbus 0x0;\n      sysbus 0x1000\n}\n    size: 0x10\n')
    assert [r.address for r in entries[0].registrations] == [0, 0x1000]
    assert entries[0].attributes[0][:2] == ("size", 0x10)


def test_shipped_platform_loads_with_every_core_and_block():
    p = load_platform(default_platform_path())
    assert p["cpuA7"].attr("cpuType") == "cortex-a7"
    assert p["cpuM4_0"].attr("cpuType") == p["cpuM4_1"].attr("cpuType") == "cortex-m4f"
    assert p["nvic0"].registrations == [Registration("sysbus", 0xE000E000, None, "cpuM4_0")]
    assert p["nvic1"].registrations == [Registration("sysbus", 0xE000E000, None, "cpuM4_1")]
    assert p["io0_uart"].type == "UART.MT3620_UART" and p["io0_gpt"].type == "MT3620.BridgedPeripheral"
    assert p["io0_uart"].attr("model") == "mt3620.peripherals.uart.mt3620_uart:Mt3620Uart"
    assert p["io1_gpt"].attr("model") == "mt3620.peripherals.timers.gpt:Gpt"
    assert p["adc"].attr("model") == "mt3620.peripherals.adc.adc:Adc"
    assert p["cpuA7"].attr("model") is None
    view = {e.name: (a, s) for a, s, e, r in p.bus_view("cpuM4_1")}
    assert view["io1_tcm"] == (0x00100000, 0x30000) and "io0_tcm" not in view
    assert view["isu2_uart"] == (0x38090500, 0x400)
    assert {(c.source, c.target, c.target_input) for c in p["io0_gpt"].irqs} == {(0, "nvic0", 1), (1, "nvic0", 2)}
    assert {(c.source, c.target, c.target_input) for c in p["io1_wdt"].irqs} == {(0, "nvic1", 3), (1, "cpuM4_1", 1)}
    assert [(c.source, c.target_input) for c in p["io0_mbox_a7"].irqs] == [(i, 6 + i) for i in range(6)]
    gpio5 = {(c.source, c.target, c.target_input) for c in p["gpio5"].irqs}
    assert gpio5 == {(k, n, 20 + k) for k in range(4) for n in ("io0_irqcfg", "io1_irqcfg")} | {
        (4, "nvic0", 76), (4, "nvic1", 76)}                        # the GPIOIF counters' interrupt
    eint = {(c.source, c.target, c.target_input) for c in p["io1_irqcfg"].irqs}
    assert eint == {(k, "nvic1", 20 + k) for k in range(24)}
    assert p["io0_irqcfg"].attr("model") == "mt3620.peripherals.gpio.eint:EintController"
    assert {(c.target, c.target_input) for c in p["isu4_uart"].irqs} == {("nvic0", 63), ("nvic1", 63), ("gic", 96)}


def test_sections_local_and_none_forms(tmp_path):
    p = load_text(tmp_path, '''
local helper: Some.Helper
    a: 1

dev: Some.Dev @ sysbus 0x1000 as "devalias"
    preinit:
        include @file.cs
    reset:
        dev WriteDoubleWord 0 1
    init:
        Tag <0x0, 0x4> "A" 0x0

dev: @none
    preinit add:
        second
''')
    assert p["helper"].local is True
    d = p["dev"]
    assert d.registrations == [] and d.alias is None
    assert d.preinit == ["include @file.cs", "second"]
    assert d.reset == ["dev WriteDoubleWord 0 1"]
    assert d.init == ['Tag <0x0, 0x4> "A" 0x0']


def test_monitor_statements_keep_text_that_is_not_a_value():
    # a hash in a URL is not a number: fine in an init statement, an error where a value is expected
    _, entries = parse_text('sysbus:\n    init:\n        ApplySVD @https://x/y.svd-s_1-8b6f35da\n')
    assert entries[0].sections[0][2] == ["ApplySVD @https://x/y.svd-s_1-8b6f35da"]
    with pytest.raises(ReplError, match="malformed number '8b6f'"):
        parse_text("d: Some.Dev @ sysbus 8b6f\n")


try:
    from hypothesis import given, settings, strategies as st
except ImportError:  # pragma: no cover - hypothesis is a test dependency
    given = None

if given is not None:
    ALPHABET = st.sampled_from(list("abcXY_09 .:;,@<>{}[]+-|#/*\"'\\\n\t=$") + ["    ", "->", "0x1F", "sysbus",
                                                                               "init", "using", "new", "none"])

    @settings(max_examples=300, deadline=None, derandomize=True)
    @given(st.lists(ALPHABET, max_size=60).map("".join))
    def test_any_text_parses_or_raises_a_located_repl_error(text):
        try:
            parse_text(text, "fuzz.repl")
        except ReplError as exc:
            assert exc.file == "fuzz.repl" and exc.line >= 1 and exc.column >= 0
