"""Device endpoints fed random JSON (hypothesis) over real TLS: always a 2xx/4xx JSON answer, never a 5xx."""
import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from mt3620.cloud.device_client import DeviceApiError

from cloud_helpers import claim, device

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                                 max_size=4), max_leaves=12)
KEYS = ["InstalledImages", "BootId", "OsVersion", "Capabilities", "FailedImages", "Events", "Evidence",
        "ClientPublicKey", "Nonce", "ClientKeySignature", "TenantId", "DeviceId", "ComponentId", "ImageId", "EventTime"]
BODIES = st.dictionaries(st.sampled_from(KEYS), JSON | st.lists(st.dictionaries(st.sampled_from(KEYS), JSON,
                                                                                 max_size=3), max_size=3),
                         max_size=5) | JSON


@pytest.fixture
def attested_client(service, admin, tenant, root_pem):
    keys = claim(admin, tenant["id"], tenant["groups"]["Field Test"]["Id"])
    dev = device(service, root_pem, keys)
    dev.attest()
    return dev


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=BODIES, path=st.sampled_from(["/device/v1/updates/check", "/device/v1/errorreports",
                                          "/device/v1/attestation", "/device/v1/attestation/nonce"]))
def test_random_bodies_never_crash_the_service(attested_client, body, path):
    try:
        attested_client._request("POST", path, body, attested_client.client_chain_pem)
    except DeviceApiError as exc:
        assert 400 <= exc.status < 500, (path, json.dumps(body)[:200], exc.body)
