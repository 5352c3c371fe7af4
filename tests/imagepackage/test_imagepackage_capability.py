import struct

import pytest
from azuresphere_imagemetadata.metadata_sections.internal.capabilities import CapabilitiesSection
from hypothesis import HealthCheck, given, settings, strategies as st

from mt3620.imagepackage import Keystore, KeySigner
from mt3620.imagepackage import capability as cap
from mt3620.imagepackage.keys import TrustedKey

DEVICE = bytes(range(64))
OTHER = bytes(range(1, 65))


@pytest.fixture
def signer(user_key):
    return KeySigner(user_key)


@pytest.fixture
def keystore(user_key, signer):
    return Keystore([TrustedKey(user_key.public_key(), {signer.thumbprint})])


def test_roundtrip_and_binding(signer, keystore):
    data = cap.build(DEVICE, [cap.APP_DEVELOPMENT, cap.FIELD_SERVICING], signer)
    parsed = cap.parse(data)
    assert parsed.device_id == DEVICE
    assert parsed.capabilities == (11, 13)
    assert parsed.names == ["EnableAppDevelopment", "EnableFieldServicing"]
    parsed.verify(keystore, DEVICE)
    with pytest.raises(cap.CapabilityError) as err:
        parsed.verify(keystore, OTHER)
    assert err.value.reason == "wrong-device"
    # The reference library reads the same body.
    ref = CapabilitiesSection(data[:140])
    assert ref.device_id == DEVICE.hex() and ref.capabilities == [11, 13]


def test_tampered_capability_fails(signer, keystore):
    data = bytearray(cap.build(DEVICE, [cap.APP_DEVELOPMENT], signer))
    data[76 + 1] = cap.FIELD_SERVICING            # grant oneself another capability
    with pytest.raises(cap.CapabilityError) as err:
        cap.parse(bytes(data)).verify(keystore, DEVICE)
    assert err.value.reason == "bad-signature"


@pytest.mark.parametrize("mutate,reason", [
    (lambda b: b.__setitem__(slice(0, 4), b"\0\0\0\0"), "bad-magic"),
    (lambda b: b.__setitem__(slice(8, 12), struct.pack("<I", 4096)), "bad-length"),
    (lambda b: b.__setitem__(slice(76, 79), bytes([11, 0, 13])), "bad-capabilities"),
    (lambda b: b.__setitem__(slice(76, 78), bytes([11, 11])), "bad-capabilities"),
])
def test_body_checks(signer, mutate, reason):
    data = bytearray(cap.build(DEVICE, [cap.APP_DEVELOPMENT], signer))
    mutate(data)
    with pytest.raises(cap.CapabilityError) as err:
        cap.parse(bytes(data))
    assert err.value.reason == reason


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_capability_parser_never_crashes(data):
    try:
        cap.parse(data)
    except cap.CapabilityError:
        pass
