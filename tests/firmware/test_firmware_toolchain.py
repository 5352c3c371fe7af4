"""The firmware toolchain (mt3620.firmware.toolchain, scripts/build_firmware) and the shape of the ELF files it makes.

These tests need no emulator: they build with the real compiler and read the ELF files with pyelftools.
"""
from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

from mt3620.firmware import toolchain
from mt3620.testing.pytest_plugin import require_compiler

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "build_firmware"

TCM = (0x00100000, 0x00100000 + 192 * 1024)
FLASH = (0x10000000, 0x10000000 + 1024 * 1024)
SYSRAM = (0x22000000, 0x22000000 + 64 * 1024)
STACK_TOP = 0x00130000
VECTORS = 16 + 100
EF_ARM_ABI_FLOAT_HARD = 0x400


@pytest.fixture
def cc():
    return require_compiler()


@pytest.fixture(scope="module")
def built() -> dict[str, Path]:
    require_compiler()
    return toolchain.build_all()


def _inside(lo_hi: tuple[int, int], start: int, size: int) -> bool:
    return lo_hi[0] <= start and start + size <= lo_hi[1]


def _segments(elf: ELFFile) -> list:
    return [s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"]


def test_firmware_list_matches_sources():
    assert len(toolchain.FIRMWARE) >= 16
    for name, description in toolchain.FIRMWARE.items():
        assert description and "\n" not in description
        spec = toolchain._SPECS[name]
        assert (toolchain.FIRMWARE_DIR / spec.src / "main.c").is_file(), name
        assert (toolchain.FIRMWARE_DIR / (spec.runtime or spec.src) / spec.ld).is_file(), name


@pytest.mark.parametrize("name", [n for n in toolchain.FIRMWARE if toolchain._SPECS[n].runtime])  # RTApps only
def test_elf_layout(built, name):
    """Entry point = vector table (word 0 the initial MSP at the end of TCM, word 1 a Thumb reset handler),
    every PT_LOAD inside TCM, the XIP window or SYSRAM, hard-float EABI5 ARM, every handler in code."""
    xip = toolchain._SPECS[name].ld == "xip.ld"
    with open(built[name], "rb") as f:
        elf = ELFFile(f)
        assert elf.elfclass == 32 and elf.little_endian
        assert elf["e_machine"] == "EM_ARM" and elf["e_type"] == "ET_EXEC"
        assert elf["e_flags"] & EF_ARM_ABI_FLOAT_HARD
        assert elf["e_flags"] >> 24 == 5  # EABI version 5
        entry = elf["e_entry"]
        assert entry == (FLASH[0] if xip else TCM[0])

        table = elf.get_section_by_name(".symtab").get_symbol_by_name("ExceptionVectorTable")[0]
        assert table["st_value"] == entry and table["st_size"] == 4 * VECTORS

        loads = _segments(elf)
        assert loads
        code = []
        for seg in loads:
            start, memsz = seg["p_vaddr"], seg["p_memsz"]
            assert seg["p_paddr"] == start
            assert seg["p_filesz"] <= memsz
            assert any(_inside(r, start, memsz) for r in (TCM, FLASH, SYSRAM)), hex(start)
            if seg["p_flags"] & 1:  # PF_X
                code.append((start, start + seg["p_filesz"]))
        spans = sorted((s["p_vaddr"], s["p_vaddr"] + s["p_memsz"]) for s in loads)
        for (_, end), (nxt, _) in zip(spans, spans[1:]):
            assert end <= nxt, "PT_LOAD segments overlap"
        # Writable data and .bss stay in TCM below the stack (or in SYSRAM: DMA buffers, .sysram).
        for sec in elf.iter_sections():
            if sec["sh_flags"] & SH_FLAGS.SHF_ALLOC and sec["sh_flags"] & SH_FLAGS.SHF_WRITE:
                in_tcm = _inside(TCM, sec["sh_addr"], sec["sh_size"])
                assert in_tcm or _inside(SYSRAM, sec["sh_addr"], sec["sh_size"])
                if in_tcm:
                    assert sec["sh_addr"] + sec["sh_size"] <= STACK_TOP - 2048, sec.name

        seg = next(s for s in loads if s["p_vaddr"] <= entry < s["p_vaddr"] + s["p_filesz"])
        raw = seg.data()[entry - seg["p_vaddr"]: entry - seg["p_vaddr"] + 4 * VECTORS]
        words = struct.unpack(f"<{VECTORS}I", raw)
        assert words[0] == STACK_TOP
        for index, handler in enumerate(words[1:], start=1):
            if index in (7, 8, 9, 10, 13):  # reserved exception numbers
                assert handler == 0
                continue
            assert handler & 1, f"vector {index} is not a Thumb address"
            assert any(lo <= (handler & ~1) < hi for lo, hi in code), f"vector {index} 0x{handler:x} not in code"


def test_sections_in_xip_window(built):
    with open(built["hello_xip"], "rb") as f:
        elf = ELFFile(f)
        text = elf.get_section_by_name(".text")
        assert _inside(FLASH, text["sh_addr"], text["sh_size"])
        # Code run from XIP flash sits at a 32-byte aligned offset in the file (Azure sample linker.ld).
        assert text["sh_offset"] % 32 == 0


def test_fpu_firmware_uses_the_fpu_and_others_do_not_need_it(built):
    """The fpu firmware really executes VSQRT/VDIV; integer-only firmware carries no FP instructions, so
    they run whatever the reset value of CPACR."""
    objdump = shutil.which("llvm-objdump")
    if not objdump:
        pytest.skip("llvm-objdump not installed")
    def disasm(name):
        return subprocess.run([objdump, "-d", str(built[name])], capture_output=True, text=True, check=True).stdout
    fpu = disasm("fpu")
    assert "vsqrt.f32" in fpu and "vdiv.f32" in fpu
    for name in ("hello", "gpt_timer", "uart_irq", "watchdog", "crc32"):
        text = disasm(name)
        assert not any(op in text for op in ("vldr", "vstr", "vmov", "vadd", "vmul", "vdiv", "vpush")), name


def test_builds_are_deterministic_and_incremental(cc, tmp_path, monkeypatch):
    """Two builds from scratch (each with an empty compiler cache) give the same bytes; a build with
    nothing changed does not touch the file; a changed source rebuilds; reverting gives the first bytes."""
    src = tmp_path / "firmware"
    shutil.copytree(toolchain.FIRMWARE_DIR, src, ignore=shutil.ignore_patterns("build"))
    monkeypatch.setenv("ZIG_GLOBAL_CACHE_DIR", str(tmp_path / "zig-cache-1"))
    monkeypatch.setenv("ZIG_LOCAL_CACHE_DIR", str(tmp_path / "zig-cache-1"))
    first = toolchain.build("hello", tmp_path / "a", src_dir=src)
    monkeypatch.setenv("ZIG_GLOBAL_CACHE_DIR", str(tmp_path / "zig-cache-2"))
    monkeypatch.setenv("ZIG_LOCAL_CACHE_DIR", str(tmp_path / "zig-cache-2"))
    second = toolchain.build("hello", tmp_path / "b", src_dir=src)
    original = first.read_bytes()
    assert original == second.read_bytes()
    # Same bytes as the checkout's own build: source paths are recorded relative to the firmware folder.
    assert original == toolchain.build("hello", tmp_path / "c").read_bytes()

    stamp_before = first.stat().st_mtime_ns
    assert toolchain.build("hello", tmp_path / "a", src_dir=src) == first
    assert first.stat().st_mtime_ns == stamp_before

    main_c = src / "hello" / "main.c"
    text = main_c.read_text()
    main_c.write_text(text.replace("hello: done", "hello: finished"))
    changed = toolchain.build("hello", tmp_path / "a", src_dir=src).read_bytes()
    assert changed != original and b"hello: finished" in changed

    main_c.write_text(text)
    assert toolchain.build("hello", tmp_path / "a", src_dir=src).read_bytes() == original

    # A header counts as a source too.
    header = src / "common" / "rt.h"
    header.write_text(header.read_text() + "\n/* changed */\n")
    toolchain.build("hello", tmp_path / "a", src_dir=src)
    assert first.stat().st_mtime_ns != stamp_before


def test_tampered_output_is_rebuilt(cc, tmp_path):
    elf = toolchain.build("hello", tmp_path)
    good = elf.read_bytes()
    elf.write_bytes(good[:-1] + bytes([good[-1] ^ 0xFF]))
    assert toolchain.build("hello", tmp_path).read_bytes() == good


def test_compile_error_is_reported_with_its_location(cc, tmp_path):
    src = tmp_path / "firmware"
    shutil.copytree(toolchain.FIRMWARE_DIR, src, ignore=shutil.ignore_patterns("build"))
    good = toolchain.build("hello", tmp_path / "out", src_dir=src)
    (src / "hello" / "main.c").write_text("int main(void) { return missing_symbol; }\n")
    with pytest.raises(toolchain.ToolchainError) as err:
        toolchain.build("hello", tmp_path / "out", src_dir=src)
    assert "hello/main.c:1" in str(err.value) and "missing_symbol" in str(err.value)
    # The previous, now stale, ELF is gone rather than left to be booted by mistake.
    assert not good.exists() and not (tmp_path / "out" / "hello.elf.stamp").exists()


def test_unknown_firmware_name():
    with pytest.raises(toolchain.ToolchainError, match="unknown firmware 'nope'"):
        toolchain.firmware_path("nope")


def test_no_compiler_gives_a_clear_error(monkeypatch):
    monkeypatch.setattr(toolchain, "_compiler_cache", {})
    monkeypatch.setattr(toolchain, "_zig", lambda: None)
    monkeypatch.setattr(toolchain, "_gcc", lambda: None)
    with pytest.raises(toolchain.ToolchainError, match="no C compiler.*pip install ziglang"):
        toolchain.find_compiler()
    with pytest.raises(toolchain.ToolchainError, match="unknown firmware compiler"):
        toolchain.find_compiler("clang")


def _script(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})}, cwd=ROOT)


