"""The user's path: a live security service, a deployment made through its API, and `mt3620 device run` (a real
child process) booting the emulated device, attesting through its Pluton and running what it was given."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("aiohttp", reason="the cloud extra is not installed (pip install -e .[cloud])")

from mt3620.imagepackage import SdkTestSigner  # noqa: E402
from cryptography.hazmat.primitives import serialization  # noqa: E402

from e2e_helpers import Admin, package  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def mt3620(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mt3620", *args], capture_output=True, text=True, timeout=180,
                          cwd=REPO)


def test_claim_deploy_and_run_an_emulated_device_from_the_command_line(service, tmp_path, firmware, clock):
    ident = mt3620("device", "id", "--seed", "cli-device")
    assert ident.returncode == 0, ident.stderr
    fields = dict(line.split(":", 1) for line in ident.stdout.strip().splitlines())
    device_id, attestation_key = fields["device id"].strip(), fields["attestation public key"].strip()
    assert len(device_id) == 128

    admin = Admin(service.mgmt_url, service.admin_token)
    tenant, groups = admin.tenant_with_product("Northwind", "Gateway")
    admin.claim(tenant, groups["Field Test"], device_id, attestation_key)
    image = admin.upload(tenant, package(firmware("hello"), tmp_path, "hello"))
    admin.call("POST", f"/v2/tenants/{tenant}/devicegroups/{groups['Field Test']}/deployments",
               {"DeployedImages": [image]})

    root = tmp_path / "root.pem"
    root.write_text(admin.root_ca())
    sdk_key = tmp_path / "sdk-test-key.pem"
    sdk_key.write_bytes(SdkTestSigner().public_key.public_bytes(serialization.Encoding.PEM,
                                                                serialization.PublicFormat.SubjectPublicKeyInfo))

    # The device's calendar clock starts where the service's is (test-only --clock): both judge certificates by it.
    # No --trusted-key: the device trusts the key that signed its deployment because the service it pinned (its
    # root CA) delivers that key with the deployment (it refused every image: "no trusted keys").
    run = mt3620("device", "run", "--seed", "cli-device", "--device-url", service.device_url, "--root-ca", str(root),
                 "--until", "hello: done", "--for", "2s", "--clock", clock.iso())
    assert run.returncode == 0, (run.stdout, run.stderr)
    assert "attestation passed" in run.stdout
    assert f"installed hello (image {image}) on io0" in run.stdout
    assert "[io0.io0_uart] hello: Hello from the MT3620 IO core" in run.stdout
    # With the default single check the device still reports what it installed: the status follows (it said
    # update-pending after the app was installed).
    status = admin.call("GET", f"/v2/tenants/{tenant}/devices/{device_id}/updatestatus")
    assert [r["Code"] for r in status["Reasons"]] == ["up-to-date"], status
    assert [i["State"] for i in status["Images"]] == ["Installed"], status

    # Another seed is another device: never registered, so the service refuses it, telling nothing more than that
    # its evidence does not verify under a registered device's key.
    stranger = mt3620("device", "run", "--seed", "someone-else", "--device-url", service.device_url,
                      "--root-ca", str(root), "--for", "1s", "--clock", clock.iso())
    assert stranger.returncode == 2 and "bad-signature" in stranger.stderr and "Traceback" not in stranger.stderr
