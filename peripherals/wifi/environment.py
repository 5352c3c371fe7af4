"""The radio environment around an emulated device: access points and the host networks behind them.

It is what the Wi-Fi model scans, joins and loses, and what the OS's virtual network routes to. Written as JSON
(`--wifi-env env.json`, or built from Python in tests) and changeable while the device runs: an AP goes away, its
signal drops, a new one appears. Every change is announced to listeners (the Wi-Fi model re-evaluates its link).

    {
      "access_points": [
        {"ssid": "Lab", "bssid": "02:00:5e:00:00:01", "channel": 6, "security": "wpa2-psk",
         "passphrase": "correct horse", "signal_dbm": -48, "network": "lab"},
        {"ssid": "Corp", "bssid": "02:00:5e:00:00:02", "frequency_mhz": 5180, "security": "eap-tls",
         "radius": {"trusted_ca": "client-ca.pem", "certificate": "radius.pem", "key": "radius.key"},
         "signal_dbm": -60, "network": "corp"}
      ],
      "networks": {
        "lab": {"subnet": "192.168.50.0/24", "internet": true,
                "hosts": {"broker.example.com": {"address": "203.0.113.10",
                                                 "tcp": {"8883": "127.0.0.1:41883"}, "udp": {"5683": 45683}}}}
      }
    }

Field meanings (docs/wifi.md has the reference):
- access point: `ssid` (1-32 bytes), `bssid` (unicast MAC), `channel` and/or `frequency_mhz` (2.4 GHz channels
  1-14, 5 GHz channels 36-165; both given must agree), `security` open | wpa2-psk | eap-tls, `passphrase` (WPA2:
  8-63 printable ASCII characters or 64 hex digits), `radius` (EAP-TLS: the CA its RADIUS server trusts for
  client certificates, and optionally the server's own certificate chain and key; PEM text or a file relative to
  the env file), `signal_dbm` (-100..0), `network` (the name of a host network, or none: an AP with no network
  gives no DHCP lease).
- network: `subnet` (IPv4 /8../30; default 192.168.<n>.0/24), `gateway`, `dns` (default the gateway), `dhcp`
  (default true), `internet` (default true: the OS's connectivity check and time sync succeed), `ntp` (default
  true), `latency_ms` (one way, virtual, default 1), `hosts`: name -> {`address` (virtual IPv4, default assigned in
  203.0.113.0/24), `tcp` / `udp`: virtual port -> loopback target ("127.0.0.1:PORT" or a port number)}. Host
  names may start with "*." to answer every name below a domain.

Bad input raises `EnvironmentError_` with the JSON path of the field and the reason, in one line.
"""
from __future__ import annotations

import copy
import ipaddress
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

SECURITY_KINDS = ("open", "wpa2-psk", "eap-tls")
SIGNAL_RANGE = (-100, 0)
LOOPBACK = ipaddress.ip_network("127.0.0.0/8")
DEFAULT_HOST_RANGE = ipaddress.ip_network("203.0.113.0/24")     # TEST-NET-3 (RFC 5737): never a real host
_MAC = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_HOSTNAME = re.compile(r"^(\*\.)?([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}"
                       r"[a-zA-Z0-9])?)*\.?$")


class EnvironmentError_(ValueError):
    """A malformed radio environment: the message is `<where>: <field>: <reason>`."""


def channel_to_frequency(channel: int) -> int | None:
    """IEEE 802.11 channel numbering: 2.4 GHz channels 1-13 at 2407 + 5n MHz, 14 at 2484; 5 GHz at 5000 + 5n."""
    if 1 <= channel <= 13:
        return 2407 + 5 * channel
    if channel == 14:
        return 2484
    if 36 <= channel <= 177:
        return 5000 + 5 * channel
    return None


def frequency_to_channel(mhz: int) -> int | None:
    if mhz == 2484:
        return 14
    if 2412 <= mhz <= 2472 and (mhz - 2407) % 5 == 0:
        return (mhz - 2407) // 5
    if 5180 <= mhz <= 5885 and mhz % 5 == 0:
        return (mhz - 5000) // 5
    return None


