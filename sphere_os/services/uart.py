"""UART: the ISU UARTs as Linux serial ttys, which libapplibs' UART_Open configures with termios and apps read,
write, poll and epoll directly (as on the device, where the descriptor UART_Open returns is a tty).

Interface: the Linux tty ioctls (TCGETS/TCSETS/TCSETSW/TCSETSF, TCFLSH, TCSBRK, FIONREAD, TIOCOUTQ) with the
kernel's ARM `struct termios` (c_iflag, c_oflag, c_cflag, c_lflag, c_line, c_cc[19]); baud rates as CBAUD codes
(B9600 ... B3000000), CSIZE/CSTOPB/PARENB/PARODD, CRTSCTS, IXON/IXOFF. Raw mode only (apps call cfmakeraw through
UART_Open): no line discipline processing (emulator-defined).

Emulator-defined (docs/EMULATOR-DEFINED.md): the nodes are /dev/ttyISU<n> for ISU n (UART_Id 4 + n in the SDK's
mt3620.h numbering, "ISU<n>" in the manifest's Uart list); a UART is open by one descriptor at a time (EBUSY);
4 KiB software buffers each way.

The driver programs the ISU UART model (peripherals/uart/mt3620_uart.py) through the A7's bus view as a kernel
8250-style driver does: LCR/DLL/DLM/HIGHSPEED/SAMPLE_COUNT for the frame and baud, FCR for the FIFOs, IER for the
RX-data and THR-empty interrupts; its interrupt handler (connected to the model's interrupt line, the A7's GIC
input) drains RBR while LSR.DR and refills THR while the TX FIFO has room.
"""
from __future__ import annotations

import struct

from mt3620.engine.linux.abi import EBUSY, EINVAL, ENOTTY, POLLIN, POLLOUT
from mt3620.engine.linux.devices import DeviceFile
from mt3620.engine.linux.errors import LinuxError
from mt3620.engine.linux.waiting import WouldBlock
from mt3620.peripherals.uart.mt3620_uart import ISU_STRIDE, ISU_UART_BASE, UART_CLOCK_HZ, Mt3620Uart

from . import Service

TCGETS, TCSETS, TCSETSW, TCSETSF, TCSBRK, TCFLSH = 0x5401, 0x5402, 0x5403, 0x5404, 0x5409, 0x540B
TIOCOUTQ, FIONREAD, TIOCINQ = 0x5411, 0x541B, 0x541B
TERMIOS = struct.Struct("<IIIIB19s")                 # the kernel's struct termios on ARM (36 bytes)
CBAUD, CBAUDEX = 0o010017, 0o010000
CSIZE, CS5, CS6, CS7, CS8 = 0o60, 0o0, 0o20, 0o40, 0o60
CSTOPB, CREAD, PARENB, PARODD, CLOCAL = 0o100, 0o200, 0o400, 0o1000, 0o4000
CRTSCTS = 0o20000000000
IXON, IXOFF = 0o2000, 0o10000
BAUD_CODES = {
    0o1: 50, 0o2: 75, 0o3: 110, 0o4: 134, 0o5: 150, 0o6: 200, 0o7: 300, 0o10: 600, 0o11: 1200, 0o12: 1800,
    0o13: 2400, 0o14: 4800, 0o15: 9600, 0o16: 19200, 0o17: 38400, 0o10001: 57600, 0o10002: 115200,
    0o10003: 230400, 0o10004: 460800, 0o10005: 500000, 0o10006: 576000, 0o10007: 921600, 0o10010: 1000000,
    0o10011: 1152000, 0o10012: 1500000, 0o10013: 2000000, 0o10014: 2500000, 0o10015: 3000000,
}
MIN_BAUD = 1200                                        # the ISU UARTs' documented range (Microsoft Learn, UART)
MAX_BAUD = 3_000_000
BUFFER = 4096
FIFO_DEPTH = 16

# ISU UART registers (mt3620_uart.py)
RBR_THR, IER, FCR, LCR, LSR, HIGHSPEED, SAMPLE_COUNT, SAMPLE_POINT = 0x00, 0x04, 0x08, 0x0C, 0x14, 0x24, 0x28, 0x2C
DLL, DLM, FRACDIV_L, FRACDIV_M, TX_OFFSET = 0x00, 0x04, 0x54, 0x58, 0x6C
LSR_DR = 0x01
IER_ERBFI, IER_ETBEI = 0x01, 0x02
FCR_FIFOE, FCR_CLRR, FCR_CLRT = 0x01, 0x02, 0x04
FCR_RX_TRIGGER_6 = 1 << 6          # RX interrupt at 6 bytes, or after the RX time-out (as 8250 drivers batch)
LCR_DLAB = 0x80


def default_termios() -> bytes:
    """9600 8N1, raw, as a freshly opened serial tty on Linux (tty_std_termios with B9600)."""
    return TERMIOS.pack(0, 0, 0o15 | CS8 | CREAD | CLOCAL, 0, 0, bytes(19))


class UartService(Service):
    name = "uart"

    def __init__(self, os) -> None:
        super().__init__(os)
        self.ports: dict[int, UartPort] = {}
        for model in self.machine.devices.values():
            if isinstance(model, Mt3620Uart) and model.isu is not None and model.isu not in self.ports:
                self.ports[model.isu] = UartPort(self, model.isu, model)
        for isu in sorted(self.ports):
            self.kernel.devices.register(f"/dev/ttyISU{isu}", lambda ctx, isu=isu: self._open(ctx, isu),
                                         mode=0o666)

    def _open(self, ctx, isu: int) -> "UartFile":
        self.require(isu in self.capabilities(ctx).uart, f"UART ISU{isu}", ctx)
        port = self.ports[isu]
        if port.file is not None:
            raise LinuxError(EBUSY)
        return UartFile(ctx, port)


