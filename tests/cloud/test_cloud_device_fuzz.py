"""Device endpoints fed random JSON (hypothesis) over real TLS: always a 2xx/4xx JSON answer, never a 5xx."""
import base64
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


B64 = st.binary(max_size=300).map(lambda b: base64.b64encode(b).decode())


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_well_formed_attestation_requests_with_random_content(attested_client, data):
    """Valid base64 of the right sizes, so requests reach the store and the verifier: always an answer, and never
    a certificate for content not bound to an issued nonce."""
    nonce = data.draw(st.sampled_from(["issued", "random"]))
    nonce = attested_client.nonce() if nonce == "issued" else data.draw(st.binary(min_size=32, max_size=32))
    client = data.draw(st.sampled_from([attested_client.client_public_key, None]))
    client = client or data.draw(st.binary(min_size=64, max_size=64))
    evidence = data.draw(st.one_of(st.binary(max_size=300),
                                   st.just(attested_client.evidence(data.draw(st.binary(min_size=32, max_size=32)),
                                                                    []))))
    body = {"Evidence": base64.b64encode(evidence).decode(), "ClientPublicKey": base64.b64encode(client).decode(),
            "Nonce": base64.b64encode(nonce).decode(), "TenantId": data.draw(st.none() | st.uuids().map(str))}
    body.update(data.draw(st.dictionaries(st.sampled_from(["ClientKeySignature", "DeviceId"]), B64, max_size=2)))
    with pytest.raises(DeviceApiError) as exc:
        attested_client._request("POST", "/device/v1/attestation", body)
    assert exc.value.status == 403 and exc.value.body["Result"] == "Failed", exc.value.body
