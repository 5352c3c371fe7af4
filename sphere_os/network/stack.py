"""The device's IPv4 network as its apps see it: interface wlan0 (from the Wi-Fi link and its lease), a default
route through the network's gateway, the network's virtual DNS server, the application firewall, and the host
bridge to real servers on the host's loopback. Installed as the Linux personality's `kernel.net`
(engine/linux/inet.py describes the interface); loopback stays the personality's own.

Routing a connection from an app (emulator-defined timings, docs/wifi.md):
1. no address on wlan0 -> ENETUNREACH at once;
2. the manifest's AllowedConnections does not allow the address -> EACCES at once (logged);
3. otherwise the SYN travels: one virtual round trip (2 x the network's latency) later the connection is
   established to the host server the environment maps (host name, virtual address, port -> loopback port), or
   refused (ECONNREFUSED) when the host has no such port or nothing listens on the loopback port; an address
   that no host of the network has is unreachable: EHOSTUNREACH after 3 s inside the local subnet (ARP), ETIMEDOUT
   after 127 s beyond it (Linux's SYN retries).
Datagrams: to the network's DNS server port 53 -> answered by the virtual DNS after a round trip; to a host's
mapped UDP port -> a real datagram on the loopback; elsewhere -> lost, as UDP is.
A link that goes down stalls connections; if it is not back with the same address within 20 s of virtual time,
they fail with ETIMEDOUT.
"""
from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass, field

from mt3620.engine.linux.abi import EACCES, ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, ETIMEDOUT
from mt3620.engine.linux.errors import LinuxError
from mt3620.engine.linux.inet import SOCK_DGRAM, SOCK_STREAM, Interface, LoopbackStack, Socket
from mt3620.engine.simulation.clock import PS_PER_SECOND

from . import dns
from .bridge import HostBridge
from .firewall import ManifestNetworkError, Rules, rules_from_capabilities

log = logging.getLogger("mt3620.net")
MS = PS_PER_SECOND // 1000
ARP_TIMEOUT_PS = 3 * PS_PER_SECOND
SYN_TIMEOUT_PS = 127 * PS_PER_SECOND
LINK_GRACE_PS = 20 * PS_PER_SECOND


@dataclass
class Wlan:
    """wlan0 as the OS configured it."""
    enabled: bool = True
    connected: bool = False
    address: ipaddress.IPv4Address | None = None
    netmask: ipaddress.IPv4Address | None = None
    gateway: ipaddress.IPv4Address | None = None
    dns: list[ipaddress.IPv4Address] = field(default_factory=list)
    network: object = None               # the environment's Network behind the associated AP
    mac: bytes = bytes(6)

    @property
    def has_ip(self) -> bool:
        return self.enabled and self.connected and self.address is not None

    @property
    def subnet(self) -> ipaddress.IPv4Network | None:
        if self.address is None or self.netmask is None:
            return None
        return ipaddress.IPv4Network(f"{self.address}/{self.netmask}", strict=False)


def allowed_addresses(rules: Rules, network) -> set:
    """The addresses an app may reach: its literal IP entries, and the addresses the network's DNS gives for the
    names its entries allow (an exact entry under a "*." host of the network resolves to that host; a "*." entry
    allows the hosts whose names, or wildcard domains, fall under it or contain it)."""
    out = set(rules.addresses)
    for host in (network.hosts if network is not None else ()):
        if not host.name.startswith("*."):
            if rules.name_allowed(host.name):
                out.add(host.address)
            continue
        suffix = host.name[2:].rstrip(".").lower()
        for name in rules.names:
            if name.startswith("*."):
                base = name[2:]
                if base == suffix or base.endswith("." + suffix) or suffix.endswith("." + base):
                    out.add(host.address)
            elif name.endswith("." + suffix):
                out.add(host.address)
    return out


