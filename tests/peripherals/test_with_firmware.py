"""The models under the project's own IO-core firmware in the embedded engine (skipped when either is missing)."""
from pathlib import Path

import pytest

from mt3620.engine.simulation.clock import parse_duration

BUILD = Path(__file__).resolve().parents[2] / "firmware" / "build"
machine_mod = pytest.importorskip("mt3620.engine.machine.machine", reason="the embedded engine is not built yet")


def machine_with(elf: str):
    path = BUILD / f"{elf}.elf"
    if not path.exists():
        pytest.skip(f"{path} not built (scripts/build_firmware)")
    m = machine_mod.Machine()
    m.load("io0", path)
    return m


def test_intercore_echo_through_mailbox_firmware():
    from mt3620.peripherals.mailbox.intercore import IntercoreA7Endpoint
    m = machine_with("mailbox")
    channel = m.shared_objects["mbox_a7_io0"]
    # Buffers in the IO core's SYSRAM top, reachable by both ends here.
    a7 = IntercoreA7Endpoint(channel, m.view("io0"), "005180bc-402f-4cb3-a662-72937dbcde47",
                             inbound_addr=0x2200E000, outbound_addr=0x2200F000)
    m.run_for(parse_duration("20ms"))
    channel.push(1, 0x12345678, 0xCAFE)
    m.run_for(parse_duration("20ms"))
    assert channel.pop(1) == (0x12345678, 0xCAFE)
    a7.start()
    m.run_for(parse_duration("20ms"))
    for text in (b"hello rtapp", bytes(range(200)), b"x" * 1024):
        a7.send(text)
        got = None
        for _ in range(25):                           # the firmware prints each message at 115200 baud first
            m.run_for(parse_duration("20ms"))
            got = a7.receive()
            if got is not None:
                break
        assert got is not None and got[1] == text
    assert "setup done" in m.uart_text()


def test_watchdog_reset_is_recorded_in_sta():
    m = machine_with("watchdog")
    m.run_for(parse_duration("3s"))
    text = m.uart_text()
    assert "start (STA=0x00000000)" in text
    assert "start (STA=0x00008000)" in text
