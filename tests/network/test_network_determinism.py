"""Determinism of the data plane: a run replayed from its recording gives the same bytes at the same virtual times
without the server; two live runs give the same bytes and the same joining timeline (only the server's wall-time
answers may move between poll ticks, which is what the recording captures)."""
from __future__ import annotations

import pytest

from net_programs import pack
from servers import TcpEcho
from mt3620.peripherals.wifi.environment import RadioEnvironment
from mt3620.sphere_os.network import SECURITY_PSK, StoredNetwork


@pytest.fixture(scope="module")
def hl_net_elf(sysroot):
    from mt3620.firmware import toolchain
    toolchain.build_hl_app("hl_net")
    return toolchain.DEFAULT_OUT / "hl_net.elf"


def one_run(boot, elf, port, replay=None):
    env = RadioEnvironment.from_dict({
        "access_points": [{"ssid": "Lab", "bssid": "02:00:5e:00:00:01", "channel": 6, "security": "wpa2-psk",
                           "passphrase": "correct horse", "network": "lab"}],
        "networks": {"lab": {"hosts": {"echo.example.com": {"tcp": {"7": port}}}}}})
    package = pack("hl_net", elf, ["wait-ready", "30", "resolve", "echo.example.com", "tcp", "echo.example.com",
                                   "7", "same bytes", "rtt", "echo.example.com", "7", "20", "32"],
                   manifest={"Capabilities": {"AllowedConnections": ["echo.example.com"]}})
    dev = boot(wifi_env=None)
    from mt3620.sphere_os.network import NetworkOs
    NetworkOs(dev.machine, environment=env, replay=replay)
    dev.launch(package)
    dev.network.wifi.add(StoredNetwork(ssid=b"Lab", security=SECURITY_PSK, psk="correct horse", enabled=True))
    assert dev.wait_for_exit(timeout="60s") == 0
    return dev.lines("a7.hl_net"), dev.lines("a7.os"), dev.now, dev.network.net.bridge.recording


def test_a_replay_is_identical_and_live_runs_agree(boot, hl_net_elf):
    server = TcpEcho(prefix=b"echo: ")
    try:
        first = one_run(boot, hl_net_elf, server.port)
        again = one_run(boot, hl_net_elf, server.port)
    finally:
        server.close()
    replayed = one_run(boot, hl_net_elf, server.port, replay=first[3])     # the server is gone: the recording
    assert replayed[:3] == first[:3]
    assert [(e["t"], e["conn"], e["kind"], e.get("data")) for e in replayed[3].events] == \
        [(e["t"], e["conn"], e["kind"], e.get("data")) for e in first[3].events]
    assert "tcp reply: echo: same bytes" in first[0]
    live = [line for line in first[0] if not line.startswith("rtt:")]
    assert live == [line for line in again[0] if not line.startswith("rtt:")] and first[1] == again[1]
    assert [(e["kind"], e.get("data")) for e in first[3].events] == [(e["kind"], e.get("data"))
                                                                     for e in again[3].events]
