"""The device side of the security service's (AS3 stand-in's) device API: the protocol client the emulated OS
agent, `mt3620 device`, the tests and the benchmark speak (docs/cloud.md, "Device protocol"). Imports the shared
formats and the HTTP client only, never the service."""
from .device_client import DeviceApiError, DeviceClient, DeviceKeys, ServerCertificateError, boot_measurements

__all__ = ["DeviceApiError", "DeviceClient", "DeviceKeys", "ServerCertificateError", "boot_measurements"]