def test_script_lists_every_firmware():
    res = _script("--list")
    assert res.returncode == 0
    for name in toolchain.FIRMWARE:
        assert name in res.stdout


def test_script_errors_are_one_line_without_traceback():
    res = _script("no_such_firmware")
    assert res.returncode == 2
    assert res.stderr.startswith("build_firmware: error: unknown firmware") and "Traceback" not in res.stderr
    # gcc asked for where it cannot exist: a clear message, no traceback.
    res = _script("--cc", "gcc", "hello", env={"PATH": "/nonexistent"})
    assert res.returncode == 2
    assert "arm-none-eabi-gcc" in res.stderr and "Traceback" not in res.stderr


def test_script_builds_into_a_folder(cc, tmp_path):
    res = _script("-o", str(tmp_path), "hello", "crc32")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "hello.elf").is_file() and (tmp_path / "crc32.elf").is_file()
    assert "built" in res.stdout
    again = _script("-o", str(tmp_path), "hello")
    assert "up to date" in again.stdout


@pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="arm-none-eabi-gcc not installed")
def test_gcc_fallback_builds_the_same_layout(tmp_path):
    paths = toolchain.build_all(tmp_path, compiler="gcc", names=["hello", "hello_xip", "fpu"])
    for name, path in paths.items():
        with open(path, "rb") as f:
            elf = ELFFile(f)
            assert elf["e_entry"] == (FLASH[0] if name == "hello_xip" else TCM[0])
            assert elf["e_flags"] & EF_ARM_ABI_FLOAT_HARD
            seg = _segments(elf)[0]
            assert struct.unpack("<I", seg.data()[:4])[0] == STACK_TOP


