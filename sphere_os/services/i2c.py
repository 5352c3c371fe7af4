"""I2C: the ISU I2C masters as Linux i2c-dev nodes, which libapplibs' I2CMaster_* functions use.

Interface: Linux's i2c-dev (include/uapi/linux/i2c-dev.h, i2c.h; the Azure Sphere kernel's copy adds I2C_SPEED
0x0730 with I2C_SPEED_STANDARD/FAST/FAST_PLUS): I2C_RDWR (struct i2c_rdwr_ioctl_data {struct i2c_msg *msgs;
u32 nmsgs}, i2c_msg {u16 addr; u16 flags (I2C_M_RD 0x1, I2C_M_TEN 0x10); u16 len; u8 *buf}, at most 42 messages,
one STOP at the end and repeated STARTs between), I2C_TIMEOUT (10 ms units), I2C_SLAVE / I2C_SLAVE_FORCE (the
target of read(2)/write(2)), I2C_TENBIT, I2C_FUNCS. A NACK is ENXIO, another master holding the bus EBUSY, a
target that holds the clock past the time-out ETIMEDOUT (the errors i2c.h documents). The ISU must be listed in
the manifest's "I2cMaster" capability (EACCES otherwise).

The driver works at the bus level of the ISU's I2C model (`isu<n>_i2c`.bus, mt3620.peripherals.buses.i2c: a Python
master's `transfer(address, ops)`; docs/peripherals.md), as the A7's kernel driver drives the same pads: the
transfer happens on the bus at once and the calling thread then sleeps for the time the transaction takes on the
wire at the set bus speed (9 clocks per byte plus START/STOP), in virtual time.

Emulator-defined (docs/a7.md, docs/EMULATOR-DEFINED.md): nodes /dev/i2c-<ISU index> for the ISUs whose I2C model is
in the machine; one open descriptor per ISU (EBUSY); messages to different addresses in one I2C_RDWR are separate
transactions; bus speeds 100 kHz, 400 kHz and 1 MHz (EINVAL otherwise), default 100 kHz.
"""
from __future__ import annotations

import struct

from mt3620.engine.linux.abi import EBUSY, EINVAL, ENOTTY, ENXIO, ETIMEDOUT
from mt3620.engine.linux.devices import DeviceFile
from mt3620.engine.linux.errors import LinuxError
from mt3620.engine.linux.waiting import BLOCKED, Block
from mt3620.engine.simulation.clock import PS_PER_SECOND

from . import Service

I2C_RETRIES, I2C_TIMEOUT, I2C_SLAVE, I2C_TENBIT, I2C_FUNCS = 0x0701, 0x0702, 0x0703, 0x0704, 0x0705
I2C_SLAVE_FORCE, I2C_RDWR, I2C_SPEED = 0x0706, 0x0707, 0x0730
I2C_M_RD, I2C_M_TEN = 0x0001, 0x0010
I2C_FUNC_I2C, I2C_FUNC_10BIT_ADDR = 0x1, 0x2
MSG = struct.Struct("<HHHxxI")                 # struct i2c_msg on ARM (12 bytes)
MAX_MSGS = 42
MAX_LEN = 8192
SPEEDS = (100_000, 400_000, 1_000_000)


class I2cService(Service):
    name = "i2c"

    def __init__(self, os) -> None:
        super().__init__(os)
        self.buses = {}
        for isu in range(5):
            model = self.machine.devices.get(f"isu{isu}_i2c")
            bus = getattr(model, "bus", None)
            if bus is not None and hasattr(bus, "transfer"):
                self.buses[isu] = bus
        self.open_files: dict[int, I2cFile] = {}
        for isu in sorted(self.buses):
            self.kernel.devices.register(f"/dev/i2c-{isu}", lambda ctx, isu=isu: self._open(ctx, isu), mode=0o666)

    def _open(self, ctx, isu: int) -> "I2cFile":
        self.require(isu in self.capabilities(ctx).i2c_master, f"I2C master ISU{isu}", ctx)
        if isu in self.open_files:
            raise LinuxError(EBUSY)
        f = self.open_files[isu] = I2cFile(ctx, self, isu)
        return f


