"""The emulated OS's networking: Wi-Fi service over the HIF driver, wlan0's virtual network with DNS, firewall and
the host bridge, the certificate store, and the Applibs service nodes. docs/wifi.md describes it.

    net = NetworkOs.of(machine, environment=RadioEnvironment.load("env.json"))   # once per machine
    net.wifi.add(StoredNetwork(ssid=b"Lab", security=SECURITY_PSK, psk="...", enabled=True))
    machine.run(until=lambda: net.wifi.networking_ready())

The emulated OS (sphere_os/apps.py) attaches its Linux kernel with `attach_kernel`, which installs the virtual
network as `kernel.net` and registers the device nodes; the OS agent opens its connections with
`open_connection(host, port)` (through the Wi-Fi link and the network's DNS, like the device's own traffic).
"""
from __future__ import annotations

import logging
import socket
from pathlib import Path

from mt3620.peripherals.wifi.environment import RadioEnvironment

from .bridge import HostBridge, Recording, ReplayBridge
from .certstore import CertStore
from .services import NODES
from .stack import VirtualNetwork
from .wifi import (SECURITY_EAP_TLS, SECURITY_OPEN, SECURITY_PSK, IpConfig, StoredNetwork, WifiService)
from .wifi_driver import HifDriver

log = logging.getLogger("mt3620.net")
OS_LABEL = "a7.os"

__all__ = ["NetworkOs", "StoredNetwork", "IpConfig", "SECURITY_OPEN", "SECURITY_PSK", "SECURITY_EAP_TLS",
           "Recording", "RadioEnvironment"]


class NetworkError(ValueError):
    """The device has no Wi-Fi block, or a setting does not load: one line."""


class NetworkOs:
    def __init__(self, machine, environment: RadioEnvironment | None = None, state_dir: str | Path | None = None,
                 replay: str | Path | Recording | None = None, realtime=None, wifi_store=None,
                 certstore_store=None) -> None:
        """`wifi_store`, `certstore_store`: (load, save) of the stored Wi-Fi networks and of the certificate store
        when they live elsewhere than `state_dir` (a board's flash)."""
        self.machine = machine
        model = machine.devices.get("wifi_hif")
        if model is None or not hasattr(model, "attach_environment"):
            raise NetworkError("this platform has no Wi-Fi host interface (wifi_hif at 0x60000000)")
        self.model = model
        self.state_dir = Path(state_dir) if state_dir else None
        if self.state_dir is not None:
            self.state_dir.mkdir(parents=True, exist_ok=True)
        model.personalise(bytes(machine.device_seed))
        model.attach_environment(environment)
        self.environment = environment
        machine.output_tap(OS_LABEL)
        if replay is not None:
            recording = replay if isinstance(replay, Recording) else Recording.load(replay)
            bridge: HostBridge = ReplayBridge(machine.clock, recording)
        else:
            bridge = HostBridge(machine.clock, self._idle)
        self.kernel = None
        self._realtime = realtime
        self.net = VirtualNetwork(None, machine.clock, environment, bridge, emit=self._emit)
        self.driver = HifDriver(machine.view("a7"), model)
        try:
            self.certstore = CertStore(self.state_dir / "certstore.json" if self.state_dir else None,
                                       store=certstore_store)
        except ValueError as exc:
            raise NetworkError(str(exc)) from None
        self.ntp_servers: list[str] = []
        try:
            self.wifi = WifiService(self.driver, self.net, machine.clock, self.certstore, self.realtime_ns,
                                    persist_path=self.state_dir / "wifi.json" if self.state_dir else None,
                                    emit=self._emit, store=wifi_store)
        except ValueError as exc:
            raise NetworkError(str(exc)) from None
        machine.shared_objects["network_os"] = self

    @classmethod
    def of(cls, machine, **kwargs) -> "NetworkOs":
        existing = machine.shared_objects.get("network_os")
        if existing is None:
            return cls(machine, **kwargs)
        if kwargs.get("environment") is not None:
            existing.set_environment(kwargs["environment"])
        return existing

    # ---- clocks and output ------------------------------------------------------------------------------------------
    def realtime_ns(self) -> int:
        if self.kernel is not None:
            return self.kernel.realtime_ns()
        if self._realtime is not None:
            return self._realtime()
        from mt3620.engine.linux.kernel import DEFAULT_REALTIME_EPOCH_NS
        return DEFAULT_REALTIME_EPOCH_NS + self.machine.clock.now // 1000

    def _emit(self, text: str) -> None:
        self.machine.emit(OS_LABEL, (text.rstrip("\n") + "\n").encode())

    def _idle(self) -> bool:
        """Every core is parked (nothing would run before the next event)."""
        for core in self.machine.all_cores():
            if getattr(core, "sleeping", True) or getattr(core, "halted", False):
                continue
            if core is not getattr(self.machine, "_a7", None) and not self.machine.images.get(core.name):
                continue
            return False
        return True

    # ---- the OS kernel ----------------------------------------------------------------------------------------------
    def attach_kernel(self, kernel) -> None:
        """Install the virtual network as the kernel's stack and the Applibs service nodes in its /dev."""
        from mt3620.engine.linux.inet import install
        self.kernel = kernel
        self.net.kernel = kernel
        install(kernel, self.net)
        for path, cls in NODES.items():
            kernel.devices.register(path, lambda ctx, cls=cls: cls(ctx, self), mode=0o666)
        if self.net.wlan.has_ip:
            self.wifi._write_resolv_conf(self.net.wlan.dns)

    # ---- the radio environment ----------------------------------------------------------------------------------------
    def set_environment(self, environment: RadioEnvironment | None) -> None:
        self.environment = environment
        self.net.environment = environment
        self.model.attach_environment(environment)
        self.wifi._kick()

    # ---- the OS's own connections ----------------------------------------------------------------------------------
    def open_connection(self, host: str, port: int, timeout: float = 10.0) -> socket.socket:
        """A TCP connection of the OS itself (the security-service agent) through wlan0: no network -> OSError
        ENETUNREACH; a name the network does not know -> OSError; otherwise a connected host socket."""
        target = self.net.host_endpoint(host, port)
        if not self.net.bridge.live:
            raise OSError(111, f"{host}:{port}: replaying a recording: the OS's own connections are not replayed")
        return socket.create_connection(target, timeout=timeout)

    def close(self) -> None:
        self.net.bridge.close()