def test_gdb_target_has_symbols_and_line_info(built):
    """What the GDB tests rely on: global functions and variables by name, and DWARF lines for main.c."""
    with open(built["gdb_target"], "rb") as f:
        elf = ELFFile(f)
        symtab = elf.get_section_by_name(".symtab")
        for name in ("gdb_add", "gdb_count_to", "gdb_float_compute", "gdb_busy_loop", "main"):
            sym = symtab.get_symbol_by_name(name)[0]
            assert sym["st_info"]["type"] == "STT_FUNC" and sym["st_value"] & 1, name
            assert sym["st_info"]["bind"] == "STB_GLOBAL" or name == "main"
        for name in ("gdb_counter", "gdb_spin", "gdb_result"):
            sym = symtab.get_symbol_by_name(name)[0]
            assert sym["st_info"]["type"] == "STT_OBJECT" and sym["st_size"] == 4, name
            assert TCM[0] <= sym["st_value"] < STACK_TOP
        dwarf = elf.get_dwarf_info()
        files = set()
        for cu in dwarf.iter_CUs():
            lp = dwarf.line_program_for_CU(cu)
            files.update(entry.name.decode() for entry in lp["file_entry"])
        assert "main.c" in files or any(f.endswith("gdb_target/main.c") for f in files)
