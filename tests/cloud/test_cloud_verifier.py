"""Pure attestation verifier: success and every typed failure reason."""
import datetime as dt
import os
import uuid

import pytest
from hypothesis import given, settings, strategies as st

from mt3620 import attestation as ae
from mt3620.cloud import verifier as v
from mt3620.cloud.device_client import DeviceKeys

UTC = dt.timezone.utc
NOW = dt.datetime(2027, 3, 1, 12, tzinfo=UTC)
COMP, IMG = uuid.uuid4(), uuid.uuid4()


@pytest.fixture(scope="module")
def keys():
    return DeviceKeys()


def evidence(keys, nonce, measurements=(), sign_key=None, client=None):
    """Evidence as a device makes it: its nonce field is the challenge binding `nonce` and the client key."""
    sign_key = sign_key or keys.attestation
    client = client or ae.public_key_to_raw(keys.client)
    return ae.encode_evidence(v.attestation_challenge(nonce, client), bytes.fromhex(keys.device_id),
                              list(measurements), lambda d: ae.sign_raw(sign_key, d))


def judge(keys, ev, nonce, *, device=..., policy=v.TrustPolicy(), now=NOW, nonce_rec=..., client=None, **kw):
    if nonce_rec is ...:
        nonce_rec = v.NonceRecord(nonce, keys.device_id, NOW + dt.timedelta(seconds=60))
    if device is ...:
        device = v.DeviceRecord(keys.device_id, "tenant-a", bytes.fromhex(keys.attestation_public_hex))
    client = client or ae.public_key_to_raw(keys.client)
    return v.verify(ev, nonce_rec, device, policy, now, client_public_key=client, **kw)


def m(svn=1, image=IMG):
    return ae.Measurement(10, svn, COMP, image, b"\x11" * 32)


def test_passes_with_result(keys):
    nonce = os.urandom(32)
    out = judge(keys, evidence(keys, nonce, [m()]), nonce, policy=v.TrustPolicy(known_images=frozenset({IMG})))
    assert out.ok and out.reason is None
    assert out.result["Result"] == "Passed" and out.result["Software"][0]["Status"] == "trusted"


def test_unknown_device(keys):
    nonce = os.urandom(32)
    assert judge(keys, evidence(keys, nonce), nonce, device=None).reason == v.UNKNOWN_DEVICE


def test_wrong_tenant(keys):
    nonce = os.urandom(32)
    assert judge(keys, evidence(keys, nonce), nonce, expected_tenant="tenant-b").reason == v.WRONG_TENANT


def test_stale_nonce_cases(keys):
    nonce = os.urandom(32)
    ev = evidence(keys, nonce)
    assert judge(keys, ev, nonce, nonce_rec=None).reason == v.STALE_NONCE            # never issued / used
    assert judge(keys, ev, nonce, now=NOW + dt.timedelta(seconds=61)).reason == v.STALE_NONCE   # expired
    other = v.NonceRecord(nonce, "00" * 64, NOW + dt.timedelta(seconds=60))
    assert judge(keys, ev, nonce, nonce_rec=other).reason == v.STALE_NONCE           # issued to another device


def test_bad_signature(keys):
    nonce = os.urandom(32)
    forged = evidence(keys, nonce, sign_key=DeviceKeys().attestation)
    assert judge(keys, forged, nonce).reason == v.BAD_SIGNATURE


def test_challenge_is_sha256_of_context_nonce_and_key():
    import hashlib
    nonce, client = bytes(range(32)), ae.public_key_to_raw(DeviceKeys().client)
    assert v.attestation_challenge(nonce, client) == hashlib.sha256(
        b"MT3620-CLIENT-AUTH-KEY\x00" + nonce + client).digest()
    assert v.attestation_challenge(nonce, client) != v.attestation_challenge(bytes(32), client)
    with pytest.raises(ValueError):
        v.attestation_challenge(nonce[:31], client)
    with pytest.raises(ValueError):
        v.attestation_challenge(nonce, client[:63])


def test_evidence_bound_to_another_client_key_is_refused(keys):
    nonce = os.urandom(32)
    other = ae.public_key_to_raw(DeviceKeys().client)
    ev = evidence(keys, nonce, client=other)          # correctly signed, but for another TLS key
    assert judge(keys, ev, nonce, client=other).ok
    out = judge(keys, ev, nonce)
    assert out.reason == v.STALE_NONCE and "not bound to this nonce and client key" in out.message


def test_evidence_bound_to_another_nonce_is_refused(keys):
    nonce, other = os.urandom(32), os.urandom(32)
    out = judge(keys, evidence(keys, other), nonce)
    assert out.reason == v.STALE_NONCE and "not bound" in out.message


def test_evidence_of_the_bare_nonce_is_refused(keys):
    """The old form (the service's nonce attested directly, no client key) no longer passes."""
    nonce = os.urandom(32)
    bare = ae.encode_evidence(nonce, bytes.fromhex(keys.device_id), [], lambda d: ae.sign_raw(keys.attestation, d))
    assert judge(keys, bare, nonce).reason == v.STALE_NONCE


def test_client_key_not_on_the_curve_is_malformed(keys):
    nonce = os.urandom(32)
    bogus = b"\x01" * 64
    out = judge(keys, evidence(keys, nonce, client=bogus), nonce, client=bogus)
    assert out.reason == v.MALFORMED and "client public key" in out.message


def test_revoked_and_outdated(keys):
    nonce = os.urandom(32)
    ev = evidence(keys, nonce, [m(svn=2)])
    assert judge(keys, ev, nonce, policy=v.TrustPolicy(revoked_images=frozenset({IMG}))).reason == v.REVOKED_SOFTWARE
    assert judge(keys, ev, nonce, policy=v.TrustPolicy(svn_floors={COMP: 3})).reason == v.OUTDATED_SOFTWARE
    assert judge(keys, ev, nonce, policy=v.TrustPolicy(svn_floors={COMP: 2})).ok


def test_malformed(keys):
    nonce = os.urandom(32)
    assert judge(keys, b"MTAE" + b"\0" * 10, nonce).reason == v.MALFORMED


@settings(max_examples=60, deadline=None)
@given(pos=st.integers(min_value=0), bit=st.integers(min_value=0, max_value=7))
def test_any_flipped_bit_is_refused(keys, pos, bit):
    nonce = bytes(32)
    ev = bytearray(evidence(keys, nonce, [m()]))
    pos %= len(ev)
    ev[pos] ^= 1 << bit
    out = judge(keys, bytes(ev), nonce)
    assert not out.ok and out.reason in v.REASONS
