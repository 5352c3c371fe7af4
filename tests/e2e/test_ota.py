"""End to end: the emulated device attests through its Pluton to the security service, receives a deployment
over mutual TLS, verifies the package and runs it on an IO core; a package it cannot verify is refused,
reported, and not offered again."""
from __future__ import annotations

import json

import pytest

pytest.importorskip("aiohttp", reason="the cloud extra is not installed (pip install -e .[cloud])")

from mt3620.engine.machine import Machine  # noqa: E402
from mt3620.imagepackage import Keystore  # noqa: E402
from mt3620.sphere_os.agent import OsAgent  # noqa: E402

from e2e_helpers import SDK_KEYSTORE, Admin, package as _package  # noqa: E402


def test_device_attests_receives_a_deployment_and_runs_it(service, tmp_path, firmware, clock):
    admin = Admin(service.mgmt_url, service.admin_token)
    root = admin.root_ca()
    tenant, groups = admin.tenant_with_product("Fabrikam", "Sensor")
    field_test = groups["Field Test"]

    machine = Machine(device_seed=b"e2e-device-1")
    agent = OsAgent(machine, service.device_url, root, keystore=SDK_KEYSTORE, now=clock)  # the device's calendar time
    admin.claim_agent(tenant, field_test, agent)

    attested = agent.attest()
    assert attested["Result"] == "Passed"

    image = admin.upload(tenant, _package(firmware("hello"), tmp_path, "hello"))
    admin.call("POST", f"/v2/tenants/{tenant}/devicegroups/{field_test}/deployments", {"DeployedImages": [image]})

    result = agent.check_for_updates()
    assert [(i.image_id, i.core) for i in result.installed] == [(image, "io0")] and not result.failed
    run = machine.run(duration_ps=10**12, pattern=r"hello: done")
    assert run.reason == "condition"
    assert "hello: Hello from the MT3620 IO core" in machine.uart_text()

    again = agent.check_for_updates()      # reports the installed image: nothing new to do
    assert again.installed == [] and again.failed == []

    # A package signed by a key the device does not trust is refused on the device, reported, never pushed again.
    untrusted = admin.upload(tenant, _package(firmware("gpt_timer"), tmp_path, "gpt_timer"))
    admin.call("POST", f"/v2/tenants/{tenant}/devicegroups/{field_test}/deployments",
               {"DeployedImages": [untrusted]})
    agent.keystore = Keystore()   # this device trusts no signing key any more: only its (now empty) provisioned
    agent.trust_service_keys = False   # keystore, not the keys the service delivers with the deployment
    refused = agent.check_for_updates()
    assert refused.installed == [] and [img for img, _ in refused.failed] == [untrusted]
    assert "io0" in {i.core for i in agent.installed.values()}
    assert agent.check_for_updates().failed == []   # the failed image is not pushed again
    status = admin.call("GET", f"/v2/tenants/{tenant}/devices/{agent.device_id}/updatestatus")
    assert "Failed" in json.dumps(status)
