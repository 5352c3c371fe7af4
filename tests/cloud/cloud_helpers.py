"""Helpers of the cloud tests (a uniquely named module, so it never collides with another folder's conftest):
a movable clock, a management API client, signed image packages, claims and device clients."""
from __future__ import annotations

import datetime as dt
import json
import os
import urllib.error
import urllib.request
import uuid


from mt3620 import imagepackage as ip
from mt3620.cloud.device_client import DeviceClient, DeviceKeys

UTC = dt.timezone.utc


class Clock:
    """Service time = wall time + offset, so tests can move the service days ahead (certificates handed to
    OpenSSL still use real time)."""

    def __init__(self) -> None:
        self.offset = dt.timedelta()

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(UTC) + self.offset

    def advance(self, **kw) -> None:
        self.offset += dt.timedelta(**kw)


class Mgmt:
    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token

    def raw(self, method: str, path: str, body=None, data: bytes | None = None, headers: dict | None = None,
            token: str | None = ...):
        hdrs = dict(headers or {})
        tok = self.token if token is ... else token
        if tok:
            hdrs["Authorization"] = f"Bearer {tok}"
        if body is not None:
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        elif data is not None:
            hdrs.setdefault("Content-Type", "application/octet-stream")
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def call(self, method: str, path: str, body=None, expect: int | None = None, **kw):
        status, _, payload = self.raw(method, path, body, **kw)
        out = json.loads(payload) if payload else None
        if expect is not None:
            assert status == expect, (status, out)
        return status, out

    def ok(self, method: str, path: str, body=None, **kw):
        status, out = self.call(method, path, body, **kw)
        assert status < 300, (method, path, status, out)
        return out

    def wait_operation(self, tenant: str, op: dict) -> dict:
        import time
        deadline = time.monotonic() + 30
        while op["State"] in ("NotStarted", "InProgress"):
            assert time.monotonic() < deadline, op
            time.sleep(0.05)
            op = self.ok("GET", f"/v2/tenants/{tenant}/operations/{op['Id']}")
        return op


def make_package(component: uuid.UUID | None = None, svn: int = 1, name: str = "app", payload: bytes | None = None,
                 signer=None, image_type: int = 10) -> tuple[bytes, str, str]:
    component = component or uuid.uuid4()
    payload = payload if payload is not None else os.urandom(256)
    data = ip.build_image(payload, image_type, component, signer or ip.SdkTestSigner(), name=name,
                          security_version=svn)
    pkg = ip.parse(data)
    return data, str(pkg.component_id), str(pkg.image_id)


def upload(admin: Mgmt, tenant_id: str, data: bytes) -> dict:
    status, _, payload = admin.raw("POST", f"/v2/tenants/{tenant_id}/images", data=data)
    assert status == 202, payload
    return admin.wait_operation(tenant_id, json.loads(payload))


def claim(admin: Mgmt, tenant_id: str, group_id: str | None = None, keys: DeviceKeys | None = None) -> DeviceKeys:
    keys = keys or DeviceKeys()
    body = {"DeviceId": keys.device_id, "AttestationPublicKey": keys.attestation_public_hex}
    if group_id:
        body["DeviceGroupId"] = group_id
    admin.ok("POST", f"/v2/tenants/{tenant_id}/devices/claim", body)
    return keys


def device(service, root_pem: str, keys: DeviceKeys) -> DeviceClient:
    return DeviceClient(service.device_url, root_pem, keys)
