"""The project's firmware booted on the emulated MT3620: UART lines (docs/firmware.md is the contract), GPIO
levels, faults, resets, interrupts and two IO cores running different programs at once."""
from __future__ import annotations

import struct
import zlib

import pytest

from mt3620.engine.simulation.clock import PS_PER_SECOND

MS = PS_PER_SECOND // 1000


def f32(x: float) -> float:
    """Round to IEEE-754 single precision (each FPU operation rounds its exact result once)."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def bits(x: float) -> str:
    return f"0x{struct.unpack('<I', struct.pack('<f', x))[0]:08x}"


# ---- polled UART, formatter, XIP ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["hello", "hello_xip"])
def test_hello(chip, name):
    b = chip(io0=name)
    b.run_until(r"^hello: done$", "50ms")
    assert b.texts() == [
        "hello: Hello from the MT3620 IO core",
        "hello: fmt 42 -7 4294967295 0xdeadbeef 000000FF [  abc] [abc  ] x % 0x00100000",
        "hello: done",
    ]
    # 115200 8N1: 10 bits per byte; about 130 bytes take 11 ms of virtual time, not less.
    assert 10 * MS < b.line("hello: done").time_ps < 15 * MS


def test_two_cores_run_different_programs_at_once(chip):
    b = chip(io0="context_switch", io1="fpu")
    b.run_until(r"^fpu: done$", "100ms", core="io1")
    b.run_until(r"^context_switch: done$", "200ms", core="io0")
    assert b.texts("io1")[0] == "fpu: start" and "fpu: dot x 100 = 3225 bits 0x42010000" in b.texts("io1")
    assert all(not t.startswith("fpu") for t in b.texts("io0"))
    assert all(not t.startswith(("thread", "context")) for t in b.texts("io1"))
    # Both made progress in the same stretch of virtual time.
    assert b.line("fpu: start", "io1").time_ps < b.line("context_switch: done", "io0").time_ps


def test_interrupts_reach_the_right_core(chip):
    """GPT interrupts on io0 and UART interrupts on io1 at once: each core's NVIC gets only its own blocks."""
    b = chip(io0="gpt_timer", io1="uart_irq")
    b.run_until(r"^gpt_timer: done after 5 ticks$", "800ms", core="io0")
    b.run_until(r"^uart_irq: isr_calls=\d+$", "200ms", core="io1")
    start = b.line("gpt_timer: start", "io0").time_ps
    assert 500 * MS <= b.line("gpt_timer: tick 5", "io0").time_ps - start <= 504 * MS
    assert b.texts("io1")[9] == "uart_irq: done"


def test_watchdog_reset_of_one_core_leaves_the_other_running(chip):
    b = chip(io0="watchdog", io1="context_switch")
    b.run_until(r"^watchdog: reset by watchdog$", "2s", core="io0")
    io1 = b.texts("io1")
    assert io1.count("context_switch: start") == 1 and io1[-1] == "context_switch: done"


def test_same_firmware_on_both_cores_is_independent(chip):
    b = chip(io0="crc32", io1="hello")
    b.run_until(r"^crc32: done$", "1s")
    assert b.texts("io1")[-1] == "hello: done"
    assert "crc32: buffer crc=0xc39b3ffa" in b.texts("io0")


def test_runs_are_deterministic(chip):
    outputs = []
    for _ in range(2):
        b = chip(io0="uart_irq", io1="context_switch")
        b.run_for("60ms")
        outputs.append([(ln.uart, ln.text, ln.time_ps) for ln in b.lines])
    assert outputs[0] == outputs[1] and len(outputs[0]) > 10