class UartPort:
    """One ISU UART as the driver sees it: registers, interrupt handler, software buffers."""

    def __init__(self, service: UartService, isu: int, model: Mt3620Uart) -> None:
        self.service, self.isu, self.model = service, isu, model
        self.base = ISU_UART_BASE + isu * ISU_STRIDE
        self.file: UartFile | None = None
        self.rx = bytearray()
        self.tx = bytearray()
        self.rx_dropped = 0
        self.termios = default_termios()
        self.isr_queued = False
        model.irq[0].connect(self._interrupt)

    def reg(self, offset: int, value: int | None = None) -> int:
        if value is None:
            return self.service.read32(self.base + offset) & 0xFF
        self.service.write32(self.base + offset, value)
        return value

    # ---- configuration --------------------------------------------------------------------------------------------
    def configure(self, termios: bytes) -> None:
        iflag, _oflag, cflag, _lflag, _line, _cc = TERMIOS.unpack(termios)
        baud = BAUD_CODES.get(cflag & CBAUD)
        if baud is None or not MIN_BAUD <= baud <= MAX_BAUD:
            raise LinuxError(EINVAL, "baud rate not supported by the ISU UART")
        self.termios = termios
        total = max(1, round(UART_CLOCK_HZ / baud))
        divisor = -(-total // 256)
        sample = max(1, round(total / divisor)) - 1
        lcr = {CS5: 0, CS6: 1, CS7: 2, CS8: 3}[cflag & CSIZE]
        if cflag & CSTOPB:
            lcr |= 0x04
        if cflag & PARENB:
            lcr |= 0x08 | (0 if cflag & PARODD else 0x10)
        self.reg(LCR, LCR_DLAB)
        self.reg(DLL, divisor & 0xFF)
        self.reg(DLM, divisor >> 8)
        self.reg(LCR, lcr)
        self.reg(HIGHSPEED, 3)
        self.reg(SAMPLE_COUNT, sample)
        self.reg(SAMPLE_POINT, sample // 2)
        self.reg(FRACDIV_L, 0)
        self.reg(FRACDIV_M, 0)
        self.flow_control = "rtscts" if cflag & CRTSCTS else "xonxoff" if iflag & (IXON | IXOFF) else "none"

    def start(self) -> None:
        self.rx.clear()
        self.tx.clear()
        self.reg(FCR, FCR_FIFOE | FCR_CLRR | FCR_CLRT | FCR_RX_TRIGGER_6)
        self.configure(self.termios)
        self.reg(IER, IER_ERBFI)

    def stop(self) -> None:
        self.reg(IER, 0)
        self.tx.clear()

    # ---- interrupt handling -----------------------------------------------------------------------------------------
    def _interrupt(self, level: bool) -> None:
        # The handler runs as a machine event right after the line rises (never inside the model's own update).
        if level and not self.isr_queued and self.file is not None:
            self.isr_queued = True
            self.service.machine.clock.schedule(0, self._service_interrupt, f"isu{self.isu} uart isr")

    def _service_interrupt(self) -> None:
        self.isr_queued = False
        if self.file is None:
            return
        before = (len(self.rx), len(self.tx))
        while self.reg(LSR) & LSR_DR:
            byte = self.reg(RBR_THR)
            if len(self.rx) < BUFFER:
                self.rx.append(byte)
            else:
                self.rx_dropped += 1
        self.pump()
        if (len(self.rx), len(self.tx)) != before:
            self.file.changed()

    def pump(self) -> None:
        """Move bytes from the software TX buffer into the TX FIFO; THR-empty interrupts on while bytes wait."""
        room = FIFO_DEPTH - self.reg(TX_OFFSET)
        while room > 0 and self.tx:
            self.reg(RBR_THR, self.tx.pop(0))
            room -= 1
        self.reg(IER, IER_ERBFI | (IER_ETBEI if self.tx else 0))


class UartFile(DeviceFile):
    def __init__(self, ctx, port: UartPort) -> None:
        super().__init__(ctx)
        self.port = port
        port.file = self
        port.start()

    def read(self, count: int) -> bytes:
        port = self.port
        if not port.rx:
            raise WouldBlock()
        data = bytes(port.rx[:count])
        del port.rx[:count]
        return data

    def write(self, data: bytes) -> int:
        port = self.port
        room = BUFFER - len(port.tx)
        if room <= 0:
            raise WouldBlock()
        port.tx += data[:room]
        port.pump()
        return min(room, len(data))

    def poll(self) -> int:
        port = self.port
        return (POLLIN if port.rx else 0) | (POLLOUT if len(port.tx) < BUFFER else 0)

    def ioctl(self, request: int, arg: int, memory) -> int:
        port = self.port
        if request == TCGETS:
            memory.write(arg, port.termios)
            return 0
        if request in (TCSETS, TCSETSW, TCSETSF):
            termios = memory.read(arg, TERMIOS.size)
            if request == TCSETSF:
                port.rx.clear()
            port.configure(termios)
            return 0
        if request == TCFLSH:
            if arg in (0, 2):
                port.rx.clear()
            if arg in (1, 2):
                port.tx.clear()
            if arg > 2:
                raise LinuxError(EINVAL)
            return 0
        if request == TCSBRK:
            return 0
        if request == FIONREAD:
            memory.write_u32(arg, len(port.rx))
            return 0
        if request == TIOCOUTQ:
            memory.write_u32(arg, len(port.tx))
            return 0
        raise LinuxError(ENOTTY)

    def release(self) -> None:
        self.port.stop()
        self.port.file = None
