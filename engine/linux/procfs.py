"""/proc as much as musl and typical apps read: /proc/self (a link to /proc/<pid>), /proc/<pid>/maps, exe,
cmdline, status, fd/ (links), and /proc/cpuinfo, /proc/meminfo, /proc/uptime. Contents are made at open time."""
from __future__ import annotations

from .abi import S_IFDIR, S_IFLNK, S_IFREG
from .errors import LinuxError
from .vfs import BytesFile, DirectoryFile, FileSystem, Node, Stat

CPUINFO = """processor\t: 0
model name\t: ARMv7 Processor rev 5 (v7l)
BogoMIPS\t: 500.00
Features\t: half thumb fastmult vfp edsp neon vfpv3 tls vfpv4 idiva idivt vfpd32 lpae
CPU implementer\t: 0x41
CPU architecture: 7
CPU variant\t: 0x0
CPU part\t: 0xc07
CPU revision\t: 5

Hardware\t: MT3620 (emulated)
"""


class ProcNode(Node):
    def __init__(self, fs: "ProcFs", mode: int, content=None, children=None, target=None) -> None:
        self.fs = fs
        self._mode = mode
        self.content = content          # callable -> str
        self.children = children        # callable -> dict[name, ProcNode]
        self.target = target            # callable -> str
        self.ino = fs.new_ino()

    def stat(self) -> Stat:
        return Stat(self._mode, 0, self.ino, self.fs.dev, 1)

    def lookup(self, name: str):
        if self.children is None:
            raise LinuxError(20)
        return self.children().get(name)

    def list(self):
        if self.children is None:
            raise LinuxError(20)
        return sorted(self.children().items())

    def readlink(self) -> str:
        if self.target is None:
            raise LinuxError(22)
        return self.target()

    def open(self, flags: int, path: str, context):
        if self.children is not None:
            return DirectoryFile(self, flags, path, None)
        if flags & 3:
            raise LinuxError(13)
        return BytesFile(self, self.content().encode(), flags, path)


class ProcFs(FileSystem):
    def __init__(self, kernel) -> None:
        self.kernel = kernel
        self.root = ProcNode(self, S_IFDIR | 0o555, children=self._top)

    def _file(self, fn) -> ProcNode:
        return ProcNode(self, S_IFREG | 0o444, content=fn)

    def _top(self) -> dict:
        k = self.kernel
        out = {"cpuinfo": self._file(lambda: CPUINFO),
               "meminfo": self._file(self._meminfo),
               "uptime": self._file(lambda: f"{k.monotonic_ns() / 1e9:.2f} {k.monotonic_ns() / 1e9:.2f}\n")}
        p = k.process
        if p is not None and p.alive:
            out[str(p.pid)] = self._pid_dir(p)
            out["self"] = ProcNode(self, S_IFLNK | 0o777, target=lambda pid=p.pid: str(pid))
            out["thread-self"] = ProcNode(self, S_IFLNK | 0o777, target=lambda pid=p.pid: f"{pid}/task/{pid}")
        return out

    def _meminfo(self) -> str:
        return "MemTotal:        4096 kB\nMemFree:         1024 kB\nMemAvailable:    1024 kB\n"

    def _pid_dir(self, p) -> ProcNode:
        def children():
            return {
                "maps": self._file(p.memory.maps_text),
                "exe": ProcNode(self, S_IFLNK | 0o777, target=lambda: p.exe),
                "cwd": ProcNode(self, S_IFLNK | 0o777, target=lambda: p.cwd),
                "cmdline": self._file(lambda: "".join(a + "\0" for a in p.argv)),
                "comm": self._file(lambda: p.name[:15] + "\n"),
                "status": self._file(lambda: f"Name:\t{p.name[:15]}\nPid:\t{p.pid}\nPPid:\t1\n"
                                             f"Uid:\t{p.uid}\t{p.uid}\t{p.uid}\t{p.uid}\n"
                                             f"Threads:\t{len(p.live_threads())}\n"
                                             f"VmPeak:\t{p.memory.peak_bytes // 1024} kB\n"
                                             f"VmSize:\t{p.memory.mapped_bytes // 1024} kB\n"),
                "fd": ProcNode(self, S_IFDIR | 0o500, children=lambda: {
                    str(fd): ProcNode(self, S_IFLNK | 0o700, target=lambda e=e: e.file.path or "anon_inode:[?]")
                    for fd, e in p.fds.items()}),
                "task": ProcNode(self, S_IFDIR | 0o555, children=lambda: {
                    str(t.tid): ProcNode(self, S_IFDIR | 0o555, children=lambda t=t: {
                        "comm": self._file(lambda t=t: t.name + "\n")}) for t in p.live_threads()}),
            }
        return ProcNode(self, S_IFDIR | 0o555, children=children)
