"""The OS's Wi-Fi service: stored networks, network selection and reconnection, scans, and wlan0's addressing,
time sync and connectivity state. It plays wpa_supplicant's and the networking daemon's roles above the HIF driver
(wifi_driver.py), and is what WifiConfig_*, Networking_* and `azsphere device wifi ...` reach.

Stored networks (WifiConfig): ids are positions in the list (the public API says ids may change when networks are
added or removed); a new network is disabled, has no SSID and security Unknown until configured; only enabled
networks with an SSID and a known security are joined. Changes apply at once; PersistConfig saves them (to
wifi.json in the device's state folder, or in memory), ReloadConfig returns to what was saved.

Selection (emulator-defined): the enabled networks seen in the latest scan, strongest first, then the others in id
order; one join at a time; a failure is recorded in the network's diagnostics and the next candidate is tried;
when every candidate failed, the service waits (10 s, 20 s, 40 s ... at most 300 s of virtual time) and starts
over. A link that goes down is rejoined after 1 s. A changed configuration restarts selection at once.

Connection status (Networking_GetInterfaceConnectionStatus): InterfaceUp while wlan0 is enabled,
ConnectedToNetwork once associated with keys installed, IpAvailable with a lease (or a static address),
ConnectedToInternet after the OS's connectivity check reached the internet (the network's "internet" flag; one
round trip). Time sync: with the time-sync service enabled and a network offering NTP with internet, the clock is
synced one NTP exchange after the address comes; Networking_IsNetworkingReady needs it.
"""
from __future__ import annotations

import datetime as _dt
import ipaddress
import json
import logging
import struct
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from mt3620.engine.linux.abi import EEXIST, EINVAL, ENODEV, ENOENT, ENOSPC
from mt3620.engine.linux.errors import LinuxError
from mt3620.engine.simulation.clock import PS_PER_SECOND
from mt3620.peripherals.wifi import n9_hif as hif

from .wifi_driver import CommandResult, HifDriver

log = logging.getLogger("mt3620.net")
MAX_NETWORKS = 64
SECURITY_UNKNOWN, SECURITY_OPEN, SECURITY_PSK, SECURITY_EAP_TLS = 0, 1, 2, 3
SECURITY_NAMES = {0: "unknown", 1: "open", 2: "psk", 3: "eaptls"}
STATUS_UP, STATUS_CONNECTED, STATUS_IP, STATUS_INTERNET = 1, 2, 4, 8
RETRY_PS = [s * PS_PER_SECOND for s in (10, 20, 40, 80, 160, 300)]
REJOIN_PS = PS_PER_SECOND
CERT_NOT_FOUND = 100


@dataclass
class Diagnostics:
    error: int = 0
    timestamp: int = 0
    cert_error: int = 0
    cert_depth: int = -1
    cert_subject: str = ""


@dataclass
class StoredNetwork:
    ssid: bytes = b""
    security: int = SECURITY_UNKNOWN
    psk: str = ""
    enabled: bool = False
    config_name: str = ""
    identity: str = ""
    client_cert_id: str = ""
    root_ca_id: str = ""
    targeted_scan: bool = False
    diagnostics: Diagnostics | None = None

    def to_json(self) -> dict:
        out = asdict(self)
        out["ssid"] = self.ssid.hex()
        out.pop("diagnostics")
        return out

    @classmethod
    def from_json(cls, data: dict) -> "StoredNetwork":
        data = dict(data)
        data["ssid"] = bytes.fromhex(data.get("ssid", ""))
        data.pop("diagnostics", None)
        return cls(**data)

    @property
    def joinable(self) -> bool:
        return self.enabled and bool(self.ssid) and self.security in (SECURITY_OPEN, SECURITY_PSK, SECURITY_EAP_TLS)


@dataclass
class ScannedNetwork:
    ssid: bytes
    bssid: bytes
    security: int
    frequency_mhz: int
    signal_dbm: int


@dataclass
class IpConfig:
    """wlan0's IP configuration (Networking_IpConfig_Apply): dynamic or static address, automatic or custom DNS."""
    static: tuple[ipaddress.IPv4Address, ipaddress.IPv4Address, ipaddress.IPv4Address] | None = None
    dns: list[ipaddress.IPv4Address] = field(default_factory=list)


