"""Attestation that attests, end to end: an emulated device boots its signed chain, runs what Pluton measured,
and a live security service judges the evidence by the digests of the images it knows."""
from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

pytest.importorskip("aiohttp", reason="the cloud extra is not installed (pip install -e .[cloud])")

from mt3620.attestation import P256_ORDER  # noqa: E402
from mt3620.as3.device_client import DeviceApiError  # noqa: E402
from mt3620.engine.machine import Machine  # noqa: E402
from mt3620.firmware.boot import release  # noqa: E402
from mt3620.imagepackage import SdkTestSigner, build_application, parse  # noqa: E402
from mt3620.sphere_os.agent import OsAgent  # noqa: E402

from e2e_helpers import COMPONENT, SDK_KEYSTORE as SDK, Admin  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def status_of(admin: Admin, method: str, path: str, body=None) -> tuple[int, dict]:
    try:
        return 200, admin.call(method, path, body)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def app_package(firmware, tmp_path, name: str, svn: int, elf: str = "hello") -> bytes:
    approot = tmp_path / f"{name}-{svn}"
    (approot / "bin").mkdir(parents=True)
    (approot / "bin" / "app").write_bytes(firmware(elf).read_bytes())
    (approot / "app_manifest.json").write_text(json.dumps({
        "SchemaVersion": 1, "Name": name, "ComponentId": COMPONENT, "EntryPoint": "/bin/app", "CmdArgs": [],
        "Capabilities": {}, "ApplicationType": "RealTimeCapable"}))
    return build_application(approot, SdkTestSigner(), build_time=1_700_000_000, security_version=svn)


def re_encoded(package: bytes) -> bytes:
    """The same package with its ECDSA signature re-encoded as (r, n - s): still valid, other file bytes."""
    s = int.from_bytes(package[-32:], "big")
    return package[:-32] + (P256_ORDER - s).to_bytes(32, "big")


@pytest.fixture
def world(service):
    admin = Admin(service.mgmt_url, service.admin_token)
    tenant, groups = admin.tenant_with_product("Contoso", "Thermostat")
    return admin, admin.root_ca(), tenant, groups


def claim(admin, tenant, group, agent):
    admin.claim_agent(tenant, group, agent)


def test_evidence_lists_everything_the_device_booted_and_runs(service, world, firmware, tmp_path):
    admin, root, tenant, groups = world
    agent = OsAgent(Machine(device_seed=b"e2e-measured"), service.device_url, root, keystore=SDK, now=service.now)
    claim(admin, tenant, groups["Field Test"], agent)
    first = agent.attest()["AttestationResult"]
    boot = release().measurements()
    assert [(s["ImageType"], s["Sha256"], s["Status"], s["Origin"]) for s in first["Software"]] == \
        [(m.image_type, m.sha256.hex(), "trusted", "os-release") for m in boot]
    assert agent.os_version == release().os_version
    package = app_package(firmware, tmp_path, "hello", svn=1)
    image = admin.upload(tenant, package)
    admin.call("POST", f"/v2/tenants/{tenant}/devicegroups/{groups['Field Test']}/deployments",
               {"DeployedImages": [image]})
    assert [i.image_id for i in agent.check_for_updates().installed] == [image]
    assert agent.machine.run(duration_ps=10**12, pattern=r"hello: done").reason == "condition"
    second = agent.attest()["AttestationResult"]
    app = second["Software"][-1]
    assert len(second["Software"]) == len(boot) + 1
    assert (app["ImageId"], app["Sha256"], app["Status"], app["Origin"]) == \
        (image, parse(package).content_digest.hex(), "trusted", "tenant-image")