class I2cFile(DeviceFile):
    def __init__(self, ctx, service: I2cService, isu: int) -> None:
        super().__init__(ctx)
        self.service, self.isu = service, isu
        self.bus = service.buses[isu]
        self.speed = SPEEDS[0]
        self.timeout_ms = 1000
        self.target: int | None = None
        self.ten_bit = False

    # ---- transactions -----------------------------------------------------------------------------------------------
    def _run(self, segments: list[tuple[int, bool, list]]) -> tuple[list[bytes], int]:
        """Each segment (address, ten_bit, ops) is one transaction; returns the bytes read and the wire time."""
        from mt3620.peripherals.buses.i2c import I2cBusy, I2cError, I2cNack
        results: list[bytes] = []
        clocks = 0
        for address, ten_bit, ops in segments:
            try:
                results += self.bus.transfer(address, ops, ten_bit=ten_bit, master=f"a7.i2c{self.isu}")
            except I2cNack:
                raise LinuxError(ENXIO) from None
            except I2cBusy:
                raise LinuxError(EBUSY) from None
            except I2cError:
                raise LinuxError(ETIMEDOUT) from None
            # START + (address byte(s) + data bytes) x 9 clocks each + STOP, per message
            for op in ops:
                count = len(op) if isinstance(op, (bytes, bytearray)) else int(op)
                clocks += 2 + 9 * (count + (2 if ten_bit else 1))
        return results, clocks * PS_PER_SECOND // self.speed

    def _after(self, wire_ps: int, result: int):
        """The call returns `result` once the transaction's wire time has passed (virtual time)."""
        if wire_ps <= 0:
            return result
        deadline = self.service.kernel.now_ps() + wire_ps
        return Block(lambda: BLOCKED, [], deadline=deadline, on_timeout=lambda: result, interruptible=False,
                     what=f"i2c-{self.isu} transfer")

    def _rdwr(self, arg: int, memory):
        msgs_ptr, nmsgs = struct.unpack("<II", memory.read(arg, 8))
        if not 0 < nmsgs <= MAX_MSGS:
            raise LinuxError(EINVAL)
        msgs = [MSG.unpack(memory.read(msgs_ptr + i * MSG.size, MSG.size)) for i in range(nmsgs)]
        segments: list[tuple[int, bool, list]] = []
        reads: list[tuple[int, int]] = []
        for addr, flags, length, buf in msgs:
            ten_bit = bool(flags & I2C_M_TEN)
            if length > MAX_LEN or addr > (0x3FF if ten_bit else 0x7F):
                raise LinuxError(EINVAL)
            op = length if flags & I2C_M_RD else memory.read(buf, length) if length else b""
            if flags & I2C_M_RD:
                reads.append((buf, length))
            if segments and segments[-1][0] == addr and segments[-1][1] == ten_bit:
                segments[-1][2].append(op)
            else:
                segments.append((addr, ten_bit, [op]))
        results, wire_ps = self._run(segments)
        for (buf, length), data in zip(reads, results):
            if length:
                memory.write(buf, data[:length])
        return self._after(wire_ps, nmsgs)

    # ---- the descriptor ---------------------------------------------------------------------------------------------
    def ioctl(self, request: int, arg: int, memory):
        if request == I2C_RDWR:
            return self._rdwr(arg, memory)
        if request == I2C_SPEED:
            if arg not in SPEEDS:
                raise LinuxError(EINVAL)
            self.speed = arg
            return 0
        if request == I2C_TIMEOUT:
            self.timeout_ms = max(1, arg) * 10
            return 0
        if request in (I2C_SLAVE, I2C_SLAVE_FORCE):
            if arg > (0x3FF if self.ten_bit else 0x7F):
                raise LinuxError(EINVAL)
            self.target = arg
            return 0
        if request == I2C_TENBIT:
            self.ten_bit = bool(arg)
            return 0
        if request == I2C_FUNCS:
            memory.write_u32(arg, I2C_FUNC_I2C | I2C_FUNC_10BIT_ADDR)
            return 0
        if request == I2C_RETRIES:
            return 0
        raise LinuxError(ENOTTY)

    def read(self, count: int) -> bytes:
        if self.target is None:
            raise LinuxError(EINVAL)
        results, _ = self._run([(self.target, self.ten_bit, [min(count, MAX_LEN)])])
        return results[0]

    def write(self, data: bytes) -> int:
        if self.target is None:
            raise LinuxError(EINVAL)
        data = bytes(data[:MAX_LEN])
        self._run([(self.target, self.ten_bit, [data])])
        return len(data)

    def release(self) -> None:
        self.service.open_files.pop(self.isu, None)