class WifiService:
    def __init__(self, driver: HifDriver, network, clock, certstore, realtime: Callable[[], int],
                 persist_path: str | Path | None = None, emit: Callable[[str], None] | None = None,
                 store: tuple[Callable[[], list | None], Callable[[list], None]] | None = None) -> None:
        """`network`: the VirtualNetwork whose wlan0 this service configures; `realtime()`: the device's calendar
        time in ns (for certificate checks and diagnostics timestamps). `store`: (load, save) of the persisted
        networks elsewhere than a file (a board keeps them in its flash, docs/device.md)."""
        self.store = store
        self.driver, self.network, self.clock, self.certstore = driver, network, clock, certstore
        self.realtime = realtime
        self.persist_path = Path(persist_path) if persist_path else None
        self.emit = emit or (lambda text: None)
        self.networks: list[StoredNetwork] = []
        self.saved: list[dict] = []
        self.scan_results: list[ScannedNetwork] = []
        self.enabled = True
        self.ip_config = IpConfig()
        self.time_sync_enabled = True
        self.time_synced = False
        self.internet = False
        self.connected_index: int | None = None
        self.joining_index: int | None = None
        self.failed_round: set[int] = set()
        self.retry_count = 0
        self.retry_event = None
        self.sync_event = None
        self.check_event = None
        self.scan_waiters: list[Callable[[int], None]] = []
        self.state_listeners: list[Callable[[], None]] = []
        self.joins = 0
        self.generation = 0
        driver.listeners.append(self._hif_event)
        network.set_wlan(mac=driver.mac, enabled=True)
        if self.store is not None:
            self.saved = list(self.store[0]() or [])
        elif self.persist_path is not None and self.persist_path.exists():
            try:
                self.saved = json.loads(self.persist_path.read_text()).get("networks", [])
            except (ValueError, AttributeError) as exc:
                raise ValueError(f"{self.persist_path}: Wi-Fi settings do not load: {exc}") from None
        self.networks = [StoredNetwork.from_json(n) for n in self.saved]
        self._kick()

    # ---- stored networks ------------------------------------------------------------------------------------------
    def entry(self, network_id: int) -> StoredNetwork:
        if network_id < 0:
            raise LinuxError(EINVAL)
        if network_id >= len(self.networks):
            raise LinuxError(ENODEV)
        return self.networks[network_id]

    def add(self, template: StoredNetwork | None = None) -> int:
        if len(self.networks) >= MAX_NETWORKS:
            raise LinuxError(12)            # ENOMEM, as WifiConfig_AddNetwork documents
        self.networks.append(template or StoredNetwork())
        self._changed()
        return len(self.networks) - 1

    def add_duplicate(self, network_id: int, config_name: str) -> int:
        source = self.entry(network_id)
        if any(n.config_name == config_name for n in self.networks):
            raise LinuxError(EEXIST)
        copy = StoredNetwork(**{k: v for k, v in asdict(source).items() if k != "diagnostics"})
        copy.ssid = source.ssid
        copy.config_name, copy.enabled = config_name, False
        return self.add(copy)

    def configure(self, network_id: int, **changes) -> None:
        net = self.entry(network_id)
        for key, value in changes.items():
            setattr(net, key, value)
        if network_id == self.connected_index and set(changes) & {"ssid", "security", "psk", "enabled",
                                                                  "client_cert_id", "root_ca_id", "identity"}:
            self._leave()
        self._changed()

    def forget(self, network_id: int) -> None:
        self.entry(network_id)
        if network_id == self.connected_index:
            self._leave()
        del self.networks[network_id]
        for attr in ("connected_index", "joining_index"):
            value = getattr(self, attr)
            if value is not None and value > network_id:
                setattr(self, attr, value - 1)
            elif value == network_id:
                setattr(self, attr, None)
        self.failed_round = {i - (i > network_id) for i in self.failed_round if i != network_id}
        self._changed()

    def forget_all(self) -> None:
        self._leave()
        self.networks.clear()
        self.persist()
        self._changed()

    def find_by_name(self, config_name: str) -> int:
        for index, net in enumerate(self.networks):
            if net.config_name == config_name:
                return index
        raise LinuxError(ENODEV)

    def persist(self) -> None:
        if any(not n.ssid for n in self.networks):
            raise LinuxError(EINVAL)        # "all networks must have an SSID set"
        if len(self.networks) > MAX_NETWORKS:
            raise LinuxError(ENOSPC)
        self.saved = [n.to_json() for n in self.networks]
        if self.store is not None:
            self.store[1](self.saved)
        elif self.persist_path is not None:
            tmp = self.persist_path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"networks": self.saved}, indent=1))
            tmp.replace(self.persist_path)

    def reload(self) -> None:
        self._leave()
        self.networks = [StoredNetwork.from_json(n) for n in self.saved]
        self._changed()

    # ---- interface state ----------------------------------------------------------------------------------------
    def set_enabled(self, enabled: bool) -> None:
        self.enabled = enabled
        self.network.set_wlan(enabled=enabled)
        if not enabled:
            self._leave()
        self._changed()

    def status(self) -> int:
        bits = STATUS_UP if self.enabled else 0
        if self.connected_index is not None:
            bits |= STATUS_CONNECTED
            if self.network.wlan.has_ip:
                bits |= STATUS_IP
                if self.internet:
                    bits |= STATUS_INTERNET
        return bits

    def networking_ready(self) -> bool:
        return self.status() & STATUS_IP and self.time_synced

    def current(self) -> dict | None:
        if self.connected_index is None:
            return None
        link = self.driver.link()
        if link is None:
            return None
        net = self.networks[self.connected_index]
        return {"id": self.connected_index, "ssid": net.ssid, "security": net.security, **link}

    def apply_ip_config(self, config: IpConfig) -> None:
        self.ip_config = config
        lease = self.driver.lease()
        if self.connected_index is not None:
            self._configure_address(lease)

    # ---- scanning -------------------------------------------------------------------------------------------------
    def scan(self, done: Callable[[int], None]) -> None:
        """Start a scan (queued behind a join in progress); done(count) or done(-errno)."""
        self.scan_waiters.append(done)
        if len(self.scan_waiters) == 1:
            self.driver.submit(hif.CMD_SCAN, {}, self._scan_done)

    def _scan_done(self, result: CommandResult) -> None:
        waiters, self.scan_waiters = self.scan_waiters, []
        if result.error:
            for done in waiters:
                done(-11)                   # EAGAIN: the Wi-Fi device is not ready
            return
        records = hif.decode_scan(result.data, result.result)
        self.scan_results = [ScannedNetwork(r["ssid"], r["bssid"], r["security"], r["frequency_mhz"],
                                            r["signal_dbm"]) for r in records]
        for done in waiters:
            done(len(self.scan_results))
        self._kick()

    # ---- selection and joining ------------------------------------------------------------------------------------
    def _changed(self) -> None:
        self.generation += 1
        for listener in list(self.state_listeners):
            listener()
        self._kick()

    def _candidates(self) -> list[int]:
        seen = {}
        for s in self.scan_results:
            seen[s.ssid] = max(seen.get(s.ssid, -999), s.signal_dbm)
        joinable = [i for i, n in enumerate(self.networks) if n.joinable and i not in self.failed_round]
        return sorted(joinable, key=lambda i: (self.networks[i].ssid not in seen,
                                               -seen.get(self.networks[i].ssid, -999), i))

    def _kick(self) -> None:
        """Start a join if none runs, the interface is up and nothing is connected."""
        if not self.enabled or self.connected_index is not None or self.joining_index is not None:
            return
        if self.retry_event is not None:
            return
        candidates = self._candidates()
        if not candidates:
            if self.failed_round and any(n.joinable for n in self.networks):
                delay = RETRY_PS[min(self.retry_count, len(RETRY_PS) - 1)]
                self.retry_count += 1
                log.info("wifi: no network could be joined; retrying in %d s", delay // PS_PER_SECOND)
                self.retry_event = self.clock.schedule(delay, self._retry, "wifi.retry")
            return
        self._join(candidates[0])

    def _retry(self) -> None:
        self.retry_event = None
        self.failed_round.clear()
        self._kick()

    def _join(self, index: int) -> None:
        net = self.networks[index]
        args = {hif.ARG_SSID: net.ssid, hif.ARG_SECURITY: bytes([net.security]),
                hif.ARG_TIME: struct.pack("<q", self.realtime() // 1_000_000_000)}
        if net.targeted_scan:
            args[hif.ARG_TARGETED] = b"\x01"
        if net.security == SECURITY_PSK and net.psk:
            args[hif.ARG_PSK] = net.psk.encode("latin-1")
        if net.security == SECURITY_EAP_TLS:
            client = self.certstore.get(net.client_cert_id) if net.client_cert_id else None
            if client is None or client.kind != "client":
                self._record_failure(index, hif.AUTHENTICATION_FAILED, cert_error=CERT_NOT_FOUND)
                self.failed_round.add(index)
                self.clock.schedule(0, self._kick, "wifi.next")
                return
            args[hif.ARG_IDENTITY] = net.identity.encode()
            args[hif.ARG_CLIENT_CERT] = client.certificate.encode()
            args[hif.ARG_CLIENT_KEY] = (client.key or "").encode()
            if client.password:
                args[hif.ARG_KEY_PASSWORD] = client.password.encode()
            if net.root_ca_id:
                root = self.certstore.get(net.root_ca_id)
                if root is None:
                    self._record_failure(index, hif.AUTHENTICATION_FAILED, cert_error=CERT_NOT_FOUND)
                    self.failed_round.add(index)
                    self.clock.schedule(0, self._kick, "wifi.next")
                    return
                args[hif.ARG_ROOT_CA] = root.certificate.encode()
        if self.ip_config.static is not None:
            address, mask, gateway = self.ip_config.static
            dns = self.ip_config.dns[0] if self.ip_config.dns else gateway
            args[hif.ARG_STATIC_IP] = struct.pack("<4I", int(address), int(mask), int(gateway), int(dns))
        self.joining_index = index
        self.joins += 1
        generation = self.generation
        self.driver.submit(hif.CMD_CONNECT, args, lambda result: self._joined(index, generation, result))

    def _joined(self, index: int, generation: int, result: CommandResult) -> None:
        if self.joining_index != index:
            return
        self.joining_index = None
        if result.error:
            if result.data != b"aborted":
                failure = self.driver.last_failure()
                self._record_failure(index, result.error, failure["cert_error"], failure["cert_depth"],
                                     result.data.decode("utf-8", "replace"))
                self.failed_round.add(index)
                self.emit(f"wifi: joining {self.networks[index].ssid.decode('utf-8', 'replace')!r} failed: "
                          f"{hif.FAILURE_NAMES.get(result.error, result.error)}")
            self._kick()
            return
        self.connected_index = index
        self.failed_round.clear()
        self.retry_count = 0
        net = self.networks[index]
        self.emit(f"wifi: connected to {net.ssid.decode('utf-8', 'replace')!r}")
        self.network.set_wlan(connected=True)
        self._configure_address(self.driver.lease())
        for listener in list(self.state_listeners):
            listener()

    def _record_failure(self, index: int, error: int, cert_error: int = 0, depth: int = -1,
                        subject: str = "") -> None:
        if index < len(self.networks):
            self.networks[index].diagnostics = Diagnostics(error, self.realtime() // 1_000_000_000, cert_error,
                                                           depth, subject)

    def _leave(self) -> None:
        if self.connected_index is not None or self.joining_index is not None:
            self.joining_index = None
            self.driver.disconnect()
        self._link_down()

    def _link_down(self) -> None:
        was = self.connected_index
        self.connected_index = None
        self.time_synced = False
        self.internet = False
        for attr in ("sync_event", "check_event"):
            event = getattr(self, attr)
            if event is not None:
                event.cancel()
                setattr(self, attr, None)
        self.network.set_wlan(connected=False, address=None, netmask=None, gateway=None, dns=[], network=None)
        if was is not None:
            for listener in list(self.state_listeners):
                listener()

    # ---- HIF events -----------------------------------------------------------------------------------------------
    def _hif_event(self, bits: int) -> None:
        if bits & hif.INT_LINK_DOWN and self.connected_index is not None:
            reason = self.driver.last_failure()["reason"]
            self.emit(f"wifi: link down (reason {reason})")
            self._link_down()
            self.retry_event = self.clock.schedule(REJOIN_PS, self._retry, "wifi.rejoin")
        if bits & hif.INT_IP_CHANGED and self.connected_index is not None:
            self._configure_address(self.driver.lease())
        if bits & hif.INT_ROAMED:
            self.emit("wifi: roamed to another access point")

    def _configure_address(self, lease) -> None:
        env_net = self._current_env_network()
        if self.ip_config.static is not None:
            address, mask, gateway = self.ip_config.static
            dns = self.ip_config.dns or [gateway]
        elif lease is not None:
            address, mask, gateway = lease.address, lease.netmask, lease.gateway
            dns = self.ip_config.dns or [lease.dns]
        else:
            self.network.set_wlan(address=None, network=env_net)
            return
        before = self.network.wlan.address
        self.network.set_wlan(address=address, netmask=mask, gateway=gateway, dns=list(dns), network=env_net)
        if before != address:
            self.emit(f"wifi: address {address}")
            self._write_resolv_conf(dns)
            self._start_checks(env_net)
        for listener in list(self.state_listeners):
            listener()

    def _current_env_network(self):
        link = self.driver.link()
        env = self.driver.model.environment
        if link is None or env is None:
            return None
        ap = env.find(link["bssid"])
        return env.network_of(ap) if ap is not None else None

    def _write_resolv_conf(self, dns) -> None:
        kernel = self.network.kernel
        if kernel is not None:
            kernel.rootfs.add_file("/etc/resolv.conf", "".join(f"nameserver {d}\n" for d in dns).encode())

    def _start_checks(self, env_net) -> None:
        rtt = int(2 * (env_net.latency_ms if env_net else 1.0) * PS_PER_SECOND // 1000)
        if env_net is not None and env_net.internet:
            self.check_event = self.clock.schedule(rtt + 20 * PS_PER_SECOND // 1000, self._internet_reached,
                                                   "net.connectivity-check")
            if self.time_sync_enabled and env_net.ntp:
                self.sync_event = self.clock.schedule(rtt + 50 * PS_PER_SECOND // 1000, self._time_synced,
                                                      "net.ntp")

    def _internet_reached(self) -> None:
        self.check_event = None
        if self.network.wlan.has_ip:
            self.internet = True
            for listener in list(self.state_listeners):
                listener()

    def _time_synced(self) -> None:
        self.sync_event = None
        if self.network.wlan.has_ip:
            self.time_synced = True
            self.last_sync = (self.realtime(), self._current_env_network())
            self.emit("net: time synced")
            for listener in list(self.state_listeners):
                listener()

    def set_time_sync(self, enabled: bool) -> None:
        self.time_sync_enabled = enabled
        if enabled and self.network.wlan.has_ip and not self.time_synced and self.sync_event is None:
            self._start_checks(self._current_env_network())

    # ---- descriptions (CLI, tests) ----------------------------------------------------------------------------------
    def describe(self) -> dict:
        current = self.current()
        w = self.network.wlan
        return {"enabled": self.enabled,
                "state": "connected" if current else ("connecting" if self.joining_index is not None
                                                      else "disconnected"),
                "ssid": current["ssid"].decode("utf-8", "replace") if current else None,
                "bssid": ":".join(f"{b:02x}" for b in current["bssid"]) if current else None,
                "frequency_mhz": current["frequency_mhz"] if current else None,
                "signal_dbm": current["signal_dbm"] if current else None,
                "security": SECURITY_NAMES.get(self.networks[current["id"]].security) if current else None,
                "ip": str(w.address) if w.has_ip else None, "internet": self.internet,
                "time_synced": self.time_synced}


def utc_now(realtime_ns: int) -> _dt.datetime:
    return _dt.datetime.fromtimestamp(realtime_ns / 1e9, _dt.timezone.utc)


_ = ENOENT
