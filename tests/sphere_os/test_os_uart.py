"""UART: firmware/hl_uart_echo on ISU0 (UART_Open, EventLoop, read/write on the tty) against the ISU UART model, the
line settings reaching the model's registers, and the errors of UART_Open."""
import pytest


def test_echo_through_the_isu0_uart_model(boot, hl_app):
    dev = boot(hl=hl_app("hl_uart_echo"))
    dev.wait_for_line("listening on ISU0", timeout="1s", uart="a7.hl_uart_echo")
    dev.advance("5ms")
    assert dev.output("isu0_uart") == "hl_uart_echo ready\r\n"
    model = dev.machine.devices["isu0_uart"]
    assert model.baud == pytest.approx(115200, rel=0.01) and model.frame_bits() == 10      # 8N1
    dev.send("isu0_uart", b"hello there\r\n")
    dev.advance("20ms")
    assert dev.output("isu0_uart") == "hl_uart_echo ready\r\nHELLO THERE\r\n"
    received = [line for line in dev.lines("a7.hl_uart_echo") if "received" in line]
    # RX interrupts at 6 bytes (FIFO trigger) or after the RX time-out, as an 8250-style driver batches
    assert received[:2] == ["hl_uart_echo: received 6 bytes: 'hello '", "hl_uart_echo: received 6 bytes: 'there\r'"]
    dev.send("isu0_uart", b"q")
    assert dev.wait_for_exit(timeout="1s") == 0
    assert dev.lines("a7.hl_uart_echo")[0] == "hl_uart_echo: ISU1: Permission denied"


def test_a_long_write_drains_at_line_rate(boot, hl_app):
    dev = boot(hl=hl_app("hl_uart_echo"))
    dev.wait_for_line("listening", timeout="1s", uart="a7.hl_uart_echo")
    dev.advance("5ms")
    text = b"abcdefghijklmnoprstuvwxyz0123456789" * 3     # more than the 16-byte FIFO (no "q": it quits)
    dev.send("isu0_uart", text)
    start = dev.now
    dev.run_until(lambda: dev.output("isu0_uart").endswith(text.decode().upper()), timeout="100ms")
    # 105 characters at 10 bits each, 115200 baud: about 9.1 ms each way
    assert dev.now - start >= 9 * 10**9


def test_uart_open_errors_and_settings(run_c, sysroot):
    lines = run_c("uart_errors", {"Uart": ["ISU0"]})
    assert lines == [
        "ISU1: -1 Permission denied",
        "bad baud: -1 Invalid argument",
        "not initialised: -1 Invalid argument",
        "ISU0 7E2 9600: ok",
        "ISU0 again: -1 Resource busy",
        "blocking read: -1 Resource temporarily unavailable",
        "termios: speed 9600 cs7 1 parenb 1 cstopb 1",
    ]
