"""Identical runs of the intercore pair (the A7 app talking to the RTApp on IO core 0, a second RTApp on IO core 1)
give identical output and instruction counts; the Applibs headers keep the SDK's struct layouts and values."""
from mt3620.testing.device import Device


def _run(hl, rt0, rt1):
    dev = Device.boot(rt0=rt0, rt1=rt1, hl=hl)
    dev.advance("500ms")
    taps = {label: bytes(tap.data) for label, tap in dev.machine.uarts.items()}
    counts = {core.name: core.instructions for core in dev.machine.all_cores()}
    return taps, counts, dev.now


def test_intercore_pair_runs_are_identical(hl_app, firmware, sysroot):
    from mt3620.firmware import toolchain
    rt0 = toolchain.rt_package_path("hl_intercore")
    first = _run(hl_app("hl_intercore"), rt0, firmware("hello"))
    second = _run(hl_app("hl_intercore"), rt0, firmware("hello"))
    assert first == second
    taps, counts, _ = first
    assert b"hl_intercore: received 6 bytes: 'ping 3'" in taps["a7.hl_intercore"]
    assert counts["a7"] > 10_000 and counts["io0"] > 0 and counts["io1"] > 0


def test_struct_layouts_and_values_match_the_sdk(run_c):
    assert run_c("abi", {}) == ["abi ok"]
