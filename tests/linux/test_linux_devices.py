"""The device-node API (engine/linux/devices.py), exercised exactly as docs/a7.md's worked example shows: a device
file served from Python whose reads block until a model event on the virtual clock produces data."""
import struct

from linux_programs import build, pack
from mt3620.engine.linux import DeviceFile, LinuxError, WouldBlock
from mt3620.engine.linux.abi import EACCES, EINVAL, POLLIN, POLLOUT
from mt3620.testing.device import Device

SAMPLE_GET_COUNT = (2 << 30) | (4 << 16) | (ord("s") << 8) | 1      # _IOR('s', 1, uint32_t)


class SampleFile(DeviceFile):
    """One open of /dev/sample0: every 50 ms of virtual time a 'model' produces a sample."""

    def __init__(self, ctx, clock):
        super().__init__(ctx)
        self.samples: list[bytes] = []
        self.count = 0
        self.clock = clock
        self.event = clock.schedule(50 * 10**9, self.produce, "sample")

    def produce(self):                      # a model event: data arrives, readers wake
        self.count += 1
        self.samples.append(f"sample {self.count}".encode())
        self.changed()
        self.event = self.clock.schedule(50 * 10**9, self.produce, "sample")

    def read(self, count):
        if not self.samples:
            raise WouldBlock()              # EAGAIN for O_NONBLOCK, else the thread sleeps until changed()
        return self.samples.pop(0)[:count]

    def write(self, data):
        if data == b"reset":
            self.count = 0
            return len(data)
        raise LinuxError(EINVAL)

    def ioctl(self, request, arg, memory):
        if request == SAMPLE_GET_COUNT:
            memory.write(arg, struct.pack("<I", self.count))     # a bad pointer raises EFAULT for the guest
            return 0
        return super().ioctl(request, arg, memory)

    def poll(self):
        return (POLLIN if self.samples else 0) | POLLOUT

    def release(self):
        self.event.cancel()


def refuse(ctx):
    raise LinuxError(EACCES, "not in the app's manifest")


def test_device_node_blocking_read_poll_ioctl_and_refusal(sysroot):
    dev = Device.boot()
    kernel = dev.os.kernel
    kernel.devices.register("/dev/sample0", lambda ctx: SampleFile(ctx, dev.machine.clock), mode=0o600)
    kernel.devices.register("/dev/sample1", refuse)
    dev.launch(pack("devnode", build("devnode")))
    assert dev.wait_for_exit(timeout="2s") == 0
    lines = dev.lines("a7.devnode")
    assert lines == ["read 8 'sample 1' after 50 ms", "poll 1 revents 1 after 50 ms", "read 8 'sample 2'",
                     "nonblocking read -1 Resource temporarily unavailable", "ioctl count 2",
                     "ioctl bad pointer -1 Bad address", "after write count 0", "sample1: Permission denied"]
    assert dev.machine.a7.instructions < 500_000      # the waits parked the A7


class BuggyFile(DeviceFile):
    def read(self, count):
        raise RuntimeError("a bug in a device model")


def test_a_bug_in_a_device_file_is_eio_for_the_app_not_a_traceback(sysroot, caplog):
    dev = Device.boot()
    dev.os.kernel.devices.register("/dev/sample0", BuggyFile)
    dev.os.kernel.devices.register("/dev/sample1", refuse)
    dev.launch(pack("devnode", build("devnode")))
    assert dev.wait_for_exit(timeout="2s") == 0
    assert dev.lines("a7.devnode")[0].startswith("read -1 ")
    assert any("raised inside the emulator" in r.getMessage() for r in caplog.records)