def test_the_verifier_refuses_a_forged_kernel_that_glitches_booted(service, world, tmp_path):
    """Two glitches (both signature checks of the kernel stage) boot a kernel whose bytes were changed in flash.
    The device attests it honestly, by its digest: no release has it, so the service refuses the device. (One
    switch used to boot a forged kernel that the cloud then called trusted.)"""
    admin, root, tenant, groups = world
    efuse = tmp_path / "dev.efuse.json"
    Machine(device_seed=b"e2e-glitched", efuse_path=efuse)          # provision fuses and flash
    for slot in ("primary", "backup"):
        kernel = tmp_path / "dev.efuse.flash" / slot / "07.img"
        data = bytearray(kernel.read_bytes())
        data[40] ^= 0x01                                             # one payload bit of the kernel
        kernel.write_bytes(bytes(data))
    assert not Machine(device_seed=b"e2e-glitched", efuse_path=efuse).booted
    machine = Machine(device_seed=b"e2e-glitched", efuse_path=efuse,
                      glitches=("skip:boot.signature@6", "skip:boot.signature#2@6"))
    assert machine.booted and len(machine.pluton.glitches.fired) == 2
    agent = OsAgent(machine, service.device_url, root, keystore=SDK, now=service.now)
    claim(admin, tenant, groups["Field Test"], agent)
    with pytest.raises(DeviceApiError) as err:
        agent.attest()
    assert err.value.reason == "unknown-software" and "no image this service knows" in str(err.value)


def test_applications_cannot_be_downgraded_by_the_agent_or_the_service(service, world, firmware, tmp_path):
    admin, root, tenant, groups = world
    efuse = tmp_path / "svn.efuse.json"
    v1, v2 = (app_package(firmware, tmp_path, "hello", svn) for svn in (1, 2))
    image1, image2 = admin.upload(tenant, v1), admin.upload(tenant, v2)
    agent = OsAgent(Machine(device_seed=b"e2e-svn", efuse_path=efuse), service.device_url, root, keystore=SDK,
                    now=service.now)
    claim(admin, tenant, groups["Field Test"], agent)
    agent.attest()
    admin.call("POST", f"/v2/tenants/{tenant}/devicegroups/{groups['Field Test']}/deployments",
               {"DeployedImages": [image2]})
    assert [i.image_id for i in agent.check_for_updates().installed] == [image2]
    # The group rolls back to v1 (allowed: a device that never ran v2 may take it); this device refuses it, now
    # and after a power cycle, because Pluton's counter for the component is at 2.
    admin.call("POST", f"/v2/tenants/{tenant}/devicegroups/{groups['Field Test']}/deployments",
               {"DeployedImages": [image1]})
    agent = OsAgent(Machine(device_seed=b"e2e-svn", efuse_path=efuse), service.device_url, root, keystore=SDK,
                    now=service.now)
    agent.attest()
    result = agent.check_for_updates()
    assert result.installed == [] and [img for img, _ in result.failed] == [image1]
    assert "svn-rollback" in result.failed[0][1]
    # With a minimum security version of 2 the service does not build a deployment of v1 at all.
    admin.call("PUT", f"/v2/tenants/{tenant}/components/{COMPONENT}/minimumsecurityversion",
               {"MinimumSecurityVersion": 2})
    status, body = status_of(admin, "POST", f"/v2/tenants/{tenant}/devicegroups/{groups['Production']}/deployments",
                             {"DeployedImages": [image1]})
    assert status == 400 and "below the minimum 2" in body["Message"]


