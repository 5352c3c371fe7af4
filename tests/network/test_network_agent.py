"""The OS agent's attestation and update checks go through the emulated Wi-Fi: with no network the check fails
and nothing reaches the service, it is retried with back-off, and it succeeds once the device has joined."""
from __future__ import annotations

import urllib.parse
import urllib.request

import pytest

pytest.importorskip("aiohttp", reason="the cloud extra is not installed (pip install -e .[cloud])")

from cloud_helpers import Clock  # noqa: E402
from e2e_helpers import SDK_KEYSTORE, Admin  # noqa: E402
from mt3620.engine.machine import Machine  # noqa: E402
from mt3620.engine.simulation.clock import PS_PER_SECOND  # noqa: E402
from mt3620.peripherals.wifi.environment import RadioEnvironment  # noqa: E402
from mt3620.sphere_os.agent import OsAgent  # noqa: E402
from mt3620.sphere_os.network import SECURITY_PSK, NetworkOs, StoredNetwork  # noqa: E402
from mt3620.sphere_os.network.agent_link import UpdateSchedule  # noqa: E402


@pytest.fixture
def service(tmp_path):
    from mt3620.cloud.server import Service
    clock = Clock()
    svc = Service(tmp_path / "cloud", now=clock).start()
    svc.test_clock = clock
    yield svc
    svc.stop()


def test_update_check_needs_the_network_and_retries_with_back_off(service):
    admin = Admin(service.mgmt_url, service.admin_token)
    root = admin.root_ca()
    tenant, groups = admin.tenant_with_product("Contoso", "Thermostat")

    port = urllib.parse.urlsplit(service.device_url).port
    env = RadioEnvironment.from_dict({
        "access_points": [{"ssid": "Home", "bssid": "02:00:5e:00:00:09", "channel": 1, "security": "wpa2-psk",
                           "passphrase": "home network", "network": "home"}],
        "networks": {"home": {"hosts": {"prod.device.sphere.example": {"tcp": {"443": port}}}}}})
    machine = Machine(device_seed=b"wifi-agent-1")
    network = NetworkOs.of(machine, environment=env)
    agent = OsAgent(machine, "https://prod.device.sphere.example:443", root, keystore=SDK_KEYSTORE,
                    now=service.test_clock, network=network)
    admin.claim_agent(tenant, groups["Field Test"], agent)     # the registry: only enrolled devices

    with pytest.raises(OSError) as info:                 # no Wi-Fi network stored: no address, no update
        agent.check_for_updates()
    assert info.value.errno == 101 and agent.client.calls == 0

    schedule = UpdateSchedule(agent, machine.clock, emit=network._emit)
    schedule.start()
    machine.run(duration_ps=200 * PS_PER_SECOND)
    failures = [r for r in schedule.results if r[1] != "ok"]
    assert [t // PS_PER_SECOND for t, _, _ in failures] == [0, 60, 180]     # back-off: 1 min, then 2 min
    assert "no network" in failures[0][1]
    assert any("update check failed: " in line for line in machine.uarts["a7.os"].lines)

    network.wifi.add(StoredNetwork(ssid=b"Home", security=SECURITY_PSK, psk="home network", enabled=True))
    result = machine.run(duration_ps=60 * PS_PER_SECOND, until=lambda: schedule.results[-1][1] == "ok")
    assert result.reason == "condition"
    t_ok = schedule.results[-1][0] / PS_PER_SECOND
    assert 200 < t_ok < 210                             # retried when networking became ready, not at the back-off
    assert schedule.attested and agent.client.calls >= 2 and agent.client.route == ("127.0.0.1", port)

    env.remove("02:00:5e:00:00:09")                     # the AP vanishes: the next check fails again
    machine.run(duration_ps=5 * PS_PER_SECOND)
    with pytest.raises(OSError):
        agent.check_for_updates()
