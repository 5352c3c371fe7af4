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


def evidence(keys, nonce, measurements=(), sign_key=None):
    sign_key = sign_key or keys.attestation
    return ae.encode_evidence(nonce, bytes.fromhex(keys.device_id), list(measurements),
                              lambda d: ae.sign_raw(sign_key, d))


def judge(keys, ev, nonce, *, device=..., policy=v.TrustPolicy(), now=NOW, nonce_rec=..., **kw):
    if nonce_rec is ...:
        nonce_rec = v.NonceRecord(nonce, keys.device_id, NOW + dt.timedelta(seconds=60))
    if device is ...:
        device = v.DeviceRecord(keys.device_id, "tenant-a", bytes.fromhex(keys.attestation_public_hex))
    client = ae.public_key_to_raw(keys.client)
    sig = kw.pop("client_sig", None) or ae.sign_raw(keys.attestation, v.client_key_message(nonce, client))
    return v.verify(ev, nonce_rec, device, policy, now, client_public_key=client, client_key_signature=sig, **kw)


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
    # The client key must be endorsed by the attestation key too.
    bad = ae.sign_raw(DeviceKeys().attestation, b"x")
    assert judge(keys, evidence(keys, nonce), nonce, client_sig=bad).reason == v.BAD_SIGNATURE


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