# ---- FPU, CRC, GDB target ----------------------------------------------------------------------------------------
def test_fpu_results_are_exact(chip):
    b = chip(io0="fpu")
    b.run_until(r"^fpu: done$", "100ms")

    def newton(x):
        g = x
        for _ in range(20):
            g = f32(0.5 * f32(g + f32(x / g)))
        return g

    s2, s10 = newton(2.0), newton(10.0)
    dot = 0.0
    for a, c in zip((1.5, 2.25, -3.0, 4.125), (2.0, -1.0, 0.5, 8.0)):
        dot = f32(dot + f32(a * c))
    third, pi = f32(1 / 3), f32(22 / 7)
    million = f32(1e6)
    assert b.texts() == [
        "fpu: start",
        "fpu: CPACR 0x00000000 -> 0x00f00000",
        f"fpu: newton sqrt(2) x 1e6 = {int(f32(s2 * million))} bits {bits(s2)}",
        f"fpu: newton sqrt(10) x 1e6 = {int(f32(s10 * million))} bits {bits(s10)}",
        f"fpu: vsqrt sqrt(2) x 1e6 = {int(f32(f32(2 ** 0.5) * million))} bits {bits(f32(2 ** 0.5))}",
        f"fpu: dot x 100 = {int(f32(dot * 100))} bits {bits(dot)}",
        f"fpu: 1/3 x 1e6 = {int(f32(third * million))} bits {bits(third)}",
        f"fpu: 22/7 x 1e6 = {int(f32(pi * million))} bits {bits(pi)}",
        f"fpu: -22/7 x 1e6 = {int(f32(-pi * million))}",
        "fpu: done",
    ]


def test_crc32_benchmark_result(chip):
    b = chip(io0="crc32")
    b.run_until(r"^crc32: done$", "2s")
    x, buf = 12345, bytearray()
    for _ in range(4096):
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF
        buf.append((x >> 16) & 0xFF)
    t = b.texts()
    assert t[0] == "crc32: start at 197600000 Hz"
    assert t[1] == f"crc32: buffer crc=0x{zlib.crc32(bytes(buf)):08x}"
    assert t[2] == f"crc32: rounds=1024 crc=0x{zlib.crc32(bytes(buf) * 1024):08x}"
    us = int(t[3].removeprefix("crc32: elapsed_us="))
    # 4 MB through a table-driven loop at 197.6 MHz: a few cycles per byte.
    assert 4 * 4 * 1024 * 1024 / 197.6 < us < 20 * 4 * 1024 * 1024 / 197.6
    assert t[4] == "crc32: done"


def test_gdb_target_output(chip):
    b = chip(io0="gdb_target")
    b.run_until(r"^gdb_target: busy$", "50ms")
    assert b.texts() == ["gdb_target: start", "gdb_target: add=5", "gdb_target: counter=10",
                         "gdb_target: float x 100 = 575", "gdb_target: busy"]
    b.run_for("5ms")
    assert b.machine.core("io0").halted is False  # still spinning in gdb_busy_loop


# ---- faults ------------------------------------------------------------------------------------------------------
def test_busfault_handler_reports_and_resumes(chip):
    b = chip(io0="busfault")
    b.run_until(r"^busfault: done$", "50ms")
    assert b.texts() == ["busfault: start, BusFault enabled",
                         "busfault: CFSR=0x00008200 BFAR=0x50000000",
                         "busfault: recovered after 1 fault(s)",
                         "busfault: done"]


def test_unhandled_busfault_escalates_to_hardfault(chip):
    b = chip(io0="busfault_unhandled")
    b.run_until(r"^hardfault: stopped$", "50ms")
    assert b.texts() == ["busfault_unhandled: start, BusFault disabled",
                         "hardfault: HFSR=0x40000000 CFSR=0x00008200 BFAR=0x50000000",
                         "hardfault: stopped"]


