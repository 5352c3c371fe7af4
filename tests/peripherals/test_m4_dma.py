"""Register-level tests of the IO-core DMA: global status, memory-to-memory, virtual FIFOs with an ISU UART."""
import pytest

from mt3620.engine.simulation.clock import PS_PER_SECOND, VirtualClock
from mt3620.peripherals.dma.m4_dma import M4Dma
from mt3620.peripherals.mailbox.intercore import ByteMemory
from mt3620.peripherals.uart.mt3620_uart import Mt3620Uart

# Registers by name: offsets come from the model.
SRC, DST, WPPT, WPTO, COUNT, CON, START, INTSTA, ACKINT, RLCT = ("SRC", "DST", "WPPT", "WPTO", "COUNT", "CON", "START",
                                                                 "INTSTA", "ACKINT", "RLCT")
PGMADDR, FFCNT, FFSTA, FFSIZE, HWPTR, SWPTR, FIXADDR = ("PGMADDR", "FFCNT", "FFSTA", "FFSIZE", "HWPTR", "SWPTR",
                                                       "FIXADDR")
GLBSTA0, GLBSTA1, CH_RST, CH_EN, CH_EN_SET, CH_EN_CLR, GLB_PAUSE, GLB_STA_PAUSE, CLR_DREQ = (
    M4Dma.offset(name) for name in ("GLBSTA0", "GLBSTA1", "CH_RST", "CH_EN", "CH_EN_SET", "CH_EN_CLR", "GLB_PAUSE",
                                    "GLB_STA_PAUSE", "CLR_DREQ"))
U = Mt3620Uart.offset
SYSRAM = 0x22000000
SIZE_LONG, SINC, DINC, DREQ, ITEN, WPSD, WPEN, DIR = 2, 1 << 2, 1 << 3, 1 << 4, 1 << 15, 1 << 16, 1 << 17, 1 << 18


def r(ch, name):
    return M4Dma.offset(f"CH{ch}_{name}")


@pytest.fixture
def sys():
    clock = VirtualClock()
    mem = ByteMemory(SYSRAM, 0x10000)
    dma = M4Dma(clock=clock, base_address=0x21080000, cpu="io0", memory=mem)
    return clock, mem, dma


def test_memory_is_a_required_keyword():
    with pytest.raises(TypeError):
        M4Dma(base_address=0x21080000)


def test_reset_values(sys):
    _, _, dma = sys
    assert dma.read(GLBSTA0) == 0 and dma.read(GLBSTA1) == 0
    assert dma.read(CH_RST) == (1 << 30) - 1
    assert dma.read(CH_EN) == 0
    assert dma.read(r(14, FFSTA)) == 0x2           # VFF empty
    assert dma.read(r(12, RLCT)) == 0
    assert not dma.irq[0].level


