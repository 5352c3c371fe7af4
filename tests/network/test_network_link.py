"""The data plane follows the Wi-Fi link: a connection whose access point vanishes stalls, and fails with ETIMEDOUT
when the link is not back within the grace time; the app sees it as on a device."""
from __future__ import annotations

import pytest

from net_programs import pack
from servers import TcpEcho
from mt3620.engine.simulation.clock import PS_PER_SECOND
from mt3620.peripherals.wifi.environment import RadioEnvironment
from mt3620.sphere_os.network import SECURITY_OPEN, StoredNetwork


@pytest.fixture(scope="module")
def hl_net_elf(sysroot):
    from mt3620.firmware import toolchain
    toolchain.build_hl_app("hl_net")
    return toolchain.DEFAULT_OUT / "hl_net.elf"


def test_a_vanished_access_point_times_the_connection_out(boot, hl_net_elf):
    server = TcpEcho(silent=True)
    try:
        env = RadioEnvironment.from_dict({
            "access_points": [{"ssid": "Lab", "bssid": "02:00:5e:00:00:01", "channel": 6, "network": "lab"}],
            "networks": {"lab": {"hosts": {"quiet.example.com": {"tcp": {"7": server.port}}}}}})
        package = pack("hl_net", hl_net_elf, ["wait-ready", "30", "tcp", "quiet.example.com", "7", "anyone?"],
                       manifest={"Capabilities": {"AllowedConnections": ["quiet.example.com"]}})
        dev = boot(hl=package, wifi_env=env)
        dev.network.wifi.add(StoredNetwork(ssid=b"Lab", security=SECURITY_OPEN, enabled=True))
        dev.wait_for_line(r"connected to", timeout="30s", uart="a7.hl_net")
        dev.advance("50ms")
        lost_at = dev.now
        env.remove("02:00:5e:00:00:01")
        assert dev.wait_for_exit(timeout="60s") == 2        # the second command (tcp) failed
        lines = dev.lines("a7.hl_net")
        assert "tcp: recv failed: errno 110 (Operation timed out)" in lines, lines
        waited = (dev.now - lost_at) / PS_PER_SECOND
        assert 20 <= waited < 22              # beacon loss (0.7 s) then the 20 s grace
        assert any("wifi: link down (reason 4)" in line for line in dev.lines("a7.os"))
        assert server.received == b"anyone?\n"
    finally:
        server.close()
