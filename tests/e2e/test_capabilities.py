"""Signed device capability images: the service signs them with the key the device's Pluton trusts, delivers the
tenant's grants with the update check, and the emulated device verifies and applies them (and refuses a file for
another device or from another signer)."""
import base64
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cloud"))
from cloud_helpers import Mgmt  # noqa: E402

pytest.importorskip("aiohttp", reason="the cloud extra is not installed (pip install -e .[cloud])")


def _agent(service, seed):
    from mt3620.engine.machine import Machine
    from mt3620.sphere_os.agent import OsAgent
    root = (service.data_dir / "rootca.pem").read_text()
    return OsAgent(Machine(device_seed=seed), service.device_url, root, now=service.now)


def test_granted_capabilities_reach_the_device_through_pluton(service):
    from mt3620.imagepackage import capability
    admin = Mgmt(service.mgmt_url, service.admin_token)
    tid = admin.ok("POST", "/v2/tenants", {"Name": "Caps"})["Id"]
    agent = _agent(service, b"e2e-capabilities")
    admin.ok("POST", "/v2/registry/devices", {"Devices": [{"DeviceId": agent.device_id.upper(),
                                                            "AttestationPublicKey": agent.keys.attestation_public_hex}]})
    admin.ok("POST", f"/v2/tenants/{tid}/devices/claim", {"DeviceId": agent.device_id})
    agent.attest()
    assert agent.capabilities == []
    admin.ok("PUT", f"/v2/tenants/{tid}/devices/{agent.device_id}/capabilities", {"Capabilities": ["fieldServicing"]})
    agent.check_for_updates()                    # the grant arrives as a signed file; Pluton verifies and holds it
    assert capability.FIELD_SERVICING in agent.machine.pluton.capabilities
    assert agent.capabilities == ["fieldServicing"]
    device = admin.ok("GET", f"/v2/tenants/{tid}/devices/{agent.device_id}")
    assert device["ReportedCapabilities"] == ["fieldServicing"]          # and the device says so

    # A file from the management API, for another device: Pluton refuses it (bound to its device ID).
    other = _agent(service, b"e2e-capabilities-other")
    image = admin.ok("POST", f"/v2/tenants/{tid}/devices/{agent.device_id}/capabilities/image",
                     {"Capabilities": ["appDevelopment"]})["Image"]
    assert other.apply_capability(base64.b64decode(image)) == ()
    assert other.machine.pluton.capabilities == set() and "CapabilityRefused" in json.dumps(other.events)
    # ... and one signed by another key is refused too.
    from mt3620.imagepackage import KeySigner
    from cryptography.hazmat.primitives.asymmetric import ec
    forged = capability.build(bytes.fromhex(agent.device_id), [capability.APP_DEVELOPMENT],
                              KeySigner(ec.generate_private_key(ec.SECP256R1())))
    assert agent.apply_capability(forged) == ()
    assert capability.APP_DEVELOPMENT not in agent.machine.pluton.capabilities
    assert agent.apply_capability(base64.b64decode(image)) == (capability.APP_DEVELOPMENT,)