# ---- exceptions and threads --------------------------------------------------------------------------------------
def test_context_switch_threads_alternate_on_psp(chip):
    b = chip(io0="context_switch")
    b.run_until(r"^context_switch: done$", "200ms")
    expected = ["context_switch: start"]
    for n in range(1, 6):
        expected += [f"thread A: {n} on psp, fp ok", f"thread B: {n} on psp, fp ok"]
    assert b.texts() == expected + ["context_switch: done"]
    # Switches come from the 1 kHz SysTick: consecutive lines are at least one tick apart.
    times = [ln.time_ps for ln in b.lines[1:]]
    assert all(later - earlier >= MS - MS // 10 for earlier, later in zip(times, times[1:-1]))


# ---- timers ------------------------------------------------------------------------------------------------------
def test_gpt_timer_repeat_interrupts(chip):
    b = chip(io0="gpt_timer")
    b.run_until(r"^gpt_timer: done after 5 ticks$", "800ms")
    t = b.texts()
    assert t[:6] == ["gpt_timer: start"] + [f"gpt_timer: tick {n}" for n in range(1, 6)]
    start = b.line("gpt_timer: start").time_ps
    for n in range(1, 6):
        # 3277 counts of 32.768 kHz per tick, plus the time to print the line (17 bytes at 115200).
        at = b.line(f"gpt_timer: tick {n}").time_ps - start
        assert n * 100 * MS <= at <= n * 100 * MS + 4 * MS, (n, at / MS)
    elapsed = int(t[6].removeprefix("gpt_timer: gpt2 elapsed ").removesuffix(" counts"))
    assert 5 * 3277 - 2 <= elapsed <= 5 * 3277 + 100
    assert t[7] == "gpt_timer: done after 5 ticks"


def test_gpt3_busy_wait_and_expire_interrupt(chip):
    b = chip(io0="gpt3")
    b.run_until(r"^gpt3: done$", "100ms")
    t = b.texts()
    assert t[:2] == ["gpt3: start", "gpt3: busy-wait of 1000 us done"]
    assert t[2].startswith("gpt3: expire interrupt after 5000 us (cnt=")
    cnt = int(t[2].split("cnt=")[1].rstrip(")"))
    assert 4999 <= cnt <= 5020, cnt  # the ISR reads CNT right after the expiry
    assert t[3] == "gpt3: done"


# ---- interrupt-driven UART ---------------------------------------------------------------------------------------
def test_uart_irq_transmit_and_receive(chip):
    b = chip(io0="uart_irq")
    b.run_until(r"^uart_irq: isr_calls=\d+$", "150ms")
    t = b.texts()
    assert t[0] == "uart_irq: start"
    assert t[1:9] == [f"uart_irq: line {n} of 8: the quick brown fox jumps over the lazy dog" for n in range(1, 9)]
    assert t[9] == "uart_irq: done"
    # At most 16 bytes per THR-empty interrupt: about 620 bytes need dozens of ISR entries.
    assert int(t[10].split("=")[1]) >= 620 // 16
    b.device.send("io0.io0_uart", b"Az")
    b.run_until(r"^uart_irq: rx 0x7a$", "20ms")
    assert b.texts()[-2:] == ["uart_irq: rx 0x41", "uart_irq: rx 0x7a"]


def test_uart_dma_through_half_size_channels(chip):
    """MediaTek's OS_HAL UART DMA (vff_mode 0) in small: ISU0's UART paced by DMA channels 0 (TX) and 1 (RX)."""
    b = chip(io0="uart_dma")
    b.run_until(r"^uart_dma: rx ready$", "20ms")
    t = b.texts()
    assert t[:2] == ["uart_dma: start", "uart_dma: tx done, RLCT 0, TX_OFFSET 16"]   # the last beat entered the FIFO
    b.run_for("5ms")                                    # the rest of the line leaves at 115200 baud
    assert b.device.output("isu0_uart") == "uart_dma: this line went out by DMA ch0\n"
    b.device.send("isu0_uart", b"pong!")
    b.run_until(r"^uart_dma: rx done", "10ms")
    assert b.texts()[-1] == "uart_dma: rx done, RLCT 0: pong"


def test_irq_storm_benchmark_completes(chip):
    b = chip(io0="irq_storm")
    b.run_until(r"^irq_storm: done$", "1500ms")
    t = b.texts()
    assert t[0] == "irq_storm: start at 197600000 Hz"
    summary = t[-2]
    assert summary.startswith("irq_storm: ticks=1000 lines=")
    fields = dict(kv.split("=") for kv in summary.split()[1:])
    lines = int(fields["lines"])
    # 115200 baud carries about 11.5 kB/s: some 380 lines of ~30 bytes in the second of SysTicks.
    assert 300 <= lines <= 420
    assert len([x for x in t if x.startswith("irq_storm: line ")]) == lines
    assert int(fields["uart_isr_calls"]) > lines
    assert 0.9 < b.seconds() < 1.2


# ---- GPIO, board ---------------------------------------------------------------------------------------------------
def test_demo_blinks_led_and_reports_button(chip):
    b = chip(io0="demo")
    dev = b.device
    b.run_until(r"^blink 1$", "600ms")
    assert b.texts()[:2] == ["MT3620 emulator demo: IO core at 197600000 Hz",
                             "demo: LED1 red (GPIO 8) blinks every 500 ms; press button A (GPIO 12)"]
    assert b.machine.core("io0").hz == 197_600_000  # the PLL really clocks the core now
    assert dev.led("LED1_R")
    # GPT0 starts right after the banner is printed; "blink 1" (8 bytes) follows its first 500 ms period.
    armed = b.line("demo: LED1 red (GPIO 8) blinks every 500 ms; press button A (GPIO 12)").time_ps
    t1 = b.line("blink 1").time_ps
    assert 500 * MS <= t1 - armed <= 502 * MS
    b.run_until(r"^blink 2$", "600ms")
    assert not dev.led("LED1_R")
    assert 499 * MS <= b.line("blink 2").time_ps - t1 <= 501 * MS
    dev.press("A")
    line = b.run_until(r"^button A pressed$", "30ms")
    dev.release("A")
    b.run_for("30ms")
    assert b.texts().count("button A pressed") == 1
    assert line.time_ps > b.line("blink 2").time_ps


def test_eint_wake_sleeps_until_gpt3_or_a_press_of_button_a(chip):
    """MediaTek's LP sample in small: EINT 12 level-low (POL 1) must not fire while button A is released (high)."""
    b = chip(io0="eint_wake")
    dev = b.device
    b.run_until(r"^eint_wake: sleeping", "20ms")
    woke = b.run_until(r"^eint_wake: woken by ", "2100ms")
    assert woke.text in ("eint_wake: woken by GPT3 after 2000 ms", "eint_wake: woken by GPT3 after 1999 ms")
    b.run_until(r"^eint_wake: sleeping", "20ms", fresh=True)
    b.run_for("300ms")
    dev.press("A")
    woke = b.run_until(r"^eint_wake: woken by EINT", "10ms", fresh=True)
    assert woke.text.startswith("eint_wake: woken by EINT 12 after 30")    # 300 ms + the 0.5 ms debounce
    b.run_for("50ms")
    assert b.texts()[-1] == woke.text                  # held down: no new round until it is released
    dev.release("A")
    b.run_until(r"^eint_wake: sleeping", "20ms", fresh=True)
    b.run_until(r"^eint_wake: done$", "2100ms")
    assert b.texts()[-2].startswith("eint_wake: woken by GPT3")


def test_blink_button_led_follows_button(chip):
    b = chip(io0="blink_button")
    dev = b.device
    b.run_until(r"^blink_button: buttons A=1 B=1$", "600ms")
    assert b.texts() == ["blink_button: start"] + ["blink_button: led1 blue on", "blink_button: led1 blue off"] * 2 \
        + ["blink_button: buttons A=1 B=1"]
    assert not dev.led("LED1_R") and not dev.led("LED1_B")
    dev.press("A")
    b.run_until(r"^blink_button: buttons A=0 B=1$", "20ms")
    b.run_for("3ms")
    assert dev.led("LED1_R")
    dev.press("B")
    b.run_until(r"^blink_button: buttons A=0 B=0$", "20ms")
    dev.release("A")
    dev.release("B")
    b.run_until(r"^blink_button: buttons A=1 B=1$", "20ms", fresh=True)
    b.run_for("3ms")
    assert not dev.led("LED1_R")


# ---- watchdog ------------------------------------------------------------------------------------------------------
def test_watchdog_resets_the_core(chip):
    b = chip(io0="watchdog")
    b.run_until(r"^watchdog: reset by watchdog$", "2s")
    assert b.texts() == [
        "watchdog: start (STA=0x00000000)",
        "watchdog: enabled, timeout 500 ms",
        "watchdog: kick 1",
        "watchdog: kick 2",
        "watchdog: kick 3",
        "watchdog: stopped kicking",
        "watchdog: start (STA=0x00008000)",
        "watchdog: reset by watchdog",
    ]
    kick3 = b.line("watchdog: kick 3").time_ps
    kick2 = b.line("watchdog: kick 2").time_ps
    assert 199 * MS <= kick3 - kick2 <= 205 * MS
    # The reset comes about 500 ms after the last kick (the kick happens just before its line is printed).
    reboot = b.line("watchdog: start (STA=0x00008000)").time_ps
    assert 490 * MS <= reboot - kick3 <= 510 * MS
    b.run_for("700ms")
    assert b.texts()[-1] == "watchdog: reset by watchdog"  # disabled after the reset: no second one


# ---- mailbox -------------------------------------------------------------------------------------------------------
def test_mailbox_echoes_raw_fifo_entries(chip):
    b = chip(io0="mailbox")
    b.run_until(r"^mailbox: waiting for the A7$", "10ms")
    channel = b.machine.shared_objects["mbox_a7_io0"]
    a7 = 1  # the IO core is side 0 of its A7 mailbox
    assert channel.push(a7, 0x12345678, 0x9ABCDEF0)
    # The "A7 wrote" FIFO interrupt (INT_EN bit 1, IRQ 8) wakes the core at once: the entry is popped long before
    # the firmware's 10 ms SysTick would have found it.
    b.run_for("200us")
    assert channel.incoming(0) == 0
    b.run_until(r"^mailbox: fifo echoed$", "20ms")
    assert b.texts()[-2:] == ["mailbox: fifo cmd=0x12345678 data=0x9abcdef0", "mailbox: fifo echoed"]
    assert channel.pop(a7) == (0x12345678, 0x9ABCDEF0)
    assert channel.pop(a7) is None
    # The pop raises the IO core's "A7 read" FIFO interrupt (INT_STS bit 3, IRQ 6).
    b.run_until(r"^mailbox: the A7 popped 1 echoed entries$", "10ms")


def test_mailbox_intercore_messages_are_echoed(chip):
    from mt3620.peripherals.mailbox.intercore import IntercoreA7Endpoint
    b = chip(io0="mailbox")
    b.run_until(r"^mailbox: waiting for the A7$", "10ms")
    channel = b.machine.shared_objects["mbox_a7_io0"]
    # Shared buffers in the IO core's SYSRAM, reachable by both ends (placement chosen by this test).
    memory = b.machine.view("io0")
    cid = "25025d2c-66da-4448-bae1-ac26fcdd3627"
    a7 = IntercoreA7Endpoint(channel, memory, cid, inbound_addr=0x22008000, outbound_addr=0x22009000)
    a7.start()
    b.run_until(r"^mailbox: setup done$", "20ms")
    assert b.texts()[1:] == ["mailbox: outbound buffer 0x22008000, 4096 bytes",
                             "mailbox: inbound buffer 0x22009000, 4096 bytes",
                             "mailbox: setup done"]
    for payload in (b"hello", b"second message\x01"):
        a7.send(payload)
        b.run_until(rf"^mailbox: echoed {len(payload)} bytes$", "30ms")
        shown = payload.decode("ascii", "replace").replace("\x01", ".")
        assert b.texts()[-2] == f"mailbox: message of {len(payload)} bytes from {cid}: {shown}"
        got = a7.receive()
        assert got is not None
        sender, data = got
        assert data == payload and sender == IntercoreA7Endpoint._component_bytes(cid)
    assert a7.receive() is None
    a7.stop()
    b.run_until(r"^mailbox: stopped$", "20ms")
    # Stopped: a message put in the ring now is not read.
    a7.started = True
    a7.send(b"late")
    b.run_for("20ms")
    assert b.texts()[-1] == "mailbox: stopped" and a7.receive() is None


def test_mailbox_rejects_a_corrupt_ring(chip):
    from mt3620.peripherals.mailbox.intercore import IntercoreA7Endpoint
    b = chip(io0="mailbox")
    b.run_until(r"^mailbox: waiting for the A7$", "10ms")
    channel = b.machine.shared_objects["mbox_a7_io0"]
    memory = b.machine.view("io0")
    a7 = IntercoreA7Endpoint(channel, memory, "25025d2c-66da-4448-bae1-ac26fcdd3627",
                             inbound_addr=0x22008000, outbound_addr=0x22009000)
    a7.start()
    b.run_until(r"^mailbox: setup done$", "20ms")
    # A block claiming 5000 bytes in a 4032-byte ring, then a write position that is not 16-byte aligned.
    memory.write(0x22009000 + 64, (5000).to_bytes(4, "little"))
    memory.write(0x22009000, (32).to_bytes(4, "little"))
    channel.raise_sw(1, 1 << 1)
    b.run_until(r"^mailbox: bad message length 5000$", "20ms")
    a7.start()
    b.run_until(r"^mailbox: setup done$", "20ms", fresh=True)
    memory.write(0x22009000, (20).to_bytes(4, "little"))
    channel.raise_sw(1, 1 << 1)
    b.run_until(r"^mailbox: bad inbound positions w=20 r=0$", "20ms")
    # Still serving the mailbox.
    assert channel.push(1, 0x0BADF00D, 7)
    b.run_until(r"^mailbox: fifo echoed$", "20ms")
    assert channel.pop(1) == (0x0BADF00D, 7)
