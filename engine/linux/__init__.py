"""A Linux ARM EABI user-mode personality on the emulated Cortex-A7: ELF loading (static, PIE, PT_INTERP with the
real musl dynamic loader), process memory, threads, futexes, signals, files and polling, all on virtual time.
Independent of Azure Sphere: the emulated OS (sphere_os) builds on it through the VFS mounts and device nodes."""
from .devices import DeviceFile, DeviceNode, DevFs, OpenContext
from .errors import ExecError, GuestFault, LinuxError
from .kernel import Kernel, Process, Thread
from .vfs import AsxipfsFs, HostDirFs, MemFs, OpenFile, Vfs
from .waiting import BLOCKED, Block, Waitable, WouldBlock

__all__ = ["AsxipfsFs", "BLOCKED", "Block", "DevFs", "DeviceFile", "DeviceNode", "ExecError", "GuestFault",
           "HostDirFs", "Kernel", "LinuxError", "MemFs", "OpenContext", "OpenFile", "Process", "Thread", "Vfs",
           "Waitable", "WouldBlock"]