class BridgedStream:
    """The far end of a guest TCP socket connected to a host server."""

    def __init__(self, net: "VirtualNetwork", sock: Socket, conn) -> None:
        self.net, self.sock, self.conn = net, sock, conn
        conn.guest_waiting = lambda: bool(sock._waiters) and not net.wlan_stalled()
        conn.paused = net.wlan_stalled

    def send(self, data: bytes) -> int:
        if self.net.wlan_stalled():
            return 0                     # nothing leaves while the link is down
        return self.conn.send(data)

    def writable(self) -> bool:
        return len(self.conn.outq) < self.sock.sndbuf and not self.net.wlan_stalled()

    def window_opened(self) -> None:
        drain = getattr(self.conn, "drain_replay", None) or self.conn.drain
        drain()

    def shutdown_write(self) -> None:
        self.conn.shutdown_write()

    def close(self) -> None:
        self.conn.close()
        self.net.streams.discard(self)

    def deliver(self, kind: str, payload) -> int:
        if kind == "data":
            return self.sock.receive(payload)
        if kind == "eof":
            self.sock.receive_eof()
        elif kind == "reset":
            self.sock.failed(int(payload))
            self.net.streams.discard(self)
        return 0


class VirtualNetwork(LoopbackStack):
    def __init__(self, kernel, clock, environment=None, bridge: HostBridge | None = None, emit=None,
                 idle=None) -> None:
        super().__init__()
        self.kernel, self.clock, self.environment = kernel, clock, environment
        self.wlan = Wlan()
        self.bridge = bridge or HostBridge(clock, idle or (lambda: True))
        self.emit = emit or (lambda text: None)
        self.streams: set[BridgedStream] = set()
        self.datagram_flows: dict[tuple[int, tuple[str, int]], object] = {}
        self.refusals: list[tuple[str, str]] = []
        self._logged: set = set()
        self._stall_event = None
        self.dns_queries = 0

    # ---- wlan0 ----------------------------------------------------------------------------------------------------
    def wlan_stalled(self) -> bool:
        return not self.wlan.has_ip

    def set_wlan(self, **changes) -> None:
        before = self.wlan.address if self.wlan.has_ip else None
        for key, value in changes.items():
            setattr(self.wlan, key, value)
        after = self.wlan.address if self.wlan.has_ip else None
        if before is not None and after is None:
            if self._stall_event is None:
                self._stall_event = self.clock.schedule(LINK_GRACE_PS, self._link_gone, "net.link-grace")
        elif after is not None:
            if self._stall_event is not None:
                self._stall_event.cancel()
                self._stall_event = None
            if before is not None and after != before:
                self._link_gone()                 # a new address: the old connections cannot continue
            for stream in list(self.streams):
                stream.window_opened()            # what the host sent meanwhile
                stream.sock.changed()             # writable again

    def _link_gone(self) -> None:
        self._stall_event = None
        for stream in list(self.streams):
            stream.conn.close()
            stream.sock.failed(ETIMEDOUT)
        self.streams.clear()

    def interfaces(self) -> list[Interface]:
        w = self.wlan
        return super().interfaces() + [Interface(
            "wlan0", 2, str(w.address) if w.has_ip else None, str(w.netmask) if w.has_ip and w.netmask else None,
            w.enabled, w.enabled and w.connected, hwaddr=w.mac)]

    # ---- the firewall ---------------------------------------------------------------------------------------------
    def rules_for(self, sock: Socket) -> Rules | None:
        """The app's rules (None for a process that is not an app: everything allowed)."""
        app = getattr(getattr(sock, "owner", None), "app", None)
        if app is None:
            return None
        rules = getattr(app, "network_rules", None)
        if rules is None:
            try:
                rules = rules_from_capabilities(app.manifest.raw_capabilities)
            except ManifestNetworkError as exc:
                log.warning("app %s: %s: no network access", app.name, exc)
                rules = Rules()
            app.network_rules = rules
        return rules

    def allowed(self, sock: Socket, ip: str) -> bool:
        rules = self.rules_for(sock)
        if rules is None:
            return True
        return ipaddress.IPv4Address(ip) in allowed_addresses(rules, self.wlan.network)

    def refuse(self, sock: Socket, what: str, target: str) -> None:
        app = getattr(getattr(sock, "owner", None), "app", None)
        name = app.name if app is not None else "?"
        self.refusals.append((name, f"{what} {target}"))
        key = (name, what, target)
        if key not in self._logged:
            self._logged.add(key)
            message = f"firewall: app {name}: {what} {target} refused (not in the app manifest)"
            log.info(message)
            self.emit(message)
        raise LinuxError(EACCES)

    # ---- addresses and ports ----------------------------------------------------------------------------------------
    def local_address_for(self, sock: Socket, address) -> str:
        if self.is_loopback(address[0]):
            return "127.0.0.1"
        if not self.wlan.has_ip:
            raise LinuxError(ENETUNREACH)
        return str(self.wlan.address)

    def bind(self, sock: Socket, address):
        ip, port = address
        if sock.type == SOCK_DGRAM and port and not self.is_loopback(ip):
            rules = self.rules_for(sock)
            if rules is not None and port not in rules.udp_server_ports:
                self.refuse(sock, "UDP server port", str(port))
        if ip not in ("0.0.0.0",) and not self.is_loopback(ip) and (not self.wlan.has_ip or
                                                                      ip != str(self.wlan.address)):
            raise LinuxError(99)         # EADDRNOTAVAIL
        return self.ports.take(sock, address)

    def listen(self, sock: Socket, backlog: int) -> None:
        rules = self.rules_for(sock)
        if rules is not None and not self.is_loopback(sock.local[0]) and sock.local[1] not in rules.tcp_server_ports:
            self.refuse(sock, "TCP server port", str(sock.local[1]))

    # ---- streams --------------------------------------------------------------------------------------------------
    def _latency_ps(self) -> int:
        net = self.wlan.network
        return int((net.latency_ms if net is not None else 1.0) * MS)

    def connect(self, sock: Socket, address) -> None:
        ip, port = address
        if self.is_loopback(ip) or (self.wlan.has_ip and ip == str(self.wlan.address)):
            return self.connect_loopback(sock, address)
        if not self.wlan.has_ip:
            raise LinuxError(ENETUNREACH)
        if not self.allowed(sock, ip):
            self.refuse(sock, "connection to", f"{ip}:{port}")
        self.ensure_bound(sock, address)
        sock.state = Socket.CONNECTING
        host = self.wlan.network.host_at(ipaddress.IPv4Address(ip)) if self.wlan.network else None
        rtt = 2 * self._latency_ps()
        if host is None:
            local = self.wlan.subnet is not None and ipaddress.IPv4Address(ip) in self.wlan.subnet
            sock.note = "no host"
            self.clock.schedule(ARP_TIMEOUT_PS if local else SYN_TIMEOUT_PS,
                                lambda: self._connect_failed(sock, EHOSTUNREACH if local else ETIMEDOUT),
                                "net.connect")
            return
        target = host.tcp.get(port)
        sock.note = f"{host.name}:{port}" + (f" -> {target[0]}:{target[1]}" if target else " (no such port)")
        self.clock.schedule(rtt, lambda: self._complete(sock, address, target), "net.connect")

    def _connect_failed(self, sock: Socket, errno: int) -> None:
        if sock.state == Socket.CONNECTING:
            sock.failed(errno)

    def _complete(self, sock: Socket, address, target) -> None:
        if sock.state != Socket.CONNECTING:
            return
        if not self.wlan.has_ip:
            return self._connect_failed(sock, ENETUNREACH)
        if target is None:
            return sock.failed(ECONNREFUSED)
        holder: list[BridgedStream] = []
        conn, error = self.bridge.open_tcp(target, lambda kind, payload: holder[0].deliver(kind, payload)
                                           if holder else 0)
        if conn is None:
            return sock.failed(error)
        stream = BridgedStream(self, sock, conn)
        holder.append(stream)
        self.streams.add(stream)
        sock.established(stream, (str(self.wlan.address), sock.local[1]), address)

    # ---- datagrams ------------------------------------------------------------------------------------------------
    def send_datagram(self, sock: Socket, data: bytes, address) -> int:
        ip, port = address
        if self.is_loopback(ip) or (self.wlan.has_ip and ip == str(self.wlan.address)):
            return self.send_loopback_datagram(sock, data, ("127.0.0.1", port))
        if len(data) > 65507:
            raise LinuxError(90)         # EMSGSIZE
        if not self.wlan.has_ip:
            raise LinuxError(ENETUNREACH)
        self.ensure_bound(sock, address)
        target_ip = ipaddress.IPv4Address(ip)
        if target_ip == ipaddress.IPv4Address("255.255.255.255") or (
                self.wlan.subnet is not None and target_ip == self.wlan.subnet.broadcast_address):
            if not sock.options.get((1, 6)):     # SO_BROADCAST
                raise LinuxError(EACCES)
            return len(data)
        if port == 53 and target_ip in self.wlan.dns:
            self._dns(sock, data, address)
            return len(data)
        if not self.allowed(sock, ip):
            self.refuse(sock, "datagram to", f"{ip}:{port}")
        host = self.wlan.network.host_at(target_ip) if self.wlan.network else None
        target = host.udp.get(port) if host is not None else None
        if target is None:
            return len(data)             # nobody there: UDP does not tell
        key = (id(sock), (ip, port))
        flow = self.datagram_flows.get(key)
        if flow is None:
            def deliver(kind, payload, sock=sock, source=(ip, port)):
                sock.receive_datagram(payload, source)
                return len(payload)
            flow = self.bridge.open_udp(target, deliver)
            flow.guest_waiting = lambda sock=sock: bool(sock._waiters)
            self.datagram_flows[key] = flow
        latency = self._latency_ps()
        self.clock.schedule(latency, lambda flow=flow, data=bytes(data): flow.send(data), "net.udp")
        return len(data)

    def _dns(self, sock: Socket, query: bytes, server) -> None:
        self.dns_queries += 1
        try:
            q = dns.parse_query(query)
        except dns.DnsError as exc:
            log.info("virtual DNS: malformed query (%s)", exc)
            if len(query) >= 2:
                reply = query[:2] + bytes([0x80, 0x81]) + bytes(8)     # FORMERR with the query's id
                self.clock.schedule(2 * self._latency_ps(), lambda: sock.receive_datagram(reply, server), "net.dns")
            return
        answer = self.answer_dns(q)
        self.clock.schedule(2 * self._latency_ps(), lambda: sock.receive_datagram(answer, server), "net.dns")

    def answer_dns(self, q: "dns.Question") -> bytes:
        if (q.flags >> 11) & 0xF != 0:
            return dns.build_answer(q, dns.RCODE_NOTIMP)
        net = self.wlan.network
        host = net.resolve(q.name) if net is not None else None
        if host is None:
            return dns.build_answer(q, dns.RCODE_NXDOMAIN)
        if q.qtype in (dns.TYPE_A, dns.TYPE_ANY) and q.qclass == dns.CLASS_IN:
            return dns.build_answer(q, dns.RCODE_OK, [host.address])
        return dns.build_answer(q, dns.RCODE_OK, [])

    def closed(self, sock: Socket) -> None:
        super().closed(sock)
        for key in [k for k in self.datagram_flows if k[0] == id(sock)]:
            self.datagram_flows.pop(key).close()

    # ---- the OS's own connections (the agent) ------------------------------------------------------------------------
    def resolve(self, name: str) -> ipaddress.IPv4Address:
        """The OS's resolver: the network's DNS answer for `name` (OSError when there is no network or no name)."""
        if not self.wlan.has_ip:
            raise OSError(ENETUNREACH, f"no network: cannot resolve {name}")
        try:
            return ipaddress.IPv4Address(name)
        except ValueError:
            pass
        host = self.wlan.network.resolve(name) if self.wlan.network else None
        if host is None:
            raise OSError(-2, f"{name}: name not known on this network")     # EAI_NONAME
        return host.address

    def host_endpoint(self, name: str, port: int) -> tuple[str, int]:
        """Where the OS's own TCP connection to name:port lands on the host (OSError as connect() would raise)."""
        address = self.resolve(name)
        host = self.wlan.network.host_at(address)
        target = host.tcp.get(port) if host is not None else None
        if target is None:
            raise OSError(ECONNREFUSED, f"{name}:{port}: connection refused on the virtual network")
        return target
