"""The MT3620's Cortex-A7 on Unicorn, running Linux user space (USR mode) for the emulated Azure Sphere OS."""
from .core import HZ, CortexA7, CpuContext, CpuException

__all__ = ["HZ", "CortexA7", "CpuContext", "CpuException"]
