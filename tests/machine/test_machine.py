"""The machine built from platforms/mt3620.repl: determinism, two cores, idle skipping, unmapped accesses."""
from __future__ import annotations

from mt3620.engine.machine import Machine
from mt3620.engine.simulation.clock import PS_PER_SECOND
from mt3620.testing import Device


def _run_twice(firmware_name, firmware, duration):
    out = []
    for _ in range(2):
        m = Machine()
        m.load("io0", firmware(firmware_name))
        m.load("io1", firmware("gpt_timer"))
        m.run(duration_ps=duration)
        out.append((m.uart_text(), {n: c.instructions for n, c in m.cores.items()}, m.clock.now,
                    {n: c.reg("pc") for n, c in m.cores.items()}))
    return out


def test_identical_runs_give_identical_output_and_instruction_counts(firmware):
    first, second = _run_twice("context_switch", firmware, PS_PER_SECOND // 5)
    assert first == second
    assert first[1]["io0"] > 100_000


def test_both_io_cores_see_private_blocks_at_the_same_address(firmware):
    dev = Device.boot(rt0=firmware("hello"), rt1=firmware("hello"))
    dev.wait_for_line("hello: done", uart="io0.io0_uart")
    dev.wait_for_line("hello: done", uart="io1.io1_uart")
    assert dev.lines("io0.io0_uart") == dev.lines("io1.io1_uart")


def test_sleeping_firmware_runs_far_faster_than_real_time(firmware):
    m = Machine()
    m.load("io0", firmware("gpt_timer"))
    result = m.run(duration_ps=10 * PS_PER_SECOND)
    assert result.reason == "timeout"
    core = m.cores["io0"]
    # Ten virtual seconds at 26 MHz would be 260 million instructions if the core never slept.
    assert core.instructions < 1_000_000
    assert "gpt_timer: done after 5 ticks" in m.uart_text()


def test_unmapped_access_is_a_bus_fault_in_the_guest_not_an_exception(firmware):
    dev = Device.boot(rt0=firmware("busfault"))
    dev.wait_for_line("busfault: done")
    assert "busfault: CFSR=0x00008200 BFAR=0x50000000" in dev.lines()


def test_stop_on_fault_reports_pc_and_address(firmware):
    dev = Device.boot(rt0=firmware("busfault_unhandled"), stop_on_fault=True)
    fault = dev.wait_for_fault("1s")
    assert fault.kind == "BusFault" and fault.address == 0x50000000
    assert dev.core().locked_up is fault


def test_known_unmodelled_region_logs_instead_of_faulting():
    m = Machine()
    view = m.view("io0")
    view.write_u32(0x21000000, 0x1234)  # IRQ configuration block: modelled or logged, never a crash
    assert isinstance(view.read_u32(0x21000000), int)


def test_access_control_hook_turns_a_refused_access_into_a_guest_bus_fault(firmware):
    """The bus asks every access-control hook (the firewall's place) before a device sees the access."""
    from mt3620.engine.simulation.access import AccessDenied

    seen = []

    def firewall(access, address, size, write):
        seen.append((access.initiator, address, write))
        if 0x21040000 <= address < 0x21041000 and write:
            raise AccessDenied(address, size, write, "debug UART is not assigned to io0")

    dev = Device.boot(rt0=firmware("hello"), stop_on_fault=True)
    dev.machine.view("io0").access_hooks.append(firewall)
    fault = dev.wait_for_fault("1s")
    assert fault.kind == "BusFault" and 0x21040000 <= fault.address < 0x21041000
    assert ("io0", fault.address, True) in seen
    assert dev.lines() == []  # the refused write never reached the UART


def test_busy_wait_on_a_time_counter_is_warped_but_stays_accurate(firmware):
    """gpt3 busy-waits 1000 us polling GPT3_CNT (a counter that changes with time alone). The engine jumps ahead
    instead of executing every iteration; the wait still ends no earlier than asked and at most 1/8 late."""
    m = Machine()
    m.load("io0", firmware("gpt3"))
    done_at = {}
    m.line_listeners.append(lambda label, line: done_at.setdefault(line, m.clock.now))
    assert m.run(duration_ps=PS_PER_SECOND, pattern=r"busy-wait of 1000 us done").reason == "condition"
    uart = m.uarts["io0.io0_uart"].model
    line = "gpt3: busy-wait of 1000 us done"
    frame = uart.frame_ps()
    printing = (len(line) + 2) * frame                # the line is sent, byte by byte, after the wait
    # The wait starts while the last two bytes of "gpt3: start" are still on their way (putc waits for LSR.THRE, an
    # empty FIFO: "\r" in the shift register, "\n" in the FIFO), so at most two frames before the line's end.
    waited_at_least = done_at[line] - done_at["gpt3: start"] - printing
    assert waited_at_least + 2 * frame >= 1000 * 10**6
    assert waited_at_least <= 1000 * 10**6 * 9 // 8
    core = m.cores["io0"]
    assert core.skipped_ps > 500 * 10**6              # most of the wait was jumped over, not executed


def test_buttons_reach_the_nvic_only_through_an_enabled_eint():
    """GPIO 12 (button A, pulled up on the RDB) drives EINT 12 of each IO core's EINT block (0x21000000); NVIC
    IRQ 32 sees it only once the app enables that EINT (CodethinkLabs GPIO.c EINT_ConfigurePin)."""
    m = Machine()
    core, view = m.core("io0"), m.view("io0")
    m.board.press("A")
    assert not core.state.line_level.get(32)           # reset: EINT disabled, the level goes nowhere
    m.board.release("A")
    view.write_u32(0x21000204, 1)                      # IRQ_SENS1 bit 0: IRQ 32 level-sensitive
    view.write_u32(0x21000000 + 4 * 12, 3 << 8)        # DBNC_CON12: EN, active low (POL 1), no debounce
    assert not core.state.line_level.get(32)           # released: high, inactive
    m.board.press("A")
    assert core.state.line_level.get(32)
    assert not m.core("io1").state.line_level.get(32)  # io1's EINT block is its own and still disabled
    m.board.release("A")
    assert not core.state.line_level.get(32)


def test_uart_loopback_header_returns_what_was_sent():
    import pytest
    from mt3620.engine.machine import MachineError

    from mt3620.peripherals.uart.mt3620_uart import Mt3620Uart
    reg = Mt3620Uart.offset

    m = Machine()
    m.loopback("isu0_uart")
    view, base = m.view("io0"), 0x38070500          # ISU0 UART (MT3620-FACTS)
    view.write_u32(base + reg("IIR_FCR"), 0x07)      # FCR: FIFOs on and cleared
    for byte in b"hi!":
        view.write_u32(base + reg("RBR_THR"), byte)
    m.run(duration_ps=PS_PER_SECOND // 100)          # 10 ms: far more than three frames at any set-up rate
    received = bytes(view.read_u32(base + reg("RBR_THR")) & 0xFF for _ in range(3)
                     if view.read_u32(base + reg("LSR")) & 1)
    assert received == b"hi!"
    with pytest.raises(MachineError, match="no UART named"):
        m.loopback("isu9_uart")