def m2m(dma, src, dst, nbytes, con=SIZE_LONG | SINC | DINC | ITEN):
    """MediaTek fullsize_dma_memcpy on DMA_M2M_CH12, at the register level (facts, not code)."""
    dma.write(CH_EN_SET, 4, 1 << 12)
    dma.write(r(12, SRC), 4, src)
    dma.write(r(12, DST), 4, dst)
    dma.write(r(12, COUNT), 4, (nbytes + 3) // 4)
    dma.write(r(12, CON), 4, con)
    dma.write(r(12, START), 4, 1 << 15)


def test_memory_to_memory_completes_in_virtual_time(sys):
    clock, mem, dma = sys
    mem.write(SYSRAM, bytes(range(128)))
    m2m(dma, SYSRAM, SYSRAM + 0x1000, 128)
    assert dma.read(GLBSTA0) & (1 << 24)             # RUN of channel 12
    assert dma.read(r(12, RLCT)) == 32
    beat = PS_PER_SECOND / 26_000_000
    clock.advance_to(int(10 * beat) + 1)
    assert dma.read(r(12, RLCT)) == 22
    assert mem.read(SYSRAM + 0x1000, 128) == bytes(128)
    clock.advance_to(int(32 * beat) + 1)
    assert mem.read(SYSRAM + 0x1000, 128) == bytes(range(128))
    assert dma.read(r(12, INTSTA)) == 1 << 15
    assert dma.read(GLBSTA0) == 1 << 25              # IT of channel 12, not running
    assert dma.irq[0].level
    dma.write(r(12, ACKINT), 4, 1 << 15)
    assert dma.read(r(12, INTSTA)) == 0 and not dma.irq[0].level
    assert dma.read(r(12, START)) == 0


def test_stop_early_copies_what_was_done(sys):
    clock, mem, dma = sys
    mem.write(SYSRAM, b"\xAA" * 64)
    m2m(dma, SYSRAM, SYSRAM + 0x100, 64)
    clock.advance_to(int(4 * PS_PER_SECOND / 26_000_000) + 1)
    dma.write(r(12, START), 4, 0)
    assert mem.read(SYSRAM + 0x100, 20) == b"\xAA" * 16 + bytes(4)
    assert dma.read(r(12, RLCT)) == 12
    clock.advance_to(PS_PER_SECOND)
    assert dma.read(r(12, INTSTA)) == 0


def test_fixed_source_and_wrap(sys):
    clock, mem, dma = sys
    mem.write(SYSRAM, bytes([1, 2, 3, 4]))
    m2m(dma, SYSRAM, SYSRAM + 0x200, 16, con=SIZE_LONG | DINC | ITEN)    # fill with one word
    clock.advance_to(PS_PER_SECOND // 1000)
    assert mem.read(SYSRAM + 0x200, 16) == bytes([1, 2, 3, 4]) * 4
    mem.write(SYSRAM + 0x300, bytes(range(16)))
    dma.write(r(12, WPPT), 4, 2)
    dma.write(r(12, WPTO), 4, SYSRAM + 0x400)
    m2m(dma, SYSRAM + 0x300, SYSRAM + 0x500, 16, con=SIZE_LONG | SINC | DINC | ITEN | WPEN | WPSD)
    clock.advance_to(2 * PS_PER_SECOND // 1000)
    assert mem.read(SYSRAM + 0x500, 8) == bytes(range(8))       # two beats, then the destination wraps
    assert mem.read(SYSRAM + 0x400, 8) == bytes(range(8, 16))


def test_no_clock_enable_no_run_and_bus_errors(sys):
    clock, mem, dma = sys
    dma.write(r(12, COUNT), 4, 4)
    dma.write(r(12, START), 4, 1 << 15)
    assert dma.read(GLBSTA0) == 0                    # CH_EN bit clear: nothing runs
    m2m(dma, 0x10000000, SYSRAM, 16)                 # source outside the memory object
    clock.advance_to(PS_PER_SECOND // 1000)
    assert dma.bus_errors == 1
    dma.write(CH_EN_CLR, 4, 1 << 12)
    assert dma.read(CH_EN) == 0


def test_channel_reset_and_nonsense(sys):
    _, _, dma = sys
    dma.write(r(12, SRC), 4, 0x1234)
    dma.write(CH_RST, 4, ((1 << 30) - 1) & ~(1 << 12))
    dma.write(CH_RST, 4, (1 << 30) - 1)
    assert dma.read(r(12, SRC)) == 0
    dma.write(r(10, START), 4, 1 << 15)              # channel 10 does not exist
    dma.write(0x3000, 4, 1)
    dma.write(r(12, RLCT), 4, 7)
    assert dma.read(0x3000) == 0 and dma.read(r(12, RLCT)) == 0


# ---- virtual FIFOs with an ISU UART (the CodethinkLabs UART driver's DMA sequence, as register writes) -------------
TX, RX = 13, 14                                       # ISU0
UART = 0x38070500
TXBUF, RXBUF = SYSRAM + 0x1000, SYSRAM + 0x2000


def open_uart_dma(dma, uart):
    uart.write(U("IIR_FCR"), 4, 0x97)                 # FCR as CTD UART_Open: FIFOs on, cleared
    uart.write(U("VFIFO_EN"), 4, 1)
    for ch, buf, size, count, con in ((TX, TXBUF, 256, 0, DREQ), (RX, RXBUF, 32, 32, DIR | ITEN | DREQ)):
        dma.write(CH_EN_SET, 4, 1 << ch)
        dma.write(r(ch, START), 4, 0)
        dma.write(r(ch, FIXADDR), 4, UART)
        dma.write(r(ch, PGMADDR), 4, buf)
        dma.write(r(ch, FFSIZE), 4, size)
        dma.write(r(ch, COUNT), 4, count)
        dma.write(r(ch, CON), 4, con)
        dma.write(r(ch, SWPTR), 4, dma.read(r(ch, HWPTR)))
    uart.write(U("EXTEND_ADD"), 4, 0b101)             # RX handshake, TX auto, TX handshake off
    uart.write(U("IER"), 4, 0x01)                     # ERBFI (rx callback)
    dma.write(r(RX, START), 4, 1 << 15)


def uart_write(dma, uart, mem, data):
    assert dma.read(r(TX, FFSTA)) & 0x2               # TX ring empty
    dma.write(r(TX, START), 4, 0)
    mem.write(TXBUF, data)
    dma.write(r(TX, SWPTR), 4, 0x10000 if len(data) == 256 else len(data))
    uart.write(U("EXTEND_ADD"), 4, uart.read(U("EXTEND_ADD")) & ~2)
    dma.write(CLR_DREQ, 4, 0)
    dma.write(CLR_DREQ, 4, 1 << TX)
    dma.write(CLR_DREQ, 4, 0)
    dma.write(r(TX, START), 4, 1 << 15)
    uart.write(U("EXTEND_ADD"), 4, uart.read(U("EXTEND_ADD")) | 2)


@pytest.fixture
def isu(sys):
    clock, mem, dma = sys
    uart = Mt3620Uart(clock=clock, base_address=UART, cpu="io0", dma=dma)
    out = []
    uart.add_tx_listener(out.append)
    open_uart_dma(dma, uart)
    return clock, mem, dma, uart, out


def test_vfifo_tx_feeds_the_uart(isu):
    clock, mem, dma, uart, out = isu
    msg = b"Hello from the ISU0 UART over DMA, longer than one FIFO.\r\n"
    uart_write(dma, uart, mem, msg)
    assert dma.read(r(TX, FFCNT)) == len(msg) - 17    # 16 in the UART FIFO, one in its shifter
    clock.advance_to(len(msg) * uart.frame_ps())
    assert bytes(out) == msg
    assert dma.read(r(TX, FFSTA)) & 0x2
    uart_write(dma, uart, mem, b"again")              # the ring restarts at index 0
    clock.advance_to(clock.now + 6 * uart.frame_ps())
    assert bytes(out) == msg + b"again"
    uart_write(dma, uart, mem, bytes(range(256)))     # a full ring: SWPTR = wrap bit
    assert dma.read(r(TX, FFCNT)) == 256 - 17
    clock.advance_to(clock.now + 260 * uart.frame_ps())
    assert bytes(out[-256:]) == bytes(range(256))


def test_vfifo_rx_fills_the_ring_and_times_out(isu):
    clock, mem, dma, uart, _ = isu
    uart.feed(b"abc")
    clock.advance_to(3 * uart.frame_ps())
    assert dma.read(r(RX, FFCNT)) == 3
    assert mem.read(RXBUF, 3) == b"abc"
    assert uart.read(U("RX_OFFSET")) == 0             # nothing in the UART's own FIFO
    assert not uart.irq[0].level
    clock.advance_to(7 * uart.frame_ps())             # four character times of silence
    assert uart.read(U("IIR_FCR")) & 0x3F == 0x0C
    uart.read(U("VFIFO_EN"))                          # CTD: reading VFIFO_EN acknowledges the timeout
    assert uart.read(U("IIR_FCR")) & 0x3F == 0x01
    # software consumes two bytes by moving SWPTR
    dma.write(r(RX, SWPTR), 4, 2)
    assert dma.read(r(RX, FFCNT)) == 1
    assert not dma.irq[0].level


def test_vfifo_rx_threshold_interrupt_and_backpressure(isu):
    clock, mem, dma, uart, _ = isu
    data = bytes(range(40))
    uart.feed(data)
    clock.advance_to(40 * uart.frame_ps())
    assert dma.read(r(RX, FFCNT)) == 32
    assert dma.read(r(RX, FFSTA)) & 0x1               # full
    assert dma.read(r(RX, INTSTA)) == 1 << 15          # count (32) reached
    assert dma.read(GLBSTA0) & (1 << 29)              # IT bit of channel 14
    assert dma.irq[0].level
    assert uart.read(U("RX_OFFSET")) == 8             # the rest waits in the UART FIFO
    assert mem.read(RXBUF, 32) == data[:32]
    dma.write(r(RX, ACKINT), 4, 1 << 15)
    dma.write(r(RX, SWPTR), 4, 0x10000 | 0)           # consumed all 32: the UART FIFO drains into the ring
    assert uart.read(U("RX_OFFSET")) == 0
    assert dma.read(r(RX, FFCNT)) == 8
    assert mem.read(RXBUF, 8) == data[32:]


def test_pause_holds_a_vfifo(isu):
    clock, mem, dma, uart, out = isu
    dma.write(GLB_PAUSE, 4, 1 << TX)
    uart_write(dma, uart, mem, b"xy")
    clock.advance_to(10 * uart.frame_ps())
    assert out == []
    assert dma.read(GLB_STA_PAUSE) == 1 << TX
    dma.write(GLB_PAUSE, 4, 0)
    clock.advance_to(clock.now + 3 * uart.frame_ps())
    assert bytes(out) == b"xy"


def test_dma_built_before_or_after_the_uart():
    clock, mem = VirtualClock(), ByteMemory(SYSRAM, 0x10000)
    uart = Mt3620Uart(clock=clock, base_address=UART, cpu="io0")
    dma = M4Dma(clock=clock, base_address=0x21080000, cpu="io0", memory=mem)
    uart.link("dma", dma)                             # links are made once every block exists
    out = []
    uart.add_tx_listener(out.append)
    open_uart_dma(dma, uart)
    uart_write(dma, uart, mem, b"ok")
    clock.advance_to(3 * uart.frame_ps())
    assert bytes(out) == b"ok"


def test_snapshot_restore_mid_transfer(sys):
    clock, mem, dma = sys
    mem.write(SYSRAM, bytes(range(64)))
    m2m(dma, SYSRAM, SYSRAM + 0x800, 64)
    clock.advance_to(int(5 * PS_PER_SECOND / 26_000_000) + 1)
    snap = dma.snapshot()
    clock2 = VirtualClock()
    clock2.advance_to(clock.now)
    dma2 = M4Dma(clock=clock2, base_address=0x21080000, cpu="io0", memory=mem)
    dma2.restore(snap)
    assert dma2.read(r(12, RLCT)) == 11
    clock2.advance_to(PS_PER_SECOND // 1000)
    assert mem.read(SYSRAM + 0x800, 64) == bytes(range(64))
    assert dma2.irq[0].level


def test_shared_isu_uart_served_by_the_core_that_runs_its_channels():
    clock, mem = VirtualClock(), ByteMemory(SYSRAM, 0x10000)
    dma0 = M4Dma(clock=clock, base_address=0x21080000, cpu="io0", memory=ByteMemory(SYSRAM, 0x10000))
    dma1 = M4Dma(clock=clock, base_address=0x21080000, cpu="io1", memory=mem)
    uart = Mt3620Uart(clock=clock, base_address=UART, cpu=None, dma=[dma0, dma1])   # a shared block
    out = []
    uart.add_tx_listener(out.append)
    open_uart_dma(dma1, uart)                         # io1 owns ISU0
    uart_write(dma1, uart, mem, b"io1")
    uart.feed(b"in")
    clock.advance_to(5 * uart.frame_ps())
    assert bytes(out) == b"io1"
    assert dma1.read(r(RX, FFCNT)) == 2 and dma0.read(r(RX, FFCNT)) == 0
    assert mem.read(RXBUF, 2) == b"in"
