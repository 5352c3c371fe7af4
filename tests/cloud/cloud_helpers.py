"""Helpers of the cloud tests (a uniquely named module, so it never collides with another folder's conftest):
a movable clock, a management API client, signed image packages, claims and device clients. The end-to-end tests
(tests/e2e) share the clock."""
from __future__ import annotations

import datetime as dt
import json
import os
import urllib.error
import urllib.request
import uuid


from mt3620 import imagepackage as ip
from mt3620.clock import StartedClock, parse_instant
from mt3620.as3.device_client import DeviceClient, DeviceKeys

UTC = dt.timezone.utc


# The day every service and device clock of the cloud and end-to-end tests starts on: unset, the host's time;
# scripts/run-tests runs those suites a second time with it set to AS3's last day (docs/cloud.md, "Time").
CLOCK_ENV = "MT3620_TEST_CLOCK"
NOT_STARTED, IN_PROGRESS, COMPLETE, FAILED, COMPLETE_WITH_ERRORS = range(5)    # Operation.State (AS3's enum)
LONG_TOKEN_LIFETIME = dt.timedelta(days=40 * 365)   # for services whose clock the test moves years ahead


def clock_start() -> dt.datetime | None:
    text = os.environ.get(CLOCK_ENV)
    return parse_instant(text) if text else None


class Clock(StartedClock):
    """The service's clock in tests: starts at $MT3620_TEST_CLOCK (or the host's time) and runs; `advance()`
    moves the service (and the devices given the same clock) days ahead. Every date a test writes is relative
    to it, and the device side judges certificates by it too, so no test depends on the day it runs."""

    def __init__(self) -> None:
        super().__init__(clock_start())

    @property
    def moved(self) -> bool:
        """True when the clock does not start at the host's time (tools that read the host clock cannot follow)."""
        return bool(os.environ.get(CLOCK_ENV))

    def iso(self, **delta) -> str:
        """Now plus `delta` (days=, minutes=, ...) as the ISO 8601 text devices upload."""
        return (self() + dt.timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


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
        while op["State"] in (NOT_STARTED, IN_PROGRESS):
            assert time.monotonic() < deadline, op
            time.sleep(0.05)
            op = self.ok("GET", f"/v2/tenants/{tenant}/operations/{op['OperationId']}")
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


def register(admin: Mgmt, *devices: DeviceKeys) -> None:
    """Enrol devices in the service's registry, as their manufacturer would (the bootstrap admin holds the
    Manufacturing role): only registered devices can be claimed."""
    out = admin.ok("POST", "/v2/registry/devices", {"Devices": [
        {"DeviceId": k.device_id, "AttestationPublicKey": k.attestation_public_hex} for k in devices]})
    assert not out["Refused"], out


def claim(admin: Mgmt, tenant_id: str, group_id: str | None = None, keys: DeviceKeys | None = None) -> DeviceKeys:
    keys = keys or DeviceKeys()
    register(admin, keys)
    body = {"DeviceId": keys.device_id, "AttestationPublicKey": keys.attestation_public_hex}
    if group_id:
        body["DeviceGroupId"] = group_id
    admin.ok("POST", f"/v2/tenants/{tenant_id}/devices/claim", body)
    return keys


def device(service, root_pem: str, keys: DeviceKeys, **kw) -> DeviceClient:
    """A device client whose calendar clock is the service's (as a device set by NTP would be)."""
    return DeviceClient(service.device_url, root_pem, keys, now=service.now, **kw)
