"""The project's libgcc_s.so.1: GCC's symbol versions (GCC_3.5 for the EHABI personality routines and the __aeabi
64-bit division), loaded with dlopen through the real musl loader, its division right and its unwinder walking
this program's own EHABI tables."""
from elftools.elf.elffile import ELFFile

from mt3620.firmware import toolchain


def test_symbol_versions_as_real_packages_need(sysroot):
    with open(sysroot / "usr" / "lib" / "libgcc_s.so.1", "rb") as f:
        elf = ELFFile(f)
        assert elf.header["e_flags"] & 0x400       # hard-float
        definitions = {}
        for version, aux in elf.get_section_by_name(".gnu.version_d").iter_versions():
            definitions[version["vd_ndx"]] = next(iter(aux)).name
        versions = set(definitions.values())
        versym = elf.get_section_by_name(".gnu.version")
        names = {}
        for i, sym in enumerate(elf.get_section_by_name(".dynsym").iter_symbols()):
            if sym.name and sym["st_shndx"] != "SHN_UNDEF":
                names[sym.name] = definitions.get(versym.get_symbol(i)["ndx"] & 0x7FFF)
    assert {"GCC_3.0", "GCC_3.3", "GCC_3.4", "GCC_3.5"} <= set(versions)
    expected = {"__aeabi_unwind_cpp_pr0": "GCC_3.5", "__aeabi_unwind_cpp_pr1": "GCC_3.5",
                "_Unwind_VRS_Get": "GCC_3.5", "__aeabi_uldivmod": "GCC_3.5", "__aeabi_ldivmod": "GCC_3.5",
                "_Unwind_RaiseException": "GCC_3.0", "__divdi3": "GCC_3.0", "_Unwind_Backtrace": "GCC_3.3",
                "__popcountsi2": "GCC_3.4"}
    assert {name: names.get(name) for name in expected} == expected
    assert toolchain.HL_APPS   # the libraries come from the same toolchain as the apps


def test_dlopen_division_and_unwinding(run_program):
    dev, app, lines = run_program("libgcc", extra=("-rdynamic",))     # dladdr names exported functions
    assert app.exit_code == 0, lines
    assert "uldivmod 142857142857" in lines
    assert "divdi3 -100000000000 moddi3 -1" in lines
    assert "frame outer" in lines and "frame main" in lines
    assert "unwound 1 frames" in lines


def test_division_by_zero_raises_sigfpe_with_a_report(run_program):
    dev, app, lines = run_program("libgcc", args=["fpe"], extra=("-rdynamic",), expect_exit=False)
    result = dev.machine.run(duration_ps=10**12)
    assert result.reason == "fault"
    report = result.fault.report
    assert report.signal == 8 and "main" in [f.function for f in report.frames]
    assert dev.lines("a7.os") == ["app libgcc killed by SIGFPE"]
