"""Register-level tests of the MT3620 UART model (debug UART and ISU UARTs)."""
import pytest

from mt3620.engine.simulation.clock import PS_PER_SECOND, VirtualClock
from mt3620.peripherals.uart.mt3620_uart import Mt3620Uart

O = Mt3620Uart.offset
THR, IER, IIR, FCR, LCR, MCR, LSR, MSR, SCR = (O("RBR_THR"), O("IER"), O("IIR_FCR"), O("IIR_FCR"), O("LCR"), O("MCR"),
                                               O("LSR"), O("MSR"), O("SCR"))
EFR, DLL, DLM = O("EFR"), O("DLL"), O("DLM")
HIGHSPEED, SAMPLE_COUNT, SAMPLE_POINT, VFIFO_EN = O("HIGHSPEED"), O("SAMPLE_COUNT"), O("SAMPLE_POINT"), O("VFIFO_EN")
FRACDIV_L, FRACDIV_M, FCR_RD, RX_OFFSET, TX_OFFSET = (O("FRACDIV_L"), O("FRACDIV_M"), O("FCR_RD"), O("RX_OFFSET"),
                                                      O("TX_OFFSET"))


def make(base=0x21040000, **kw):
    clock = VirtualClock()
    uart = Mt3620Uart(clock=clock, base_address=base, **kw)
    out = []
    uart.add_tx_listener(out.append)
    return clock, uart, out


