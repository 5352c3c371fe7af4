"""Device endpoints fed random JSON (hypothesis) over real TLS: always a 2xx/4xx JSON answer, never a 5xx, and
every answer matches the device API's published OpenAPI description (/device/v1/openapi.json)."""
import base64
import json

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from mt3620.as3.device_client import DeviceApiError

from cloud_helpers import claim, device

# Integers include the bounds every schema declares and far past them (2^31, 2^63, 2^70 once gave a 500).
INTS = st.integers() | st.sampled_from([-1, 0, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 63, 2 ** 70, -(2 ** 70)])
JSON = st.recursive(st.none() | st.booleans() | INTS | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                                 max_size=4), max_leaves=12)
KEYS = ["InstalledImages", "BootId", "OsVersion", "Capabilities", "FailedImages", "Events", "Evidence",
        "ClientPublicKey", "Nonce", "ClientKeySignature", "TenantId", "DeviceId", "ComponentId", "ImageId", "EventTime",
        "EventCount"]
BODIES = st.dictionaries(st.sampled_from(KEYS), JSON | st.lists(st.dictionaries(st.sampled_from(KEYS), JSON,
                                                                                 max_size=3), max_size=3),
                         max_size=5) | JSON


@pytest.fixture
def attested_client(service, admin, tenant, root_pem):
    keys = claim(admin, tenant["id"], tenant["groups"]["Field Test"]["Id"])
    dev = device(service, root_pem, keys)
    dev.attest()
    return dev


def _json_schema(node):
    """OpenAPI 3.0 schema -> JSON Schema: `nullable: true` becomes a null alternative."""
    if isinstance(node, list):
        return [_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _json_schema(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


@pytest.fixture
def conforms(attested_client):
    """check(method, path, status, answer): the answer matches what /device/v1/openapi.json documents."""
    doc = attested_client._request("GET", "/device/v1/openapi.json")
    schemas = _json_schema(doc["components"]["schemas"])

    def check(method, path, status, answer):
        responses = doc["paths"][path][method.lower()]["responses"]
        assert str(status) in responses, (path, status, answer)
        ref = responses[str(status)]["content"]["application/json"]["schema"]["$ref"]
        jsonschema.validate(answer, {"$ref": ref, "components": {"schemas": schemas}})
    return check


def test_device_api_description_is_published(attested_client):
    doc = attested_client._request("GET", "/device/v1/openapi.json")
    schemathesis = pytest.importorskip("schemathesis", reason="schemathesis not installed (test extra)")
    operations = [op.ok().label for op in schemathesis.openapi.from_dict(doc).get_all_operations()]
    assert "POST /device/v1/errorreports" in operations and "GET /device/v1/os/{version}/{imageType}" in operations
    assert len(operations) == 7
    result = doc["components"]["schemas"]["ErrorReportResult"]
    assert result["required"] == ["Accepted", "Dropped"]


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(body=BODIES, path=st.sampled_from(["/device/v1/updates/check", "/device/v1/errorreports",
                                          "/device/v1/attestation", "/device/v1/attestation/nonce"]))
def test_random_bodies_never_crash_the_service(attested_client, conforms, body, path):
    try:
        answer = attested_client._request("POST", path, body, attested_client.client_chain_pem)
    except DeviceApiError as exc:
        assert 400 <= exc.status < 500, (path, json.dumps(body)[:200], exc.body)
        conforms("POST", path, exc.status, exc.body)
    else:
        conforms("POST", path, 200, answer)


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(offsets=st.lists(st.integers(min_value=-20 * 24 * 60, max_value=20 * 24 * 60), max_size=8))
def test_uploaded_events_are_kept_or_dropped_by_their_time(attested_client, conforms, clock, offsets):
    """Events dated (in minutes from the service's time) within [-14 days, +5 minutes] are kept, the others are
    dropped with their index and reason; a margin of one minute either side absorbs the time the request takes."""
    offsets = [m for m in offsets if abs(m + 14 * 24 * 60) > 1 and abs(m - 5) > 1]
    events = [{"EventTime": clock.iso(minutes=m), "Description": str(m)} for m in offsets]
    answer = attested_client.upload_errors(events)
    conforms("POST", "/device/v1/errorreports", 200, answer)
    dropped = {d["Index"]: d["Reason"] for d in answer["Dropped"]}
    expected = {i: ("event-time-too-old" if m < 0 else "event-time-in-future")
                for i, m in enumerate(offsets) if not -14 * 24 * 60 <= m <= 5}
    assert dropped == expected and answer["Accepted"] == len(offsets) - len(expected)


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
