"""OS releases an emulated device really installs: the service publishes a release's signed stage images, offers it
to the devices of the feed, the OS agent downloads and checks them, writes them to the primary flash copies and
reboots through secure boot into the new release (the old one stays in the backup copies), attests what now runs
and reports the new OS version."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cloud"))
from cloud_helpers import Mgmt  # noqa: E402

pytest.importorskip("aiohttp", reason="the cloud extra is not installed (pip install -e .[cloud])")
NEXT = "24.10-emu.2"


def _claimed_agent(service, seed):
    from mt3620.engine.machine import Machine
    from mt3620.sphere_os.agent import OsAgent
    admin = Mgmt(service.mgmt_url, service.admin_token)
    tid = admin.ok("POST", "/v2/tenants", {"Name": "Os"})["Id"]
    pid = admin.ok("POST", f"/v2/tenants/{tid}/products", {"Name": "P"})["Result"]["Id"]
    group = next(g["Id"] for g in admin.ok("GET", f"/v2/tenants/{tid}/products/{pid}/devicegroups")
                 if g["Name"] == "Field Test")
    agent = OsAgent(Machine(device_seed=seed), service.device_url, (service.data_dir / "rootca.pem").read_text(),
                    now=service.now)
    admin.ok("POST", "/v2/registry/devices", {"Devices": [{"DeviceId": agent.device_id.upper(),
                                                            "AttestationPublicKey": agent.keys.attestation_public_hex}]})
    admin.ok("POST", f"/v2/tenants/{tid}/devices/claim", {"DeviceId": agent.device_id, "DeviceGroupId": group})
    return admin, tid, agent


def test_the_device_installs_and_boots_an_os_release(service):
    from mt3620.firmware.boot import release
    admin, tid, agent = _claimed_agent(service, b"e2e-os-update")
    old = agent.os_version
    agent.attest()
    nxt = release(build="2", os_version=NEXT)
    service.services.os_releases.publish(0, NEXT, list(nxt.images.values()))
    result = agent.check_for_updates()
    assert result.os_installed == NEXT and agent.os_version == NEXT != old
    assert agent.machine.boot_flash.read(8, "backup") == nxt.images[8]       # committed: both copies boot it
    device = admin.ok("GET", f"/v2/tenants/{tid}/devices/{agent.device_id}")
    assert device["OsVersion"] == NEXT
    assert agent.attest()["Result"] == "Passed"              # the new release's measurements are known images
    again = agent.check_for_updates()
    assert again.os_installed is None and "os-update-available" not in [r["Code"] for r in again.reasons]


def test_a_release_not_signed_by_the_os_key_is_refused_at_publish(service):
    from mt3620.cloud.domain import Invalid
    from mt3620.firmware.boot import release
    from mt3620.imagepackage import SdkTestSigner, build_image, parse
    nxt = release(build="3", os_version="24.10-emu.3")
    rootfs = parse(nxt.images[8])
    forged = build_image(rootfs.payload, 8, rootfs.component_id, SdkTestSigner(), name="RootFs")
    with pytest.raises(Invalid):
        service.services.os_releases.publish(0, "24.10-emu.3", [forged])
    with pytest.raises(Invalid, match="RootFs"):
        service.services.os_releases.publish(0, "24.10-emu.9", list(nxt.images.values()))   # names another version


def test_no_updates_groups_get_no_os(service):
    """UpdatePolicy NoUpdates: the OS is neither offered nor downloadable."""
    from mt3620.as3.device_client import DeviceApiError
    from mt3620.firmware.boot import release
    admin, tid, agent = _claimed_agent(service, b"e2e-os-frozen")
    group = admin.ok("GET", f"/v2/tenants/{tid}/devices/{agent.device_id}")["DeviceGroupId"]
    admin.ok("PATCH", f"/v2/tenants/{tid}/devicegroups/{group}", {"UpdatePolicy": 2})
    agent.attest()
    service.services.os_releases.publish(0, NEXT, list(release(build="2", os_version=NEXT).images.values()))
    assert agent.check_for_updates().os_installed is None and agent.os_version != NEXT
    with pytest.raises(DeviceApiError) as e:
        agent.client.download(f"/device/v1/os/{NEXT}/8")
    assert (e.value.status, e.value.reason) == (403, "os-not-offered")
