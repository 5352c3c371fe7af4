"""Identical runs give identical output and instruction counts, with both IO cores and the A7 running."""
from mt3620.testing.device import Device


def _run(hl, rt0, rt1):
    dev = Device.boot(rt0=rt0, rt1=rt1, hl=hl)
    dev.advance("300ms")
    taps = {label: bytes(tap.data) for label, tap in dev.machine.uarts.items()}
    counts = {core.name: core.instructions for core in dev.machine.all_cores()}
    return taps, counts, dev.now, dev.app.exit_code


def test_two_runs_same_bytes_and_instruction_counts(hl_app, firmware):
    first = _run(hl_app("hl_hello"), firmware("gpt_timer"), firmware("hello"))
    second = _run(hl_app("hl_hello"), firmware("gpt_timer"), firmware("hello"))
    assert first == second
    taps, counts, now, exit_code = first
    assert exit_code == 7
    assert b"hl_hello: done" in taps["a7.hl_hello"]
    assert counts["a7"] > 10_000 and counts["io0"] > 0 and counts["io1"] > 0