def parse_mac(text: str) -> bytes:
    return bytes(int(part, 16) for part in text.split(":"))


def format_mac(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


@dataclass
class Radius:
    """The RADIUS side of an EAP-TLS access point (PEM text)."""
    trusted_ca: str                       # the CA (chain) client certificates must chain to
    certificate: str | None = None        # the server certificate chain it presents (leaf first)
    key: str | None = None                # its private key


@dataclass
class AccessPoint:
    ssid: bytes
    bssid: bytes
    frequency_mhz: int
    security: str
    signal_dbm: int
    passphrase: str | None = None
    radius: Radius | None = None
    network: str | None = None
    hidden: bool = False

    @property
    def channel(self) -> int:
        return frequency_to_channel(self.frequency_mhz) or 0

    @property
    def bssid_text(self) -> str:
        return format_mac(self.bssid)


@dataclass
class HostEntry:
    """A name the virtual DNS answers, its virtual address and where its ports lead on the host's loopback."""
    name: str
    address: ipaddress.IPv4Address
    tcp: dict[int, tuple[str, int]] = field(default_factory=dict)
    udp: dict[int, tuple[str, int]] = field(default_factory=dict)

    def matches(self, name: str) -> bool:
        name = name.rstrip(".").lower()
        pattern = self.name.rstrip(".").lower()
        if pattern.startswith("*."):
            return name.endswith(pattern[1:]) and len(name) > len(pattern) - 1
        return name == pattern


@dataclass
class Network:
    name: str
    subnet: ipaddress.IPv4Network
    gateway: ipaddress.IPv4Address
    dns: ipaddress.IPv4Address
    dhcp: bool = True
    internet: bool = True
    ntp: bool = True
    latency_ms: float = 1.0
    hosts: list[HostEntry] = field(default_factory=list)

    def resolve(self, name: str) -> HostEntry | None:
        exact = [h for h in self.hosts if not h.name.startswith("*.") and h.matches(name)]
        if exact:
            return exact[0]
        wild = sorted((h for h in self.hosts if h.name.startswith("*.") and h.matches(name)),
                      key=lambda h: -len(h.name))
        return wild[0] if wild else None

    def host_at(self, address: ipaddress.IPv4Address) -> HostEntry | None:
        return next((h for h in self.hosts if h.address == address), None)


Listener = Callable[[str, "AccessPoint | None"], None]


class RadioEnvironment:
    """Access points and networks. Mutations (`set_signal`, `remove`, `add`, `update`) notify listeners with
    (what, ap): what is "added", "removed" or "changed"."""

    def __init__(self, access_points: list[AccessPoint] | None = None,
                 networks: dict[str, Network] | None = None, source: str = "<environment>") -> None:
        self.source = source
        self.access_points: list[AccessPoint] = list(access_points or [])
        self.networks: dict[str, Network] = dict(networks or {})
        self.listeners: list[Listener] = []
        self.generation = 0

    # ---- loading ----------------------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path) -> "RadioEnvironment":
        path = Path(path)
        try:
            text = path.read_text()
        except OSError as exc:
            raise EnvironmentError_(f"{path}: cannot read: {exc.strerror or exc}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise EnvironmentError_(f"{path}: line {exc.lineno} column {exc.colno}: not JSON: {exc.msg}") from None
        return cls.from_dict(data, source=str(path), base=path.parent)

    @classmethod
    def from_dict(cls, data: Any, source: str = "<environment>", base: Path | None = None) -> "RadioEnvironment":
        return _Parser(source, base).environment(data)

    def to_dict(self) -> dict:
        """The environment as JSON data (PEM inline): `from_dict(env.to_dict())` gives an equal environment."""
        return {"access_points": [_ap_dict(ap) for ap in self.access_points],
                "networks": {name: _network_dict(n) for name, n in self.networks.items()}}

    # ---- queries -----------------------------------------------------------------------------------------------
    def find(self, bssid: bytes | str) -> AccessPoint | None:
        raw = parse_mac(bssid) if isinstance(bssid, str) else bytes(bssid)
        return next((ap for ap in self.access_points if ap.bssid == raw), None)

    def network_of(self, ap: AccessPoint) -> Network | None:
        return self.networks.get(ap.network) if ap.network else None

    # ---- changes while the device runs -------------------------------------------------------------------------
    def _changed(self, what: str, ap: AccessPoint | None) -> None:
        self.generation += 1
        for listener in list(self.listeners):
            listener(what, ap)

    def _require(self, bssid) -> AccessPoint:
        ap = self.find(bssid)
        if ap is None:
            raise EnvironmentError_(f"{self.source}: no access point with BSSID "
                                    f"{bssid if isinstance(bssid, str) else format_mac(bssid)}")
        return ap

    def set_signal(self, bssid: bytes | str, dbm: int) -> None:
        ap = self._require(bssid)
        if not isinstance(dbm, int) or not SIGNAL_RANGE[0] <= dbm <= SIGNAL_RANGE[1]:
            raise EnvironmentError_(f"{self.source}: signal_dbm: {dbm!r} is not an integer in "
                                    f"{SIGNAL_RANGE[0]}..{SIGNAL_RANGE[1]}")
        ap.signal_dbm = dbm
        self._changed("changed", ap)

    def remove(self, bssid: bytes | str) -> AccessPoint:
        ap = self._require(bssid)
        self.access_points.remove(ap)
        self._changed("removed", ap)
        return ap

    def add(self, ap: AccessPoint | dict) -> AccessPoint:
        if isinstance(ap, dict):
            ap = _Parser(self.source, None).access_point(ap, f"access_points[{len(self.access_points)}]",
                                                         set(self.networks))
        if self.find(ap.bssid) is not None:
            raise EnvironmentError_(f"{self.source}: bssid: {ap.bssid_text} is already in the environment")
        if ap.network is not None and ap.network not in self.networks:
            raise EnvironmentError_(f"{self.source}: network: {ap.network!r} is not a network of the environment")
        self.access_points.append(ap)
        self._changed("added", ap)
        return ap

    def update(self, bssid: bytes | str, **changes: Any) -> AccessPoint:
        """Change fields of an AP (security, passphrase, ssid, network, signal_dbm, ...), checked as when loaded."""
        ap = self._require(bssid)
        merged = _ap_dict(ap)
        merged.update(changes)
        fresh = _Parser(self.source, None).access_point(merged, f"access_points[{self.access_points.index(ap)}]",
                                                        set(self.networks))
        for name in ap.__dataclass_fields__:
            setattr(ap, name, getattr(fresh, name))
        self._changed("changed", ap)
        return ap

    def copy(self) -> "RadioEnvironment":
        return RadioEnvironment(copy.deepcopy(self.access_points), copy.deepcopy(self.networks), self.source)


# ---- parsing -------------------------------------------------------------------------------------------------------
class _Parser:
    def __init__(self, source: str, base: Path | None) -> None:
        self.source, self.base = source, base

    def fail(self, where: str, reason: str):
        raise EnvironmentError_(f"{self.source}: {where}: {reason}")

    def environment(self, data: Any) -> RadioEnvironment:
        if not isinstance(data, dict):
            self.fail("(top)", "must be a JSON object with access_points and networks")
        unknown = set(data) - {"access_points", "networks", "comment"}
        if unknown:
            self.fail(sorted(unknown)[0], "unknown field (expected access_points, networks)")
        networks_raw = data.get("networks", {})
        if not isinstance(networks_raw, dict):
            self.fail("networks", "must be an object: name -> network")
        networks: dict[str, Network] = {}
        used_hosts: set = set()
        for index, (name, raw) in enumerate(networks_raw.items()):
            networks[name] = self.network(name, raw, index, used_hosts)
        aps_raw = data.get("access_points", [])
        if not isinstance(aps_raw, list):
            self.fail("access_points", "must be a list")
        aps: list[AccessPoint] = []
        for i, raw in enumerate(aps_raw):
            ap = self.access_point(raw, f"access_points[{i}]", set(networks))
            if any(other.bssid == ap.bssid for other in aps):
                self.fail(f"access_points[{i}].bssid", f"{ap.bssid_text} appears twice")
            aps.append(ap)
        return RadioEnvironment(aps, networks, self.source)

    def access_point(self, raw: Any, where: str, network_names: set[str]) -> AccessPoint:
        if not isinstance(raw, dict):
            self.fail(where, "must be an object")
        allowed = {"ssid", "bssid", "channel", "frequency_mhz", "security", "passphrase", "radius", "signal_dbm",
                   "network", "hidden", "comment"}
        unknown = set(raw) - allowed
        if unknown:
            self.fail(f"{where}.{sorted(unknown)[0]}", "unknown field")
        ssid = raw.get("ssid")
        if not isinstance(ssid, str):
            self.fail(f"{where}.ssid", "missing or not a string")
        ssid_bytes = ssid.encode()
        if not 1 <= len(ssid_bytes) <= 32:
            self.fail(f"{where}.ssid", f"{len(ssid_bytes)} bytes; an SSID has 1 to 32")
        bssid = raw.get("bssid")
        if not isinstance(bssid, str) or not _MAC.match(bssid):
            self.fail(f"{where}.bssid", f"{bssid!r} is not a MAC address like 02:00:5e:00:00:01")
        bssid_raw = parse_mac(bssid)
        if bssid_raw[0] & 1:
            self.fail(f"{where}.bssid", f"{bssid} is a group address (a BSSID is unicast)")
        channel, freq = raw.get("channel"), raw.get("frequency_mhz")
        if channel is None and freq is None:
            self.fail(f"{where}.channel", "give channel or frequency_mhz")
        if channel is not None:
            if not isinstance(channel, int) or isinstance(channel, bool) or channel_to_frequency(channel) is None:
                self.fail(f"{where}.channel", f"{channel!r} is not a 2.4 GHz (1-14) or 5 GHz (36-177) channel")
        if freq is not None:
            if not isinstance(freq, int) or isinstance(freq, bool) or frequency_to_channel(freq) is None:
                self.fail(f"{where}.frequency_mhz", f"{freq!r} is not the centre frequency of a Wi-Fi channel")
        if channel is not None and freq is not None and channel_to_frequency(channel) != freq:
            self.fail(f"{where}.frequency_mhz", f"{freq} MHz is not channel {channel} "
                                                f"({channel_to_frequency(channel)} MHz)")
        frequency = freq if freq is not None else channel_to_frequency(channel)
        security = raw.get("security", "open")
        if security not in SECURITY_KINDS:
            self.fail(f"{where}.security", f"{security!r} is not one of {', '.join(SECURITY_KINDS)}")
        passphrase = raw.get("passphrase")
        if security == "wpa2-psk":
            if not isinstance(passphrase, str):
                self.fail(f"{where}.passphrase", "a wpa2-psk access point needs a passphrase")
            if not (_HEX64.match(passphrase) or (8 <= len(passphrase) <= 63 and
                                                 all(0x20 <= ord(c) <= 0x7E for c in passphrase))):
                self.fail(f"{where}.passphrase", "must be 8-63 printable ASCII characters or 64 hex digits")
        elif passphrase is not None:
            self.fail(f"{where}.passphrase", f"only a wpa2-psk access point has a passphrase (security is "
                                             f"{security})")
        radius = None
        if security == "eap-tls":
            radius = self.radius(raw.get("radius"), f"{where}.radius")
        elif raw.get("radius") is not None:
            self.fail(f"{where}.radius", f"only an eap-tls access point has a RADIUS side (security is {security})")
        signal = raw.get("signal_dbm", -50)
        if not isinstance(signal, int) or isinstance(signal, bool) or not SIGNAL_RANGE[0] <= signal <= SIGNAL_RANGE[1]:
            self.fail(f"{where}.signal_dbm", f"{signal!r} is not an integer in {SIGNAL_RANGE[0]}..{SIGNAL_RANGE[1]}")
        network = raw.get("network")
        if network is not None and network not in network_names:
            self.fail(f"{where}.network", f"{network!r} is not one of the networks "
                                          f"({', '.join(sorted(network_names)) or 'none defined'})")
        hidden = raw.get("hidden", False)
        if not isinstance(hidden, bool):
            self.fail(f"{where}.hidden", "must be true or false")
        return AccessPoint(ssid_bytes, bssid_raw, frequency, security, signal, passphrase, radius, network, hidden)

    def pem(self, value: Any, where: str, kind: str) -> str:
        if not isinstance(value, str) or not value:
            self.fail(where, f"must be PEM text or a file name ({kind})")
        if "-----BEGIN" in value:
            text = value
        else:
            path = Path(value)
            if not path.is_absolute() and self.base is not None:
                path = self.base / path
            try:
                text = path.read_text()
            except OSError as exc:
                self.fail(where, f"cannot read {path}: {exc.strerror or exc}")
            if "-----BEGIN" not in text:
                self.fail(where, f"{path} is not PEM")
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization
        try:
            if kind == "key":
                serialization.load_pem_private_key(text.encode(), None)
            else:
                if not x509.load_pem_x509_certificates(text.encode()):
                    raise ValueError("no certificate")
        except (ValueError, TypeError) as exc:
            self.fail(where, f"not a PEM {kind}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
        return text

    def radius(self, raw: Any, where: str) -> Radius:
        if not isinstance(raw, dict):
            self.fail(where, "an eap-tls access point needs radius: {trusted_ca, certificate?, key?}")
        unknown = set(raw) - {"trusted_ca", "certificate", "key", "comment"}
        if unknown:
            self.fail(f"{where}.{sorted(unknown)[0]}", "unknown field (expected trusted_ca, certificate, key)")
        ca = self.pem(raw.get("trusted_ca"), f"{where}.trusted_ca", "certificate")
        cert = key = None
        if raw.get("certificate") is not None or raw.get("key") is not None:
            cert = self.pem(raw.get("certificate"), f"{where}.certificate", "certificate")
            key = self.pem(raw.get("key"), f"{where}.key", "key")
        return Radius(ca, cert, key)

    def network(self, name: str, raw: Any, index: int, used_hosts: set) -> Network:
        where = f"networks.{name}"
        if not isinstance(raw, dict):
            self.fail(where, "must be an object")
        allowed = {"subnet", "gateway", "dns", "dhcp", "internet", "ntp", "latency_ms", "hosts", "comment"}
        unknown = set(raw) - allowed
        if unknown:
            self.fail(f"{where}.{sorted(unknown)[0]}", "unknown field")
        subnet_text = raw.get("subnet", f"192.168.{50 + index % 200}.0/24")
        try:
            subnet = ipaddress.ip_network(subnet_text, strict=True)
        except (ValueError, TypeError) as exc:
            self.fail(f"{where}.subnet", f"{subnet_text!r}: {exc}")
        if subnet.version != 4 or not 8 <= subnet.prefixlen <= 30:
            self.fail(f"{where}.subnet", f"{subnet_text}: an IPv4 subnet from /8 to /30 (Azure Sphere is IPv4)")
        if subnet.overlaps(LOOPBACK):
            self.fail(f"{where}.subnet", f"{subnet_text} overlaps the loopback range")
        gateway = self.address(raw.get("gateway", str(subnet.network_address + 1)), f"{where}.gateway")
        if gateway not in subnet:
            self.fail(f"{where}.gateway", f"{gateway} is not in {subnet}")
        dns = self.address(raw.get("dns", str(gateway)), f"{where}.dns")
        flags = {}
        for flag in ("dhcp", "internet", "ntp"):
            value = raw.get(flag, True)
            if not isinstance(value, bool):
                self.fail(f"{where}.{flag}", "must be true or false")
            flags[flag] = value
        latency = raw.get("latency_ms", 1.0)
        if not isinstance(latency, (int, float)) or isinstance(latency, bool) or not 0 <= latency <= 10_000:
            self.fail(f"{where}.latency_ms", f"{latency!r} is not a number of milliseconds in 0..10000")
        hosts_raw = raw.get("hosts", {})
        if not isinstance(hosts_raw, dict):
            self.fail(f"{where}.hosts", "must be an object: host name -> {address, tcp, udp}")
        hosts = []
        for hname, hraw in hosts_raw.items():
            hosts.append(self.host(hname, hraw, f"{where}.hosts.{hname}", subnet, used_hosts))
        return Network(name, subnet, gateway, dns, flags["dhcp"], flags["internet"], flags["ntp"], float(latency),
                       hosts)

    def address(self, text: Any, where: str) -> ipaddress.IPv4Address:
        try:
            address = ipaddress.ip_address(text)
        except (ValueError, TypeError):
            self.fail(where, f"{text!r} is not an IPv4 address")
        if address.version != 4:
            self.fail(where, f"{text} is not IPv4")
        return address

    def host(self, name: str, raw: Any, where: str, subnet, used: set) -> HostEntry:
        if not _HOSTNAME.match(name) or len(name) > 253:
            self.fail(where, "not a DNS host name (letters, digits, '-', dots; '*.' only as the first label)")
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            self.fail(where, "must be an object {address, tcp, udp}")
        unknown = set(raw) - {"address", "tcp", "udp", "comment"}
        if unknown:
            self.fail(f"{where}.{sorted(unknown)[0]}", "unknown field (expected address, tcp, udp)")
        if "address" in raw:
            address = self.address(raw["address"], f"{where}.address")
            if address in LOOPBACK or address.is_multicast or address.is_unspecified:
                self.fail(f"{where}.address", f"{address} cannot be a host's virtual address")
        else:
            address = next(a for a in DEFAULT_HOST_RANGE.hosts() if a not in used)
        used.add(address)
        tables = {}
        for proto in ("tcp", "udp"):
            ports_raw = raw.get(proto, {})
            if not isinstance(ports_raw, dict):
                self.fail(f"{where}.{proto}", "must be an object: virtual port -> loopback target")
            ports = {}
            for port_text, target in ports_raw.items():
                try:
                    port = int(port_text)
                except ValueError:
                    port = -1
                if not 1 <= port <= 65535:
                    self.fail(f"{where}.{proto}.{port_text}", "not a port number 1-65535")
                ports[port] = self.target(target, f"{where}.{proto}.{port_text}")
            tables[proto] = ports
        return HostEntry(name, address, tables["tcp"], tables["udp"])

    def target(self, value: Any, where: str) -> tuple[str, int]:
        host, port = "127.0.0.1", None
        if isinstance(value, int) and not isinstance(value, bool):
            port = value
        elif isinstance(value, str):
            host, sep, port_text = value.rpartition(":")
            if not sep or not port_text.isdigit():
                self.fail(where, f"{value!r} is not HOST:PORT on the loopback (e.g. 127.0.0.1:8443)")
            port = int(port_text)
            try:
                if ipaddress.ip_address(host) not in LOOPBACK:
                    raise ValueError
            except ValueError:
                self.fail(where, f"{host} is not a loopback address (the virtual network reaches only 127.0.0.0/8)")
        else:
            self.fail(where, "must be a loopback port number or \"127.0.0.1:PORT\"")
        if not 1 <= port <= 65535:
            self.fail(where, f"{port} is not a port number 1-65535")
        return host, port


def _ap_dict(ap: AccessPoint) -> dict:
    out = {"ssid": ap.ssid.decode("utf-8", "surrogateescape"), "bssid": ap.bssid_text,
           "frequency_mhz": ap.frequency_mhz, "security": ap.security, "signal_dbm": ap.signal_dbm}
    if ap.passphrase is not None:
        out["passphrase"] = ap.passphrase
    if ap.radius is not None:
        out["radius"] = {k: v for k, v in (("trusted_ca", ap.radius.trusted_ca),
                                           ("certificate", ap.radius.certificate),
                                           ("key", ap.radius.key)) if v is not None}
    if ap.network is not None:
        out["network"] = ap.network
    if ap.hidden:
        out["hidden"] = True
    return out


def _network_dict(n: Network) -> dict:
    return {"subnet": str(n.subnet), "gateway": str(n.gateway), "dns": str(n.dns), "dhcp": n.dhcp,
            "internet": n.internet, "ntp": n.ntp, "latency_ms": n.latency_ms,
            "hosts": {h.name: {"address": str(h.address),
                               "tcp": {str(p): f"{t[0]}:{t[1]}" for p, t in h.tcp.items()},
                               "udp": {str(p): f"{t[0]}:{t[1]}" for p, t in h.udp.items()}} for h in n.hosts}}