def test_the_cli_device_refuses_a_downgrade_across_runs(service, world, firmware, tmp_path):
    admin, root, tenant, groups = world
    v1, v2 = (app_package(firmware, tmp_path, "hello", svn) for svn in (1, 2))
    image1, image2 = admin.upload(tenant, v1), admin.upload(tenant, v2)
    root_pem, sdk_key = tmp_path / "root.pem", tmp_path / "sdk.pem"
    root_pem.write_text(root)
    from cryptography.hazmat.primitives import serialization
    sdk_key.write_bytes(SdkTestSigner().public_key.public_bytes(serialization.Encoding.PEM,
                                                                serialization.PublicFormat.SubjectPublicKeyInfo))
    efuse = tmp_path / "cli.efuse.json"
    common = ["--seed", "e2e-cli-svn", "--efuse", str(efuse), "--device-url", service.device_url,
              "--root-ca", str(root_pem), "--trusted-key", str(sdk_key), "--for", "1s"]
    ident = subprocess.run([sys.executable, "-m", "mt3620", "device", "id", "--seed", "e2e-cli-svn"],
                           capture_output=True, text=True, timeout=180, cwd=REPO)
    fields = dict(line.split(":", 1) for line in ident.stdout.strip().splitlines())
    admin.enrol(fields["device id"].strip(), fields["attestation public key"].strip())
    admin.call("POST", f"/v2/tenants/{tenant}/devices/claim",
               {"DeviceId": fields["device id"].strip(), "AttestationPublicKey": fields["attestation public key"].strip(),
                "DeviceGroupId": groups["Field Test"]})
    for image, expected in ((image2, f"installed hello (image {image2}) on io0"), (image1, f"refused image {image1}")):
        admin.call("POST", f"/v2/tenants/{tenant}/devicegroups/{groups['Field Test']}/deployments",
                   {"DeployedImages": [image]})
        run = subprocess.run([sys.executable, "-m", "mt3620", "device", "run", *common,
                              "--clock", service.now.iso()],          # the device's calendar time: the service's
                             capture_output=True, text=True, timeout=180, cwd=REPO)
        assert run.returncode == 0 and expected in run.stdout, (run.stdout, run.stderr)
    assert "svn-rollback" in run.stdout


def test_identity_is_signed_content_for_uploads_and_revocation(service, world, firmware, tmp_path):
    admin, root, tenant, groups = world
    package = app_package(firmware, tmp_path, "hello", svn=1)
    image = admin.upload(tenant, package)
    # The same image with a re-encoded signature is the same image (not a conflict, not a second image) ...
    assert admin.upload(tenant, re_encoded(package)) == image
    assert len(admin.call("GET", f"/v2/tenants/{tenant}/images")) == 1
    # ... while another build under the same image ID is refused.
    other = build_application(tmp_path / "hello-1", SdkTestSigner(), build_time=5, image_id=uuid.UUID(image))
    op = admin.call("POST", f"/v2/tenants/{tenant}/images", data=other)
    for _ in range(600):
        if op["State"] not in (0, 1):                    # NotStarted, InProgress
            break
        op = admin.call("GET", f"/v2/tenants/{tenant}/operations/{op['OperationId']}")
    assert op["State"] == 3 and "other content" in json.dumps(op)   # Failed
    # A device running the re-encoded copy is still running the revoked image.
    agent = OsAgent(Machine(device_seed=b"e2e-reencoded"), service.device_url, root, keystore=SDK, now=service.now)
    claim(admin, tenant, groups["Field Test"], agent)
    agent.install(re_encoded(package))
    assert agent.attest()["AttestationResult"]["Software"][-1]["Status"] == "trusted"
    admin.call("POST", f"/v2/tenants/{tenant}/images/{image}/revoke")
    with pytest.raises(DeviceApiError) as err:
        agent.attest()
    assert err.value.reason == "revoked-software"


def test_unknown_applications_pass_only_on_development_devices(service, world, firmware, tmp_path):
    admin, root, tenant, groups = world
    agent = OsAgent(Machine(device_seed=b"e2e-sideload"), service.device_url, root, keystore=SDK, now=service.now)
    claim(admin, tenant, groups["Field Test"], agent)
    agent.install(app_package(firmware, tmp_path, "sideloaded", svn=1))      # never uploaded to the service
    with pytest.raises(DeviceApiError) as err:
        agent.attest()
    assert err.value.reason == "unknown-software"
    admin.call("PUT", f"/v2/tenants/{tenant}/devices/{agent.device_id}/capabilities",
               {"Capabilities": ["appDevelopment"]})
    assert agent.attest()["AttestationResult"]["Software"][-1]["Status"] == "unknown"
