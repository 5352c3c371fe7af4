"""Attestation against a reference derivation written apart from the model: the key schedule, the measurements
and the evidence bytes are recomputed here from the documented spec (docs/pluton.md) with hashlib/hmac, the
reference `azuresphere-imagemetadata` parser and plain struct packing."""
import hashlib
import hmac
import random
import struct
import uuid

import pytest
from azuresphere_imagemetadata.image import Image as ReferenceImage
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from hypothesis import given, settings, strategies as st

from mt3620.attestation import (AttestationError, AttestationFormatError, AttestationSignatureError, NonceRegistry,
                                parse_evidence, verify_evidence)
from mt3620.peripherals.pluton import make_device

N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
SEED = b"device-seed-1"


def reference_key(seed: bytes, label: bytes) -> ec.EllipticCurvePrivateKey:
    secret = hashlib.sha256(b"MT3620-EMU-EFUSE-SEED" + seed).digest()
    prk = hmac.new(b"MT3620-Pluton-KDF-v1", secret, hashlib.sha256).digest()          # RFC 5869 extract
    okm = hmac.new(prk, label + b"\x01", hashlib.sha256).digest()                     # RFC 5869 expand, L = 32
    return ec.derive_private_key(int.from_bytes(okm, "big") % (N - 1) + 1, ec.SECP256R1())


def xy(key) -> bytes:
    n = key.public_key().public_numbers()
    return n.x.to_bytes(32, "big") + n.y.to_bytes(32, "big")


def reference_measurement(image: bytes) -> bytes:
    ref = ReferenceImage(image)
    identity = ref.metadata.identity
    rv = ref.metadata.sections_by_id(0x5652)
    # The measurement covers what the signature covers: everything but the trailing 64-byte signature.
    return struct.pack("<HHI16s16s32s", identity.image_type, 0, rv[0].version if rv else 0,
                       uuid.UUID(identity.component_uid).bytes_le, uuid.UUID(identity.image_uid).bytes_le,
                       hashlib.sha256(image[:-64]).digest())


def test_device_id_and_keys_match_reference_derivation(device):
    assert device.device_id == xy(reference_key(SEED, b"identity"))
    assert device.general_public_key == xy(reference_key(SEED, b"general"))
    assert device.attestation_public_key == device.device_id


def test_evidence_bytes_match_reference(device, chain):
    assert device.boot(chain).booted
    nonce = bytes(range(32))
    evidence = device.attest(nonce)
    images = [stage.primary for stage in chain]
    body = struct.pack("<4sHH", b"MTAE", 1, len(images)) + nonce + xy(reference_key(SEED, b"identity"))
    body += b"".join(reference_measurement(img) for img in images)
    der = reference_key(SEED, b"identity").sign(body, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    r, s = decode_dss_signature(der)
    assert evidence == body + r.to_bytes(32, "big") + s.to_bytes(32, "big")
    parsed = verify_evidence(evidence, device.device_id)
    assert parsed.nonce == nonce and len(parsed.measurements) == len(images)


def test_tampered_evidence_and_wrong_key_fail(device, chain, keystore):
    device.boot(chain)
    evidence = bytearray(device.attest(b"\x01" * 32))
    evidence[120] ^= 1                        # inside the first measurement
    with pytest.raises(AttestationSignatureError) as err:
        verify_evidence(bytes(evidence), device.device_id)
    assert err.value.reason == "bad-signature"
    other = make_device(b"another device", keystore)
    with pytest.raises(AttestationSignatureError):
        verify_evidence(device.attest(b"\x01" * 32), other.device_id)


def test_replayed_nonce_is_refused(device, chain):
    device.boot(chain)
    rng = random.Random(7)
    verifier = NonceRegistry(lambda n: bytes(rng.getrandbits(8) for _ in range(n)))
    nonce = verifier.issue()
    evidence = device.attest(nonce)
    assert verifier.verify(evidence, device.device_id).nonce == nonce
    with pytest.raises(AttestationError) as err:
        verifier.verify(evidence, device.device_id)
    assert err.value.reason == "replayed-nonce"
    with pytest.raises(AttestationError):
        verifier.verify(device.attest(b"\x09" * 32), device.device_id)       # never issued


@pytest.mark.parametrize("mutate,reason", [
    (lambda e: e[:100], "truncated"),
    (lambda e: b"XXXX" + e[4:], "bad-magic"),
    (lambda e: e[:4] + b"\x02\x00" + e[6:], "bad-version"),
    (lambda e: e[:6] + b"\x15\x00" + e[8:], "too-many-measurements"),
    (lambda e: e + b"\0", "bad-length"),
])
def test_format_errors(device, chain, mutate, reason):
    device.boot(chain)
    with pytest.raises(AttestationFormatError) as err:
        parse_evidence(mutate(device.attest(b"\0" * 32)))
    assert err.value.reason == reason


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=1800))
def test_evidence_parser_never_crashes(data):
    try:
        parse_evidence(data)
    except AttestationFormatError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 20), st.binary(min_size=4, max_size=4))
def test_evidence_parser_on_structured_input(count, junk):
    data = struct.pack("<4sHH", b"MTAE", 1, count) + b"\0" * 96 + junk * (18 * count) + b"\0" * 64
    if junk[2:4] == b"\0\0" or count == 0:
        assert len(parse_evidence(data).measurements) == count
    else:
        with pytest.raises(AttestationFormatError) as err:
            parse_evidence(data)
        assert err.value.reason == "bad-reserved"