def ctd_open(uart, baud):
    """The register sequence of CodethinkLabs UART_Open, with the same arithmetic (facts, not code)."""
    lut = [0b0, 0b1, 0b100001, 0b1001001, 0b10100101, 0b101010101, 0b110110111, 0b111101111, 0b111111111, 0]
    divs = (26_000_000 * 10 + baud // 2) // baud
    dl = (divs + 2559) // 2560
    divs //= dl
    fract, count = lut[divs % 10], divs // 10
    uart.write(LCR, 4, 0xBF)
    uart.write(EFR, 4, 0x10)                  # EFR enable_e
    uart.write(HIGHSPEED, 4, 3)
    uart.write(DLM, 4, dl >> 8)
    uart.write(DLL, 4, dl & 0xFF)
    uart.write(SAMPLE_COUNT, 4, count - 1)
    uart.write(SAMPLE_POINT, 4, count // 2 - 2)
    uart.write(FRACDIV_M, 4, fract >> 8)
    uart.write(FRACDIV_L, 4, fract & 0xFF)
    uart.write(LCR, 4, 0x03)
    uart.write(FCR, 4, 0x80 | 0x10 | 0x04 | 0x02 | 0x01)


def test_instances_from_base_address():
    assert Mt3620Uart(base_address=0x21040000).irq_number == 4
    assert Mt3620Uart(base_address=0x31040000).isu is None
    assert Mt3620Uart(base_address=0x31040000).irq_number is None
    assert Mt3620Uart(base_address=0x38070500).isu == 0
    assert Mt3620Uart(base_address=0x380B0500).irq_number == 47 + 4 * 4
    with pytest.raises(ValueError):
        Mt3620Uart(base_address=0x38070400)


def test_reset_values_debug_uart():
    _, u, _ = make()
    assert u.read(IIR) == 0xC1                # no interrupt pending, FIFOs on (OS brought it up)
    assert u.read(LSR) == 0x60                # THRE | TEMT
    assert u.read(LCR) == 0x03
    assert u.read(TX_OFFSET) == 0 and u.read(RX_OFFSET) == 0
    assert abs(u.baud - 115200) / 115200 < 0.001
    assert not u.irq[0].level


def test_isu_uart_starts_with_fifo_off():
    _, u, _ = make(0x38080500)
    assert u.read(IIR) == 0x01
    assert u.read(FCR_RD) & 1 == 0


def test_byte_leaves_after_one_frame_time():
    clock, u, out = make()
    u.write(THR, 4, 0x41)
    frame = u.frame_ps()
    assert frame == pytest.approx(10 * PS_PER_SECOND / u.baud, rel=1e-6)
    assert u.read(LSR) & 0x40 == 0            # TEMT clear while shifting
    clock.advance_to(frame - 1)
    assert out == []
    clock.advance_to(frame)
    assert out == [0x41]
    assert u.read(LSR) & 0x60 == 0x60


def test_baud_from_ctd_sequence():
    clock, u, out = make(0x38070500)
    for baud in (9600, 115200, 921600, 3000000):
        ctd_open(u, baud)
        assert u.baud == pytest.approx(baud, rel=0.02), baud
    ctd_open(u, 9600)
    u.write(THR, 4, 0x55)
    clock.advance_to(int(10 / 9600 * PS_PER_SECOND * 0.99))
    assert out == []
    clock.advance_to(int(10 / 9600 * PS_PER_SECOND * 1.01))
    assert out == [0x55]


def test_legacy_divisor_and_frame_format():
    _, u, _ = make()
    u.write(HIGHSPEED, 4, 0)
    u.write(LCR, 4, 0x80)                     # DLAB
    u.write(DLL, 4, 14)
    u.write(DLM, 4, 0)
    u.write(LCR, 4, 0x03 | 0x08 | 0x04)      # 8 bits, parity, 2 stop bits
    assert u.baud == pytest.approx(26_000_000 / (16 * 14))
    assert u.frame_bits() == 12
    u.write(LCR, 4, 0x80)
    assert u.read(DLL) == 14                  # DLL readable behind DLAB


def test_tx_fifo_fills_and_drains_in_order():
    clock, u, out = make()
    for b in range(20):
        u.write(THR, 4, b)
    # one byte in the shifter, 16 in the FIFO, 3 dropped
    assert u.read(TX_OFFSET) == 16
    assert u.tx_overruns == 3
    clock.advance_to(20 * u.frame_ps())
    assert out == list(range(17))
    assert u.read(TX_OFFSET) == 0


def test_thr_empty_interrupt_and_iir_ack():
    clock, u, out = make()
    u.write(FCR, 4, 0x01)                     # FIFO on, TFTL 0: interrupt when the FIFO is empty
    u.write(IER, 4, 0x02)
    assert u.irq[0].level
    assert u.read(IIR) & 0x3F == 0x02
    assert u.read(IIR) & 0x3F == 0x01         # reading IIR acknowledged it
    assert not u.irq[0].level
    u.write(THR, 4, 1)
    u.write(THR, 4, 2)
    assert not u.irq[0].level                 # FIFO holds a byte
    clock.advance_to(u.frame_ps())
    assert u.irq[0].level                     # second byte moved to the shifter: FIFO empty again
    u.write(IER, 4, 0)
    assert not u.irq[0].level


def test_rx_line_rate_trigger_and_timeout():
    clock, u, _ = make()
    u.write(FCR, 4, 0x41)                     # RFTL 1 = 6 bytes
    u.write(IER, 4, 0x01)
    u.feed(b"hello")
    frame = u.frame_ps()
    clock.advance_to(frame - 1)
    assert u.read(RX_OFFSET) == 0
    clock.advance_to(5 * frame)
    assert u.read(RX_OFFSET) == 5
    assert not u.irq[0].level                 # below the trigger level
    clock.advance_to(9 * frame - 1)
    assert not u.irq[0].level
    clock.advance_to(9 * frame)               # four character times of silence
    assert u.irq[0].level
    assert u.read(IIR) & 0x3F == 0x0C
    assert bytes(u.read(THR) for _ in range(5)) == b"hello"
    assert u.read(LSR) & 1 == 0
    assert u.read(IIR) & 0x3F == 0x01
    assert u.read(THR) == 0                   # empty RBR reads 0
    u.feed(b"abcdef")
    clock.advance_to(clock.now + 6 * frame)
    assert u.read(IIR) & 0x3F == 0x04


def test_rx_timeout_acknowledged_by_vfifo_read():
    clock, u, _ = make()
    u.write(FCR, 4, 0x81)                     # 12-byte trigger
    u.write(IER, 4, 0x01)
    u.feed(b"x")
    clock.advance_to(10 * u.frame_ps())
    assert u.read(IIR) & 0x3F == 0x0C
    u.read(VFIFO_EN)
    assert u.read(IIR) & 0x3F == 0x01
    assert u.read(RX_OFFSET) == 1             # data stays


def test_rx_overrun_sets_line_status_with_priority():
    clock, u, _ = make()
    u.write(IER, 4, 0x05)                     # RX data + line status
    u.feed(bytes(range(18)))
    clock.advance_to(18 * u.frame_ps())
    assert u.read(RX_OFFSET) == 16
    assert u.read(IIR) & 0x3F == 0x06         # line status beats RX data
    assert u.read(LSR) & 0x02                 # OE, cleared by this read
    assert u.read(LSR) & 0x02 == 0
    assert u.read(IIR) & 0x3F == 0x04
    assert [u.read(THR) for _ in range(16)] == list(range(16))


def test_fcr_clears_fifos_and_efr_bank():
    clock, u, out = make()
    u.feed(b"12")
    clock.advance_to(2 * u.frame_ps())
    for b in b"abc":
        u.write(THR, 4, b)
    u.write(FCR, 4, 0x07)
    assert u.read(RX_OFFSET) == 0 and u.read(TX_OFFSET) == 0
    clock.advance_to(clock.now + 10 * u.frame_ps())
    assert out == [ord("a")]                  # the byte already in the shifter still goes out
    u.write(LCR, 4, 0xBF)
    u.write(EFR, 4, 0xD0)
    u.write(O("XON1"), 4, 0x11)
    assert u.read(EFR) == 0xD0 and u.read(O("XON1")) == 0x11
    u.write(LCR, 4, 0x03)
    assert u.read(MCR) == 0                   # MCR, not XON1
    assert u.read(IIR) & 0x0F == 0x01


def test_loopback_and_scr():
    clock, u, out = make()
    u.write(SCR, 4, 0x5A)
    assert u.read(SCR) == 0x5A
    u.write(MCR, 4, 0x10 | 0x02)
    assert u.read(MSR) & 0x10                 # CTS follows RTS in loopback
    u.write(THR, 4, 0x99)
    clock.advance_to(u.frame_ps())
    assert out == [] and u.read(THR) == 0x99


def test_fifo_disabled_is_one_deep():
    clock, u, out = make(0x38070500)
    u.write(THR, 4, 1)                        # straight to the shifter
    u.write(THR, 4, 2)                        # holding register
    u.write(THR, 4, 3)                        # lost
    assert u.tx_overruns == 1
    clock.advance_to(3 * u.frame_ps())
    assert out == [1, 2]


def test_nonsense_writes_are_ignored_cleanly():
    _, u, _ = make()
    u.write(LSR, 4, 0xFF)                     # LSR is read-only
    u.write(TX_OFFSET, 4, 0xFF)               # TX_OFFSET is read-only
    u.write(0xF0, 4, 0x1234)                  # undefined offset
    assert u.read(0xF0) == 0
    assert u.read(LSR) == 0x60
    assert u.read(TX_OFFSET) == 0


def test_snapshot_restore_resumes_transmission():
    clock, u, out = make()
    for b in b"xyz":
        u.write(THR, 4, b)
    snap = u.snapshot()
    clock.advance_to(10 * u.frame_ps())
    assert bytes(out) == b"xyz"
    clock2 = VirtualClock()
    u2 = Mt3620Uart(clock=clock2, base_address=0x21040000)
    out2 = []
    u2.add_tx_listener(out2.append)
    u2.restore(snap)
    clock2.advance_to(10 * u2.frame_ps())
    assert bytes(out2) == b"xyz"


# ---- DMA through the DREQ half-size channels (MediaTek mtk_os_hal_uart_dma_send/get_data with vff_mode 0) ----------
class UartOnBus:
    """System RAM and one UART on a bus, as the IO core's view routes the DMA's beats (read -> bytes, write(bytes))."""

    def __init__(self, uart, ram):
        self.uart, self.ram = uart, ram

    def _uart_offset(self, addr):
        offset = addr - self.uart.base_address
        return offset if 0 <= offset < 0x100 else None

    def read(self, addr, size, access=None):
        offset = self._uart_offset(addr)
        if offset is None:
            return self.ram.read(addr, size, access)
        return (self.uart.read(offset, size) & ((1 << 8 * size) - 1)).to_bytes(size, "little")

    def write(self, addr, data, access=None):
        offset = self._uart_offset(addr)
        if offset is None:
            self.ram.write(addr, data, access)
        else:
            self.uart.write(offset, len(data), int.from_bytes(data, "little"))


@pytest.fixture
def half_dma():
    from mt3620.peripherals.dma.m4_dma import M4Dma
    from mt3620.peripherals.mailbox.intercore import ByteMemory
    clock = VirtualClock()
    ram = ByteMemory(0x22000000, 0x1000)
    bus = UartOnBus(None, ram)
    dma = M4Dma(clock=clock, base_address=0x21080000, cpu="io0", memory=bus)
    uart = Mt3620Uart(clock=clock, base_address=0x38070500, cpu="io0", dma=dma)   # ISU0: channels 0 (TX), 1 (RX)
    bus.uart = uart
    out = []
    uart.add_tx_listener(out.append)
    ctd_open(uart, 115200)
    return clock, ram, dma, uart, out


def half_channel(dma, ch, ram_address, count, rx):
    """MediaTek os_hal_dma.c / hdl_dma.c for a half-size channel: clock on, addresses, count, CON (byte beats, the
    memory side incrementing, DREQ, completion interrupt; DIR for RX), start (register writes, facts not code)."""
    D = dma.offset
    dma.write(D("CH_EN_SET"), 4, 1 << ch)
    dma.write(D(f"CH{ch}_PGMADDR"), 4, ram_address)
    dma.write(D(f"CH{ch}_FIXADDR"), 4, 0x38070500)
    dma.write(D(f"CH{ch}_COUNT"), 4, count)
    con = 1 << 4 | 1 << 15 | ((1 << 18 | 1 << 3) if rx else 1 << 2)
    dma.write(D(f"CH{ch}_CON"), 4, con)
    dma.write(D("CLR_DREQ"), 4, 1 << ch)
    dma.write(D(f"CH{ch}_START"), 4, 1 << 15)


def test_half_size_dma_tx_waits_for_the_handshake_then_feeds_the_fifo(half_dma):
    clock, ram, dma, uart, out = half_dma
    msg = b"UART Tx(DMA) through the DREQ channel, longer than the FIFO\r\n"
    ram.write(0x22000100, msg)
    uart.write(VFIFO_EN, 4, 1)                        # mtk_hdl_uart_dma_en
    half_channel(dma, 0, 0x22000100, len(msg), rx=False)
    clock.advance_to(5 * uart.frame_ps())
    assert out == [] and dma.remaining(0) == len(msg)  # no handshake yet: nothing moves
    uart.write(O("EXTEND_ADD"), 4, 0x2)               # mtk_hdl_uart_tx_dma_handshake
    assert uart.read(TX_OFFSET) == 16                 # 17 beats: one in the shifter, 16 in the FIFO
    assert dma.remaining(0) == len(msg) - 17
    clock.advance_to(clock.now + (len(msg) - 17) * uart.frame_ps())
    assert dma.remaining(0) == 0 and dma.irq[0].level  # the last beat entered the FIFO: completion interrupt
    assert dma.read(dma.offset("CH0_INTSTA")) == 1 << 15
    clock.advance_to(clock.now + 17 * uart.frame_ps())
    assert bytes(out) == msg


def test_half_size_dma_rx_drains_the_fifo(half_dma):
    clock, ram, dma, uart, _ = half_dma
    uart.write(VFIFO_EN, 4, 1)
    uart.feed(b"xy")                                  # before the channel runs: they wait in the FIFO
    clock.advance_to(2 * uart.frame_ps())
    assert uart.read(RX_OFFSET) == 2
    half_channel(dma, 1, 0x22000200, 5, rx=True)
    uart.write(O("EXTEND_ADD"), 4, 0x1)               # mtk_hdl_uart_rx_dma_handshake
    assert uart.read(RX_OFFSET) == 0 and ram.read(0x22000200, 2) == b"xy"
    uart.feed(b"abcd")
    clock.advance_to(clock.now + 4 * uart.frame_ps())
    assert ram.read(0x22000200, 5) == b"xyabc" and dma.remaining(1) == 0 and dma.irq[0].level
    assert uart.read(RX_OFFSET) == 1                  # the channel finished: "d" stays for the CPU
    assert uart.read(THR) == ord("d")


def test_debug_uart_has_no_dreq_channels():
    assert Mt3620Uart(base_address=0x21040000).dreq_channels == ()
