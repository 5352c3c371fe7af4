"""Pure attestation verifier: success and every typed failure reason."""
import datetime as dt
import os
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings, strategies as st

from mt3620 import attestation as ae
from mt3620.cloud import verifier as v
from mt3620.as3.device_client import DeviceKeys, boot_measurements
from mt3620.firmware.boot import release

UTC = dt.timezone.utc
NOW = dt.datetime(2027, 3, 1, 12, tzinfo=UTC)
COMP, IMG = uuid.uuid4(), uuid.uuid4()
APP_DIGEST = b"\x11" * 32
OS = {m.sha256: v.KnownImage(m.image_id, m.component_id, m.image_type, m.security_version, v.OS_RELEASE)
      for m in release().measurements()}


def policy(**kw):
    """The service's view: the OS release, the tenant's app image IMG (version 2) by its content digest."""
    known = {**OS, APP_DIGEST: v.KnownImage(IMG, COMP, 10, 2)}
    return v.TrustPolicy(**{"known": known, **kw})


@pytest.fixture(scope="module")
def keys():
    return DeviceKeys()


def evidence(keys, nonce, measurements=(), sign_key=None, client=None, booted=True):
    """Evidence as a device makes it: its nonce field is the challenge binding `nonce` and the client key; a
    booted device's measurements begin with its boot chain."""
    sign_key = sign_key or keys.attestation
    client = client or ae.public_key_to_raw(keys.client)
    chain = boot_measurements() if booted else []
    return ae.encode_evidence(v.attestation_challenge(nonce, client), bytes.fromhex(keys.device_id),
                              chain + list(measurements), lambda d: ae.sign_raw(sign_key, d))


def judge(keys, ev, nonce, *, device=..., policy=None, now=NOW, nonce_rec=..., client=None, **kw):
    policy = policy if policy is not None else globals()["policy"]()
    if nonce_rec is ...:
        nonce_rec = v.NonceRecord(nonce, keys.device_id, NOW + dt.timedelta(seconds=60))
    if device is ...:
        device = v.DeviceRecord(keys.device_id, "tenant-a", bytes.fromhex(keys.attestation_public_hex))
    client = client or ae.public_key_to_raw(keys.client)
    return v.verify(ev, nonce_rec, device, policy, now, client_public_key=client, **kw)


def m(svn=2, image=IMG, digest=APP_DIGEST, component=COMP):
    return ae.Measurement(10, svn, component, image, digest)


def test_passes_with_result(keys):
    nonce = os.urandom(32)
    out = judge(keys, evidence(keys, nonce, [m()]), nonce)
    assert out.ok and out.reason is None
    assert out.result["Result"] == "Passed"
    assert [s["Status"] for s in out.result["Software"]] == ["trusted"] * 8
    assert out.result["Software"][-1]["Sha256"] == APP_DIGEST.hex()


def test_a_device_that_booted_nothing_is_refused(keys):
    """Evidence with zero measurements (what every emulated device sent before it booted its chain)."""
    nonce = os.urandom(32)
    out = judge(keys, evidence(keys, nonce, booted=False), nonce)
    assert out.reason == v.INCOMPLETE_BOOT
    out = judge(keys, evidence(keys, nonce, booted=False, measurements=boot_measurements()[:5]), nonce)
    assert out.reason == v.INCOMPLETE_BOOT


def test_measurements_are_judged_by_digest_not_by_the_declared_image_id(keys):
    nonce = os.urandom(32)
    # A forged app declaring the known image's ID: its digest is unknown.
    out = judge(keys, evidence(keys, nonce, [m(digest=b"\x66" * 32)]), nonce)
    assert out.reason == v.UNKNOWN_SOFTWARE
    # A known digest under another identity (another ID, component or version than the image it is).
    for bad in (m(image=uuid.uuid4()), m(svn=7), m(component=uuid.uuid4())):
        assert judge(keys, evidence(keys, nonce, [bad]), nonce).reason == v.MEASUREMENT_MISMATCH
    # A forged kernel that booted (two glitches): its measurement is its own digest, which no release has.
    chain = boot_measurements()
    kernel = chain[5]
    forged = chain[:5] + [ae.Measurement(kernel.image_type, kernel.security_version, kernel.component_id,
                                         kernel.image_id, b"\x99" * 32)] + chain[6:]
    out = judge(keys, evidence(keys, nonce, forged, booted=False), nonce)
    assert out.reason == v.UNKNOWN_SOFTWARE and "no image this service knows" in out.message


