"""Target descriptions and memory maps: well-formed XML with GDB's standard ARM features, accepted by GDB itself."""
from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET

import pytest

from mt3620.engine.gdb import targets
from mt3620.engine.machine import Machine


def _registers(xml: str) -> dict[str, list[tuple[str, int, int]]]:
    root = ET.fromstring(xml.split("\n", 2)[2])  # skip the XML declaration and DOCTYPE
    assert root.find("architecture").text == "arm"
    out = {}
    for feature in root.findall("feature"):
        out[feature.get("name")] = [(r.get("name"), int(r.get("bitsize")), int(r.get("regnum")))
                                    for r in feature.findall("reg")]
    return out


def test_io_core_description_is_m_profile_with_fpv4_sp():
    regs = _registers(targets.m4f_target_xml())
    core = [n for n, _, _ in regs["org.gnu.gdb.arm.m-profile"]]
    assert core == [f"r{i}" for i in range(13)] + ["sp", "lr", "pc", "xpsr"]
    system = [n for n, _, _ in regs["org.gnu.gdb.arm.m-system"]]
    assert system[:2] == ["msp", "psp"] and {"primask", "basepri", "faultmask", "control"} <= set(system)
    vfp = regs["org.gnu.gdb.arm.vfp"]
    assert [n for n, _, _ in vfp] == [f"d{i}" for i in range(16)] + ["fpscr"]   # FPv4-SP-D16
    assert all(bits == 64 for n, bits, _ in vfp if n.startswith("d"))
    numbers = [num for feature in regs.values() for _, _, num in feature]
    assert sorted(numbers) == list(range(len(targets.M4F_REGISTERS)))


def test_a7_description_is_a_profile_with_vfpv4_d32_and_neon():
    regs = _registers(targets.a7_target_xml())
    assert [n for n, _, _ in regs["org.gnu.gdb.arm.core"]][-1] == "cpsr"
    assert len([n for n, _, _ in regs["org.gnu.gdb.arm.vfp"] if n.startswith("d")]) == 32
    assert regs["org.gnu.gdb.arm.neon"] == []
    assert "org.gnu.gdb.arm.m-profile" not in regs


@pytest.mark.parametrize("make, expect", [
    (targets.m4f_target_xml, ["xpsr", "msp", "psp", "primask", "basepri", "faultmask", "control", "d15", "s31"]),
    (targets.a7_target_xml, ["cpsr", "d31", "s31", "fpscr"]),
])
def test_gdb_accepts_the_description(gdb_multiarch, tmp_path, make, expect):
    path = tmp_path / "target.xml"
    path.write_text(make())
    out = subprocess.run([gdb_multiarch, "-batch", "-nx", "-ex", f"set tdesc filename {path}",
                          "-ex", "maint print registers"], capture_output=True, text=True, timeout=60)
    names = {line.split()[0] for line in out.stdout.splitlines()[1:] if line.split()}
    assert out.returncode == 0, out.stderr
    assert "warning" not in out.stderr.lower(), out.stderr
    for name in expect:
        assert name in names, (name, out.stdout[:2000])
    if make is targets.m4f_target_xml:
        assert "cpsr" not in names and "d16" not in names


def test_memory_map_lists_the_io_core_regions():
    m = Machine()
    xml = targets.memory_map_xml(m.views["io0"])
    root = ET.fromstring(xml.split("\n", 2)[2])
    regions = [(r.get("type"), int(r.get("start"), 16), int(r.get("length"), 16)) for r in root.findall("memory")]
    assert ("ram", 0x00100000, 0x30000) in regions            # TCM, 192 KB
    assert ("ram", 0x22000000, 0x10000) in regions            # SYSRAM, 64 KB
    assert any(start <= 0xE000ED00 < start + length for _, start, length in regions)   # SCS
    assert any(start <= 0x21040000 < start + length for _, start, length in regions)   # debug UART
    assert not any(start <= 0x50000000 < start + length for _, start, length in regions)  # nothing there
    ends = sorted((s, s + n) for _, s, n in regions)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(ends, ends[1:]))   # no overlaps
