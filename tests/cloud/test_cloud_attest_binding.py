"""The attestation binds the TLS client key (docs/cloud.md, "Device protocol"): the evidence's nonce field is
SHA-256(context || service nonce || client public key), checked over real TLS against a live service."""
import base64
import uuid

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from mt3620 import attestation as ae
from mt3620.as3.device_client import DeviceApiError, DeviceClient, DeviceKeys
from mt3620.attestation import attestation_challenge

from cloud_helpers import claim, device


def _raw_attest(dev: DeviceClient, body: dict):
    try:
        return 200, dev._request("POST", "/device/v1/attestation", body)
    except DeviceApiError as exc:
        return exc.status, exc.body


def _body(evidence: bytes, client_pub: bytes, nonce: bytes, **extra) -> dict:
    return {"Evidence": base64.b64encode(evidence).decode(), "ClientPublicKey": base64.b64encode(client_pub).decode(),
            "Nonce": base64.b64encode(nonce).decode(), **extra}


def _leaf_key(dev: DeviceClient) -> bytes:
    return ae.public_key_to_raw(x509.load_pem_x509_certificate(dev.client_chain_pem.encode()).public_key())


@pytest.fixture
def dev(service, admin, tenant, root_pem):
    d = device(service, root_pem, claim(admin, tenant["id"], tenant["groups"]["Field Test"]["Id"]))
    yield d
    d.close()


def test_happy_path_certifies_the_bound_key_and_it_works_for_mtls(dev):
    out = dev.attest()
    assert out["Result"] == "Passed"
    assert _leaf_key(dev) == ae.public_key_to_raw(dev.keys.client)
    assert dev.update_check({})["TargetImages"] == []          # the certified key authenticates over mutual TLS


def test_evidence_bound_to_another_client_key_is_refused(dev):
    nonce = dev.nonce()
    other = ae.public_key_to_raw(DeviceKeys().client)
    evidence = dev.evidence(attestation_challenge(nonce, other), [])    # correctly signed, for another TLS key
    status, out = _raw_attest(dev, _body(evidence, dev.client_public_key, nonce))
    assert (status, out["Reason"]) == (403, "stale-nonce")
    assert "not bound to this nonce and client key" in out["Message"]
    assert "ClientCertificate" not in out


def test_evidence_for_one_key_cannot_certify_another(dev):
    """The mirror case: evidence the device made for its own key, posted with an attacker's key."""
    nonce = dev.nonce()
    evidence = dev.evidence(dev.challenge(nonce), [])
    status, out = _raw_attest(dev, _body(evidence, ae.public_key_to_raw(DeviceKeys().client), nonce))
    assert (status, out["Reason"]) == (403, "stale-nonce")


def test_evidence_bound_to_another_nonce_is_refused_and_burns_the_named_nonce(dev):
    first, second = dev.nonce(), dev.nonce()
    evidence = dev.evidence(dev.challenge(first), [])
    status, out = _raw_attest(dev, _body(evidence, dev.client_public_key, second))
    assert (status, out["Reason"]) == (403, "stale-nonce") and "not bound" in out["Message"]
    with pytest.raises(DeviceApiError) as e:              # the nonce the request named is consumed regardless
        dev.attest(nonce=second)
    assert e.value.reason == "stale-nonce" and "already used" in e.value.body["Message"]
    assert dev.attest(nonce=first)["Result"] == "Passed"  # the other one was not touched


def test_replayed_request_is_refused(dev):
    nonce = dev.nonce()
    body = _body(dev.evidence(dev.challenge(nonce), []), dev.client_public_key, nonce)
    assert _raw_attest(dev, body)[0] == 200
    status, out = _raw_attest(dev, body)
    assert (status, out["Reason"]) == (403, "stale-nonce") and "already used" in out["Message"]


def test_nonce_of_another_device_is_refused(service, admin, tenant, root_pem, dev):
    other = device(service, root_pem, claim(admin, tenant["id"]))
    nonce = other.nonce()
    with pytest.raises(DeviceApiError) as e:
        dev.attest(nonce=nonce)
    assert e.value.reason == "stale-nonce" and "another device" in e.value.body["Message"]
    other.close()