def test_a_tenant_image_in_a_boot_slot_is_not_an_os_release(keys):
    nonce = os.urandom(32)
    chain = boot_measurements()
    uploaded = ae.Measurement(7, 1, COMP, IMG, b"\x22" * 32)
    known = {**OS, b"\x22" * 32: v.KnownImage(IMG, COMP, 7, 1)}
    ev = evidence(keys, nonce, chain[:5] + [uploaded] + chain[6:], booted=False)
    assert judge(keys, ev, nonce, policy=v.TrustPolicy(known=known)).reason == v.UNKNOWN_SOFTWARE


def test_unknown_applications_only_on_development_devices(keys):
    nonce = os.urandom(32)
    sideloaded = m(digest=b"\x44" * 32, image=uuid.uuid4())
    assert judge(keys, evidence(keys, nonce, [sideloaded]), nonce).reason == v.UNKNOWN_SOFTWARE
    out = judge(keys, evidence(keys, nonce, [sideloaded]), nonce, policy=policy(allow_unknown_applications=True))
    assert out.ok and out.result["Software"][-1]["Status"] == "unknown"


def test_unknown_device(keys):
    """A registered device whose evidence verifies but that no tenant claimed is told it is unclaimed."""
    nonce = os.urandom(32)
    registered = v.DeviceRecord(keys.device_id, None, bytes.fromhex(keys.attestation_public_hex))
    assert judge(keys, evidence(keys, nonce), nonce, device=registered).reason == v.UNKNOWN_DEVICE


def test_answers_before_the_signature_verifies_are_one_answer(keys):
    """Issue 17: an unauthenticated caller learns nothing of the device's state. Unknown device, a bad signature of
    a registered device (claimed or not, right tenant or wrong), and a bad signature with a stale nonce all get
    the same reason and message, with no device ID (formerly unknown-device / wrong-tenant / stale-nonce)."""
    nonce = os.urandom(32)
    forged = evidence(keys, nonce, sign_key=ec.generate_private_key(ec.SECP256R1()))
    answers = {
        judge(keys, evidence(keys, nonce), nonce, device=None),                       # not registered
        judge(keys, forged, nonce),                                                  # claimed, bad signature
        judge(keys, forged, nonce, device=v.DeviceRecord(keys.device_id, None,
                                                         bytes.fromhex(keys.attestation_public_hex))),
        judge(keys, forged, nonce, expected_tenant="tenant-b"),
        judge(keys, forged, nonce, nonce_rec=None),
        judge(keys, forged, nonce, now=NOW + dt.timedelta(hours=1)),
    }
    assert {(a.reason, a.message, a.device_id, a.tenant_id) for a in answers} == \
        {(v.BAD_SIGNATURE, v.NOT_VERIFIED_MESSAGE, None, None)}


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
    bare = ae.encode_evidence(nonce, bytes.fromhex(keys.device_id), boot_measurements(),
                              lambda d: ae.sign_raw(keys.attestation, d))
    assert judge(keys, bare, nonce).reason == v.STALE_NONCE


def test_client_key_not_on_the_curve_is_malformed(keys):
    nonce = os.urandom(32)
    bogus = b"\x01" * 64
    out = judge(keys, evidence(keys, nonce, client=bogus), nonce, client=bogus)
    assert out.reason == v.MALFORMED and "client public key" in out.message


def test_revoked_and_outdated(keys):
    nonce = os.urandom(32)
    ev = evidence(keys, nonce, [m(svn=2)])
    assert judge(keys, ev, nonce, policy=policy(revoked_digests=frozenset({APP_DIGEST}))).reason == v.REVOKED_SOFTWARE
    assert judge(keys, ev, nonce, policy=policy(svn_floors={COMP: 3})).reason == v.OUTDATED_SOFTWARE
    assert judge(keys, ev, nonce, policy=policy(svn_floors={COMP: 2})).ok


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
