"""RTC: the hardware real-time clock behind clock_systohc (rtc.h), through the standard Linux RTC interface:
/dev/rtc0 with RTC_SET_TIME / RTC_RD_TIME (_IOW/_IOR('p', 0x0a/0x09, struct rtc_time), nine ints in UTC), as
hwclock uses it. Setting it needs "SystemTime": true in the manifest (EACCES otherwise).

What the RTC holds survives a reboot of the emulated device (power.py): after a reboot CLOCK_REALTIME restarts
from the RTC's time (plus the virtual time since it was set); without a clock_systohc, from the emulator-defined
epoch (docs/a7.md). The RTC block itself is not modelled (platforms/blocks/a7.repl: rtc); its time is kept here.
"""
from __future__ import annotations

import calendar
import struct
import time

from mt3620.engine.linux.abi import EINVAL, ENOTTY
from mt3620.engine.linux.devices import DeviceFile
from mt3620.engine.linux.errors import LinuxError

from . import Service

RTC_TIME = struct.Struct("<9i")
RTC_RD_TIME = 2 << 30 | RTC_TIME.size << 16 | ord("p") << 8 | 0x09
RTC_SET_TIME = 1 << 30 | RTC_TIME.size << 16 | ord("p") << 8 | 0x0A


class RtcService(Service):
    name = "rtc"

    def __init__(self, os) -> None:
        super().__init__(os)
        self.set_to_ns: int | None = None          # the time written, and the monotonic time when it was
        self.set_at_ns = 0
        self.kernel.devices.register("/dev/rtc0", lambda ctx: RtcFile(ctx, self), mode=0o644)

    def now_ns(self) -> int | None:
        if self.set_to_ns is None:
            return None
        return self.set_to_ns + self.kernel.monotonic_ns() - self.set_at_ns


class RtcFile(DeviceFile):
    def __init__(self, ctx, service: RtcService) -> None:
        super().__init__(ctx)
        self.service = service

    def ioctl(self, request: int, arg: int, memory) -> int:
        svc = self.service
        if request == RTC_SET_TIME:
            svc.require(svc.capabilities(self.context).system_time, "SystemTime", self.context)
            sec, minute, hour, mday, mon, year, *_ = RTC_TIME.unpack(memory.read(arg, RTC_TIME.size))
            if not (0 <= sec < 60 and 0 <= minute < 60 and 0 <= hour < 24 and 1 <= mday <= 31 and 0 <= mon < 12
                    and 70 <= year < 1100):
                raise LinuxError(EINVAL)
            svc.set_to_ns = calendar.timegm((1900 + year, mon + 1, mday, hour, minute, sec)) * 1_000_000_000
            svc.set_at_ns = svc.kernel.monotonic_ns()
            return 0
        if request == RTC_RD_TIME:
            now = svc.now_ns()
            if now is None:
                now = svc.kernel.realtime_ns()
            tm = time.gmtime(now // 1_000_000_000)
            memory.write(arg, RTC_TIME.pack(tm.tm_sec, tm.tm_min, tm.tm_hour, tm.tm_mday, tm.tm_mon - 1,
                                            tm.tm_year - 1900, (tm.tm_wday + 1) % 7, tm.tm_yday - 1, 0))
            return 0
        raise LinuxError(ENOTTY)
