"""The test harness: a booted `Device` for tests and CI jobs, and the `mt3620` pytest plugin around it."""
from .device import Device, DeviceFault, DeviceTimeout

__all__ = ["Device", "DeviceFault", "DeviceTimeout"]
