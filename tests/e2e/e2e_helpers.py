"""Helpers of the end-to-end tests: a management API client and application packages from firmware ELFs."""
from __future__ import annotations

import json
import shutil
import urllib.request

from mt3620.imagepackage import Keystore, SdkTestSigner, TrustedKey, build_application, parse

COMPONENT = "5f6a3e2c-8d2e-4a7b-9c1d-0e2f3a4b5c6d"
SDK_KEYSTORE = Keystore([TrustedKey(SdkTestSigner().public_key, {SdkTestSigner().thumbprint}, "sdk-test")])


class Admin:
    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token

    def call(self, method: str, path: str, body=None, data: bytes | None = None):
        headers = {"Authorization": f"Bearer {self.token}"}
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        elif data is not None:
            headers["Content-Type"] = "application/octet-stream"
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read() or b"null")

    def enrol(self, device_id: str, attestation_key: str) -> None:
        """Enrol the device in the service's registry (the admin holds the Manufacturing role), as its manufacturer
        would: only registered devices can be claimed."""
        out = self.call("POST", "/v2/registry/devices",
                        {"Devices": [{"DeviceId": device_id, "AttestationPublicKey": attestation_key}]})
        assert not out["Refused"], out

    def root_ca(self) -> str:
        """The service's root CA (PEM), which a device pins."""
        with urllib.request.urlopen(self.base + "/rootca.pem", timeout=10) as r:
            return r.read().decode()

    def tenant_with_product(self, tenant_name: str, product_name: str) -> tuple[str, dict[str, str]]:
        """A new tenant with one product: (tenant ID, the product's default device groups by name)."""
        tenant = self.call("POST", "/v2/tenants", {"Name": tenant_name})["Id"]
        product = self.call("POST", f"/v2/tenants/{tenant}/products", {"Name": product_name})["Result"]["Id"]
        groups = self.call("GET", f"/v2/tenants/{tenant}/products/{product}/devicegroups")
        return tenant, {g["Name"]: g["Id"] for g in groups}

    def claim(self, tenant: str, group: str, device_id: str, attestation_key: str) -> None:
        """Enrol the device (as its manufacturer) and claim it into the tenant's device group."""
        self.enrol(device_id, attestation_key)
        self.call("POST", f"/v2/tenants/{tenant}/devices/claim",
                  {"DeviceId": device_id, "AttestationPublicKey": attestation_key, "DeviceGroupId": group})

    def claim_agent(self, tenant: str, group: str, agent) -> None:
        """claim() for an OS agent's device."""
        self.claim(tenant, group, agent.device_id, agent.keys.attestation_public_hex)

    def upload(self, tenant: str, package: bytes) -> str:
        op = self.call("POST", f"/v2/tenants/{tenant}/images", data=package)
        for _ in range(600):
            if op["State"] not in (0, 1):            # NotStarted, InProgress
                break
            op = self.call("GET", f"/v2/tenants/{tenant}/operations/{op['OperationId']}")
        assert op["State"] == 2, op                  # Complete
        return str(parse(package).image_id)


def package(firmware_elf, tmp_path, name: str) -> bytes:
    approot = tmp_path / name
    (approot / "bin").mkdir(parents=True)
    shutil.copy(firmware_elf, approot / "bin" / "app")
    (approot / "app_manifest.json").write_text(json.dumps({
        "SchemaVersion": 1, "Name": name, "ComponentId": COMPONENT, "EntryPoint": "/bin/app", "CmdArgs": [],
        "Capabilities": {}, "ApplicationType": "RealTimeCapable"}))
    return build_application(approot, SdkTestSigner(), build_time=1_700_000_000)


