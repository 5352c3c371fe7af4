"""Apps reach real servers on the host's loopback through the virtual network: DNS from the environment's host
table, TCP and UDP through the host bridge, the firewall of the app manifest (firmware/hl_net)."""
from __future__ import annotations

import re

import pytest

from net_programs import pack
from servers import TcpEcho, UdpEcho, unused_port
from mt3620.peripherals.wifi.environment import RadioEnvironment
from mt3620.sphere_os.network import SECURITY_OPEN, StoredNetwork


@pytest.fixture(scope="module")
def servers():
    tcp, udp, blocked = TcpEcho(prefix=b"echo: "), UdpEcho(), TcpEcho()
    yield {"tcp": tcp.port, "udp": udp.port, "blocked": blocked.port, "dead": unused_port(), "echo": tcp}
    for s in (tcp, udp, blocked):
        s.close()


def environment(ports, with_ap=True):
    return RadioEnvironment.from_dict({
        "access_points": [{"ssid": "Lab", "bssid": "02:00:5e:00:00:01", "channel": 6, "signal_dbm": -50,
                           "network": "lab"}] if with_ap else [],
        "networks": {"lab": {"subnet": "192.168.77.0/24", "latency_ms": 2, "hosts": {
            "echo.example.com": {"address": "203.0.113.7", "tcp": {"7": ports["tcp"]}, "udp": {"7": ports["udp"]}},
            "blocked.example.com": {"tcp": {"7": ports["blocked"]}},
            "gone.example.com": {"tcp": {"7": ports["dead"]}},
            "*.svc.example.com": {"tcp": {"7": ports["tcp"]}}}}}})


@pytest.fixture(scope="module")
def hl_net_elf(sysroot):
    from mt3620.firmware import toolchain
    toolchain.build_hl_app("hl_net")
    return toolchain.DEFAULT_OUT / "hl_net.elf"


def run(boot, elf, servers, args, allowed=("echo.example.com", "gone.example.com", "*.svc.example.com"),
        tcp_ports=(), with_ap=True, timeout="30s"):
    package = pack("hl_net", elf, list(args), manifest={"Capabilities": {
        "AllowedConnections": list(allowed), "AllowedTcpServerPorts": list(tcp_ports)}})
    dev = boot(hl=package, wifi_env=environment(servers, with_ap))
    dev.network.wifi.add(StoredNetwork(ssid=b"Lab", security=SECURITY_OPEN, enabled=True))
    code = dev.wait_for_exit(timeout=timeout)
    return dev, code, dev.lines("a7.hl_net")


def test_resolve_and_exchange_with_real_tcp_and_udp_servers(boot, hl_net_elf, servers):
    dev, code, lines = run(boot, hl_net_elf, servers, [
        "wait-ready", "30", "resolve", "echo.example.com", "resolve", "api.svc.example.com",
        "tcp", "echo.example.com", "7", "hello server", "udp", "echo.example.com", "7", "ping",
        "tcp", "api.svc.example.com", "7", "wildcard"])
    assert code == 0, "\n".join(lines)
    assert "resolve echo.example.com: 203.0.113.7" in lines
    assert any(line.startswith("resolve api.svc.example.com: 203.0.113.") for line in lines)
    connected = next(line for line in lines if "connected to" in line)
    assert re.match(r"tcp echo.example.com:7: connected to 203.0.113.7 in 400\d us", connected)   # 2 x 2 ms
    assert "tcp reply: echo: hello server" in lines
    assert "udp reply from 203.0.113.7:7: echo: ping" in lines
    assert "tcp reply: echo: wildcard" in lines
    assert dev.network.net.dns_queries >= 3


def test_the_firewall_refuses_what_the_manifest_does_not_allow(boot, hl_net_elf, servers):
    dev, code, lines = run(boot, hl_net_elf, servers, [
        "wait-ready", "30", "resolve", "blocked.example.com", "tcp", "blocked.example.com", "7", "x"])
    assert code == 3, "\n".join(lines)
    assert any(line.startswith("resolve blocked.example.com: 203.0.113.") for line in lines)
    assert any("connect failed: errno 13 (Permission denied)" in line for line in lines)
    assert any("firewall: app hl_net: connection to 203.0.113." in line for line in dev.lines("a7.os"))


def test_an_unreachable_host_server_is_a_connection_failure(boot, hl_net_elf, servers):
    dev, code, lines = run(boot, hl_net_elf, servers, ["wait-ready", "30", "tcp", "gone.example.com", "7", "x"])
    assert code == 2 and any("connect failed: errno 111 (Connection refused)" in line for line in lines), lines


def test_unknown_names_and_no_network(boot, hl_net_elf, servers):
    dev, code, lines = run(boot, hl_net_elf, servers, ["wait-ready", "30", "resolve", "nowhere.example.com"])
    assert code == 2 and "resolve nowhere.example.com: failed: Name does not resolve" in lines, lines
    dev, code, lines = run(boot, hl_net_elf, servers, ["tcp", "203.0.113.7", "7", "x"], with_ap=False)
    assert code == 1 and any("errno 101 (Network unreachable)" in line for line in lines), lines


def test_server_ports_follow_allowed_tcp_server_ports(boot, hl_net_elf, servers):
    dev, code, lines = run(boot, hl_net_elf, servers, ["wait-ready", "30", "listen", "8080", "listen", "9090"],
                           tcp_ports=[8080])
    assert code == 3 and "listen 8080: ok" in lines, lines
    assert "listen 9090: failed: errno 13 (Permission denied)" in lines


def test_round_trips_run_against_the_real_server(boot, hl_net_elf, servers):
    dev, code, lines = run(boot, hl_net_elf, servers, ["wait-ready", "30", "rtt", "echo.example.com", "7", "50",
                                                       "64"])
    assert code == 0, "\n".join(lines)
    assert any(line.startswith("rtt: 50 round trips of 64 bytes in") for line in lines)
    assert dev.network.net.bridge.recording.events[0]["kind"] == "connect"
