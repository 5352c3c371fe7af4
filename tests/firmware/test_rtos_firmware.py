"""The project's RTOS firmware and the behaviours MediaTek's FreeRTOS samples need (issue 18), on the machine:
the IO core's TCM ROM window at 0x00000000 (null_tick), a FreeRTOS-like two-task queue ping-pong with FP tasks
switched by PendSV (rtos_pingpong), the structure of ThreadX's demo on a ThreadX-like port (rtos_threadx) and the
background interrupt load of the benchmark (tick_uart)."""
from __future__ import annotations

import re

from mt3620.engine.simulation.clock import PS_PER_SECOND

MS = PS_PER_SECOND // 1000


def test_null_tick_reads_zero_at_address_0_ignores_stores_and_faults_on_calls(chip):
    b = chip(io0="null_tick")
    b.run_until(r"^null_tick: done$", "100ms")
    t = b.texts()
    # The banner takes several milliseconds at 115200 baud: 1 kHz ticks came while "the lists" were NULL, and
    # every one of them read an empty list at 0x00000000 and a zero priority at 0x0000002c.
    m = re.fullmatch(r"null_tick: (\d+) ticks, (\d+) saw an empty list at 0x00000000, priority sum 0 from 0x0000002c",
                     t[1])
    assert m and int(m.group(1)) >= 5 and m.group(1) == m.group(2), t[1]
    assert t[2] == "null_tick: stored 3 at 0x00000001, reads back 0"
    # The window holds no code the emulator can run: a call there is an instruction bus error (CFSR.IBUSERR).
    assert t[3] == "null_tick: call to 0x00000000 faulted with CFSR 0x00000100 at 0x00000000, recovered"
    assert t[4] == "null_tick: call to 0x00000001 faulted with CFSR 0x00000100 at 0x00000000, recovered"
    assert t[5:] == ["null_tick: done"]


def test_address_0_is_read_as_zero_on_both_io_cores(chip):
    b = chip(io0="hello", io1="hello")
    for core in ("io0", "io1"):
        view = b.machine.view(core)
        assert view.read(0x00000000, 16) == bytes(16)
        assert view.read(0x000FFFFC, 4) == bytes(4)
        view.write(0x00000000, b"\x01\x02\x03\x04")      # ignored, as the guest's stores
        assert view.read(0x00000000, 4) == bytes(4)
        # Every access is logged, but a guest looping through a NULL pointer does not grow memory without bound.
        rom = b.machine.devices[f"{core}_tcm_rom"]
        for _ in range(3000):
            view.read(0x00000004, 4)
        assert len(rom.accesses) == rom.ACCESSES_KEPT and rom.accesses[-1] == ("r", 4, 4, 0)


def test_pingpong_tasks_exchange_hundreds_of_thousands_of_messages_a_second(chip):
    b = chip(io0="rtos_pingpong")
    line = b.run_until(r"^rtos_pingpong: 1 s:", "1100ms")
    m = re.fullmatch(r"rtos_pingpong: 1 s: (\d+) round trips \(\+\d+\), (\d+) context switches, answers ok, fp ok",
                     line.text)
    assert m, line.text
    trips, switches = int(m.group(1)), int(m.group(2))
    assert trips > 100_000
    # Two switches per round trip through PendSV (each task blocks once per exchange), plus a few for the reporter.
    assert 2 * trips <= switches <= 2 * trips + 10
    core = b.machine.cores["io0"]
    if core._native is not None:
        assert core._native.stats()["bails"] == 0


def test_threadx_like_demo_threads_make_progress(chip):
    b = chip(io0="rtos_threadx")
    first = b.run_until(r"^rtos_threadx: thread 0 events sent 10,", "1500ms")
    second = b.run_until(r"^rtos_threadx: thread 0 events sent 20,", "1500ms")
    pattern = (r"rtos_threadx: thread 0 events sent (\d+), 1 messages sent (\d+), 2 messages received (\d+), "
               r"3/4 semaphore (\d+)/(\d+), 5 events (\d+), 6/7 mutex (\d+)/(\d+), (\d+) context switches")
    a = [int(x) for x in re.fullmatch(pattern, first.text).groups()]
    c = [int(x) for x in re.fullmatch(pattern, second.text).groups()]
    # 10 rounds of 10 ticks at 100 Hz apart, plus the time thread 0 spends printing its line (polled, 115200 baud).
    assert 1000 * MS <= second.time_ps - first.time_ps <= 1030 * MS
    assert all(later > earlier for earlier, later in zip(a[1:], c[1:])), (a, c)
    # The queue keeps up (at most its 100 entries plus one in hand between sender and receiver).
    assert 0 <= c[1] - c[2] <= 101
    # Threads 3/4 and 6/7 alternate on their semaphore and mutex; thread 5 wakes once per thread 0 round.
    assert abs(c[3] - c[4]) <= 1 and abs(c[6] - c[7]) <= 1 and abs(c[5] - c[0]) <= 1
    assert "BROKEN" not in second.text


def test_tick_uart_takes_an_interrupt_per_byte(chip):
    b = chip(io0="tick_uart")
    b.run_for("100ms")
    core = b.machine.cores["io0"]
    sent = b"".join(bytes(tap.data) for label, tap in b.machine.uarts.items() if label == "io0.io0_uart")
    assert sent.count(b"tick_uart: line ") >= 30
    # 115200 baud: about 1,150 bytes (interrupts) and 100 ticks in 100 ms, and the core asleep in between.
    assert core.instructions < 2_000_000
    if core._native is not None:
        assert core._native.stats()["entries"] > 1_000
