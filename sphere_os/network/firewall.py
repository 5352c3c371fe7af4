"""The application firewall: what an app's manifest lets it reach and serve (pure rules, no I/O).

Capabilities (Microsoft Learn, "Application manifest"): `AllowedConnections` lists host names (fully qualified,
optionally starting with a "*." wildcard) and IPv4 addresses the app may connect to; `AllowedTcpServerPorts` and
`AllowedUdpServerPorts` list the ports it may listen on. Everything else is blocked ("the Azure Sphere firewall
blocks all outgoing and incoming connections by default").

A host name entry allows the addresses that name resolves to. The device learns them from DNS (which is why
libcurl's DNS cache is disabled on Azure Sphere); the emulator resolves allowed names against the network's host
table, which is where the virtual DNS gets its answers too, so the same addresses are allowed. The OS's own
traffic (DNS to the network's server, DHCP, NTP, the security service) is not subject to app manifests.

How a refusal shows (emulator-defined where no public source says): connect() to an address that is not allowed
fails with EACCES; sendto() of a datagram likewise; listen()/bind() on a server port that is not listed fails
with EACCES. Each refusal is logged once per (app, destination) on `a7.os` and in the network log.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

_NAME = re.compile(r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$")


class ManifestNetworkError(ValueError):
    """A network capability that does not parse: the message names the entry."""


@dataclass
class Rules:
    names: list[str] = field(default_factory=list)                  # lower-case, no trailing dot
    addresses: set[ipaddress.IPv4Address] = field(default_factory=set)
    tcp_server_ports: set[int] = field(default_factory=set)
    udp_server_ports: set[int] = field(default_factory=set)

    def name_allowed(self, name: str) -> bool:
        name = name.rstrip(".").lower()
        for entry in self.names:
            if entry.startswith("*."):
                if name.endswith(entry[1:]) and len(name) > len(entry) - 1:
                    return True
            elif name == entry:
                return True
        return False


def rules_from_capabilities(capabilities: dict) -> Rules:
    rules = Rules()
    allowed = capabilities.get("AllowedConnections", []) or []
    if not isinstance(allowed, list):
        raise ManifestNetworkError("AllowedConnections must be a list of host names and IP addresses")
    for entry in allowed:
        if not isinstance(entry, str):
            raise ManifestNetworkError(f"AllowedConnections entry {entry!r} is not a string")
        try:
            address = ipaddress.ip_address(entry)
        except ValueError:
            name = entry.rstrip(".").lower()
            if not _NAME.match(name):
                raise ManifestNetworkError(f"AllowedConnections entry {entry!r} is neither an IPv4 address nor a "
                                           f"host name (wildcards only as a leading '*.')") from None
            rules.names.append(name)
            continue
        if address.version != 4:
            raise ManifestNetworkError(f"AllowedConnections entry {entry!r}: only IPv4 addresses are supported")
        rules.addresses.add(address)
    for key, target in (("AllowedTcpServerPorts", rules.tcp_server_ports),
                        ("AllowedUdpServerPorts", rules.udp_server_ports)):
        ports = capabilities.get(key, []) or []
        if not isinstance(ports, list):
            raise ManifestNetworkError(f"{key} must be a list of port numbers")
        for port in ports:
            if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
                raise ManifestNetworkError(f"{key} entry {port!r} is not a port number 1-65535")
            target.add(port)
    return rules
