"""Crash reports of high-level apps: signal, PC, faulting address and a symbolised backtrace; the machine stops
with a fault, as for the IO cores."""
import pytest

from mt3620.sphere_os.apps import AppCrash
from mt3620.testing.device import DeviceFault


def _crash(boot, crash_package, kind):
    dev = boot(hl=crash_package(kind))
    result = dev.machine.run(duration_ps=10**12)
    return dev, result


def test_segv_report_names_signal_pc_address_and_frames(boot, crash_package):
    dev, result = _crash(boot, crash_package, "segv")
    assert result.reason == "fault"
    fault = result.fault
    assert isinstance(fault, AppCrash) and fault.signal == 11 and fault.address == 0
    report = fault.report
    functions = [f.function for f in report.frames]
    assert functions[:5] == ["crash_here", "call_crash", "call_crash", "call_crash", "main"]
    assert report.frames[0].source.endswith("crash.c:9")
    text = str(fault)
    assert "SIGSEGV at PC 0x" in text and "accessing 0x00000000" in text and "SEGV_MAPERR" in text
    assert dev.lines("a7.os") == ["app crash killed by SIGSEGV"]


def test_abort_is_sigabrt_with_a_backtrace_into_main(boot, crash_package):
    dev, result = _crash(boot, crash_package, "abort")
    report = result.fault.report
    assert report.signal == 6
    assert "abort" in [f.function for f in report.frames]
    assert "main" in [f.function for f in report.frames]


def test_undefined_instruction_is_sigill_at_the_instruction(boot, crash_package):
    dev, result = _crash(boot, crash_package, "ill")
    report = result.fault.report
    assert report.signal == 4 and report.frames[0].function == "main"
    assert report.pc == report.frames[0].pc


def test_a_crash_while_waiting_raises_devicefault(boot, crash_package):
    dev = boot(hl=crash_package("segv"))
    with pytest.raises(DeviceFault, match="SIGSEGV"):
        dev.wait_for_line("never printed", timeout="1s")


def test_no_crash_exits_normally(boot, crash_package):
    dev = boot(hl=crash_package("exit"))
    assert dev.wait_for_exit(timeout="1s") == 0