def test_missing_or_malformed_nonce_is_bad_request(dev):
    nonce = dev.nonce()
    good = _body(dev.evidence(dev.challenge(nonce), []), dev.client_public_key, nonce)
    for nonce_field in (None, 7, "not base64!", base64.b64encode(nonce[:31]).decode(),
                        base64.b64encode(nonce + b"\0").decode()):
        body = dict(good)
        if nonce_field is None:
            del body["Nonce"]
        else:
            body["Nonce"] = nonce_field
        status, out = _raw_attest(dev, body)
        assert (status, out["Code"]) == (400, "BadRequest") and "Nonce" in out["Message"], (nonce_field, out)
    assert _raw_attest(dev, good)[0] == 200               # a rejected request did not consume the nonce


def test_retired_client_key_signature_field_is_ignored(dev):
    nonce = dev.nonce()
    body = _body(dev.evidence(dev.challenge(nonce), []), dev.client_public_key, nonce,
                 ClientKeySignature=base64.b64encode(b"\x01" * 64).decode())
    status, out = _raw_attest(dev, body)
    assert status == 200 and out["Result"] == "Passed"


def test_bare_nonce_evidence_is_refused(dev):
    """Evidence of the service's nonce itself (no client key bound) is not accepted."""
    nonce = dev.nonce()
    with pytest.raises(DeviceApiError) as e:
        dev.attest(nonce=nonce, evidence=dev.evidence(nonce, []))
    assert e.value.reason == "stale-nonce"


def test_custom_attester_and_explicit_client_key(service, admin, tenant, root_pem):
    """A different attester (its own attestation key, its own measurements) and a TLS key apart from DeviceKeys."""
    keys = claim(admin, tenant["id"], tenant["groups"]["Field Test"]["Id"])
    seen = []
    from mt3620.as3.device_client import boot_measurements
    chain = boot_measurements()          # a booted device measures its boot chain (the OS release the service knows)
    measurement = chain[0]

    def attester(challenge: bytes) -> bytes:
        seen.append(challenge)
        return ae.encode_evidence(challenge, bytes.fromhex(keys.device_id), chain,
                                  lambda d: ae.sign_raw(keys.attestation, d))

    tls_key = ec.generate_private_key(ec.SECP256R1())
    dev = device(service, root_pem, DeviceKeys(identity=keys.identity), attester=attester, client_key=tls_key)
    nonce = dev.nonce()
    out = dev.attest(nonce=nonce)
    assert seen == [attestation_challenge(nonce, ae.public_key_to_raw(tls_key))]
    assert out["AttestationResult"]["Software"][0]["ImageId"] == str(measurement.image_id)
    assert _leaf_key(dev) == ae.public_key_to_raw(tls_key)
    assert dev.update_check({})["TargetImages"] == []
    with pytest.raises(ValueError):                        # the attester measures; the caller cannot add more
        dev.attest([measurement])
    dev.close()


def test_pluton_model_as_attester(service, admin, tenant, root_pem):
    """The emulated Pluton's own PROCESS_ATTESTATION path (PlutonCore.attest) produces evidence the service
    accepts: no signature by the attestation key over anything but the evidence itself."""
    from mt3620.firmware.boot import release, rom_keys
    from mt3620.peripherals.pluton import BootStage, TrustedKeystore, make_device
    from mt3620.peripherals.pluton import remoteapi as api
    pluton = make_device(b"cloud-binding-test", TrustedKeystore(rom_keys()))
    os_release = release()
    assert pluton.boot([BootStage(t, os_release.images[t]) for t in os_release.chain]).booted
    admin.ok("POST", "/v2/registry/devices", {"Devices": [
        {"DeviceId": pluton.device_id_hex, "AttestationPublicKey": pluton.attestation_public_key.hex()}]})
    admin.ok("POST", f"/v2/tenants/{tenant['id']}/devices/claim",
             {"DeviceId": pluton.device_id_hex, "AttestationPublicKey": pluton.attestation_public_key.hex()})

    def attester(challenge: bytes) -> bytes:
        status, evidence = pluton.execute(api.PROCESS_ATTESTATION, challenge)   # the remote API command
        assert status == api.OK
        return evidence

    dev = device(service, root_pem, None, attester=attester, device_id=pluton.device_id)
    out = dev.attest()
    assert out["AttestationResult"]["DeviceId"] == pluton.device_id_hex
    assert dev.update_check({})["TargetImages"] == []
    dev.close()


def test_device_client_rejects_a_bad_device_id(service, root_pem):
    with pytest.raises(ValueError):
        DeviceClient(service.device_url, root_pem, device_id="12")
