"""Fake Renode objects for running the IronPython shims under CPython: the host side of a PythonPeripheral.

They mirror the members the shims use (renode-infrastructure PeripheralPythonEngine.cs PythonRequest, IMachine,
SystemBus, IGPIOReceiver) in both request naming styles: lower case up to Renode 1.16.0, PascalCase from 1.16.1.
"""
from __future__ import annotations

from pathlib import Path


class LowerRequest:
    """Renode <= 1.16.0: request.value, request.length, request.offset, request.isRead, ..."""

    def __init__(self) -> None:
        self.value = 0
        self.length = 4
        self.offset = 0
        self.type = "INIT"

    isInit = property(lambda self: self.type == "INIT")
    isRead = property(lambda self: self.type == "READ")
    isWrite = property(lambda self: self.type == "WRITE")
    isUser = property(lambda self: self.type == "USER")


class PascalRequest:
    """Renode >= 1.16.1: request.Value, request.Length, request.Offset, request.IsRead, ..."""

    def __init__(self) -> None:
        self.Value = 0
        self.Length = 4
        self.Offset = 0
        self.Type = "INIT"

    IsInit = property(lambda self: self.Type == "INIT")
    IsRead = property(lambda self: self.Type == "READ")
    IsWrite = property(lambda self: self.Type == "WRITE")
    IsUser = property(lambda self: self.Type == "USER")


class FakeTime:
    def __init__(self, ns: int) -> None:
        self.TotalNanoseconds = ns


class FakeStamp:
    def __init__(self, machine: "FakeMachine") -> None:
        self.machine = machine

    @property
    def TimeElapsed(self) -> FakeTime:
        return FakeTime(self.machine.now_ns)


class FakeReceiver:
    """An interrupt controller (NVIC/GIC): records OnGPIO calls."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.calls: list[tuple[int, bool]] = []
        self.levels: dict[int, bool] = {}

    def OnGPIO(self, number: int, value: bool) -> None:
        self.calls.append((number, value))
        self.levels[number] = value

    def Log(self, level, text) -> None:
        pass


class FakeCpu(FakeReceiver):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.resets = 0

    def Reset(self) -> None:
        self.resets += 1


class FakeBus:
    """SystemBus: ReadBytes(address, count, onlyMemory, context) / WriteBytes(bytes, address, onlyMemory, context)
    over a sparse byte map per context (None = the global view)."""

    def __init__(self, machine: "FakeMachine") -> None:
        self.machine = machine
        self.memory: dict[tuple[object, int], int] = {}
        self.current_cpu = None

    def ReadBytes(self, address, count, onlyMemory=False, context=None):
        return bytearray(self.memory.get((context, address + i), 0) for i in range(count))

    def WriteBytes(self, data, address, onlyMemory=False, context=None):
        for i, b in enumerate(data):
            self.memory[(context, address + i)] = int(b)

    def TryGetCurrentCPU(self):
        return (self.current_cpu is not None, self.current_cpu)


class FakeMachine:
    def __init__(self) -> None:
        self.now_ns = 0
        self.scheduled: list[tuple[int, object]] = []
        self.peripherals: dict[str, object] = {}
        self.names: dict[int, str] = {}
        self.SystemBus = FakeBus(self)

    @property
    def ElapsedVirtualTime(self) -> FakeStamp:
        return FakeStamp(self)

    def add(self, name: str, obj) -> None:
        self.peripherals["sysbus." + name] = obj
        self.names[id(obj)] = name

    def GetLocalName(self, obj) -> str:
        return self.names[id(obj)]

    def ScheduleAction(self, delay, callback) -> None:
        self.scheduled.append((self.now_ns + int(delay), callback))

    def run_scheduled(self, until_ns: int) -> int:
        """Fire due wake-ups in time order (as Renode's time source would), up to until_ns. Returns how many."""
        fired = 0
        while True:
            due = sorted((t, i) for i, (t, _) in enumerate(self.scheduled) if t <= until_ns)
            if not due:
                break
            t, i = due[0]
            _, cb = self.scheduled.pop(i)
            self.now_ns = max(self.now_ns, t)
            cb(None)
            fired += 1
        self.now_ns = max(self.now_ns, until_ns)
        return fired


class FakeEmulation:
    def TryGetEmulationElementByName(self, name, context):
        """Renode's Emulation.TryGetEmulationElementByName: `name`, then `sysbus.name`, in the machine given."""
        for candidate in (name, "sysbus." + name):
            obj = context.peripherals.get(candidate)
            if obj is not None:
                return (True, obj)
        return (False, None)


class FakeEmulationManager:
    def __init__(self) -> None:
        self.CurrentEmulation = FakeEmulation()


class FakePeripheral:
    """`self` of a PythonPeripheral: the shim calls self.GetMachine() and self.Log(level, text)."""

    def __init__(self, machine: FakeMachine, name: str) -> None:
        self.machine = machine
        self.logs: list[tuple[str, str]] = []
        machine.add(name, self)

    def GetMachine(self) -> FakeMachine:
        return self.machine

    def Log(self, level, text) -> None:
        self.logs.append((level, text))


class ShimRunner:
    """Runs one shim file the way Renode does: the whole file per request, in one persistent scope."""

    def __init__(self, shim: Path, machine: FakeMachine, name: str, size: int, style: str) -> None:
        self.code = compile(shim.read_text(), str(shim), "exec")
        self.periph = FakePeripheral(machine, name)
        self.request = LowerRequest() if style == "lower" else PascalRequest()
        self.style = style
        self.scope = {"request": self.request, "self": self.periph, "size": size, "__name__": "renode_shim",
                      "emulationManager": FakeEmulationManager()}

    def _set(self, kind: str, offset: int = 0, length: int = 4, value: int = 0) -> None:
        r = self.request
        if self.style == "lower":
            r.type, r.offset, r.length, r.value = kind, offset, length, value
        else:
            r.Type, r.Offset, r.Length, r.Value = kind, offset, length, value

    def init(self) -> None:
        self._set("INIT")
        exec(self.code, self.scope)

    def read(self, offset: int, length: int = 4) -> int:
        self._set("READ", offset, length)
        exec(self.code, self.scope)
        return self.request.value if self.style == "lower" else self.request.Value

    def write(self, offset: int, value: int, length: int = 4) -> None:
        self._set("WRITE", offset, length, value)
        exec(self.code, self.scope)
