import io
import struct
import uuid

import pytest
from azuresphere_imagemetadata.image import Image as ReferenceImage
from cryptography.hazmat.primitives.asymmetric import ec
from elftools.elf.elffile import ELFFile
from hypothesis import HealthCheck, given, settings, strategies as st

from mt3620.imagepackage import (ImagePackageError, Keystore, KeySigner, SdkTestSigner, build_application, build_image,
                                 load_trusted_key, parse)
from mt3620.imagepackage.keys import TrustedKey, spki_thumbprint
from mt3620.imagepackage.metadata import (MetadataError, Revocation, decode_sections, split_signed)

SDK_THUMBPRINT = "a8d5cc6958f48710140d7a26160fc1cfc31f5df0"


def test_sdk_format_package_parses_and_verifies_with_sdk_public_key(sdk_format_package, sdk_public_key_path):
    keystore = Keystore([load_trusted_key(sdk_public_key_path)])
    pkg = parse(sdk_format_package)
    assert pkg.image_type == 10
    assert pkg.thumbprint.hex() == SDK_THUMBPRINT
    assert pkg.metadata.debug.name == pkg.manifest()["Name"]
    assert str(pkg.component_id) == pkg.manifest()["ComponentId"]
    assert pkg.verify(keystore).source == str(sdk_public_key_path)
    assert ReferenceImage(sdk_format_package).has_valid_signature()


def test_sdk_format_package_fields_match_reference_library(sdk_format_package):
    ref = ReferenceImage(sdk_format_package)
    pkg = parse(sdk_format_package)
    assert str(pkg.component_id) == ref.metadata.identity.component_uid
    assert str(pkg.image_id) == ref.metadata.identity.image_uid
    assert pkg.metadata.debug.build_time == ref.metadata.debug.debug_time
    assert pkg.signed.payload == ref.data and pkg.signed.signature == ref.signature


def test_repacking_the_approot_reproduces_the_package_bytes(sdk_format_package, tmp_path):
    pkg = parse(sdk_format_package)
    for path, data in pkg.filesystem().files.items():
        target = tmp_path / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    (tmp_path / "bin" / "app").chmod(0o755)
    elf = ELFFile(io.BytesIO((tmp_path / "bin" / "app").read_bytes()))      # a real ARM ELF
    assert elf.get_machine_arch() == "ARM" and elf.header.e_type in ("ET_DYN", "ET_EXEC")
    out = build_application(tmp_path, SdkTestSigner(), build_time=pkg.metadata.debug.build_time, image_id=pkg.image_id)
    assert out[:-64] == sdk_format_package[:-64]     # everything but the ECDSA signature (randomised in the SDK)
    assert ReferenceImage(out).has_valid_signature()


def test_project_package_verifies_and_reference_library_reads_it(approot, user_key):
    signer = KeySigner(user_key)
    data = build_application(approot, signer, build_time=1_700_000_000, security_version=3)
    pkg = parse(data)
    assert pkg.security_version == 3 and pkg.manifest()["Name"] == "EmuTest"
    assert pkg.filesystem().read("/data.txt") == b"resource file\n"
    assert pkg.verify(Keystore([TrustedKey(user_key.public_key(), {signer.thumbprint})])) is not None
    ref = ReferenceImage(data)
    assert ref.metadata.identity.component_uid == "1689d8b2-c835-2e27-27ad-e894d6d15fa9"
    assert ref.metadata.signature.signing_cert_thumbprint == spki_thumbprint(user_key.public_key())
    # Deterministic: same inputs, same bytes.
    assert build_application(approot, signer, build_time=1_700_000_000, security_version=3) == data


def test_sdk_signed_project_package_verifies_with_sdk_public_key(approot, sdk_public_key_path):
    data = build_application(approot, SdkTestSigner(), build_time=0)
    pkg = parse(data)
    assert pkg.thumbprint.hex() == SDK_THUMBPRINT
    pkg.verify(Keystore([load_trusted_key(sdk_public_key_path)]), strict_thumbprint=False)


def test_every_single_bit_flip_is_detected(user_key):
    signer = KeySigner(user_key)
    data = build_image(bytes(range(256)) * 2, 7, uuid.UUID(int=7), signer, name="k", security_version=1)
    keystore = Keystore([TrustedKey(user_key.public_key(), {signer.thumbprint})])
    parse(data).verify(keystore)
    for pos in range(len(data)):
        flipped = bytearray(data)
        flipped[pos] ^= 1 << (pos % 8)
        with pytest.raises(ImagePackageError):
            parse(bytes(flipped)).verify(keystore)


def test_untrusted_and_wrong_thumbprint(user_key, approot):
    other = KeySigner(ec.derive_private_key(99, ec.SECP256R1()))
    data = build_application(approot, other, build_time=0)
    trusted = Keystore([TrustedKey(user_key.public_key(), {spki_thumbprint(user_key.public_key())})])
    with pytest.raises(ImagePackageError) as err:
        parse(data).verify(trusted)
    assert err.value.reason == "untrusted-signer"
    with pytest.raises(ImagePackageError) as err:
        parse(data).verify(trusted, strict_thumbprint=True)
    assert err.value.reason == "untrusted-signer"
    with pytest.raises(ImagePackageError) as err:
        parse(data).verify(Keystore())
    assert err.value.reason == "no-trusted-keys"


def test_metadata_bounds_are_checked(user_key):
    data = bytearray(build_image(b"payload!", 7, uuid.UUID(int=1), KeySigner(user_key)))
    start = len(data) - 64 - struct.unpack_from("<I", data, len(data) - 68)[0]
    # The section count the real Pluton trusted blindly: claim 0xFFFFFFFF sections.
    data[start + 4:start + 8] = struct.pack("<I", 0xFFFFFFFF)
    with pytest.raises(MetadataError) as err:
        split_signed(bytes(data))
    assert err.value.reason == "bad-section-count"
    with pytest.raises(MetadataError) as err:
        decode_sections(struct.pack("<II", 0x4D345834, 1) + struct.pack("<HH", 0x4449, 500) + b"\0" * 8 + b"\0" * 4)
    assert err.value.reason == "bad-section-length"
    with pytest.raises(MetadataError) as err:
        decode_sections(struct.pack("<II", 0x4D345834, 2) + Revocation(1).encode().join(
            [struct.pack("<HH", 0x5652, 4), struct.pack("<HH", 0x5652, 4)]) + Revocation(1).encode() + b"\0" * 4)
    assert err.value.reason == "duplicate-section"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_package_parser_never_crashes(data):
    try:
        pkg = parse(data)
        pkg.metadata.describe()
    except ImagePackageError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_package_parser_never_crashes_on_mutations(data):
    base = bytearray(build_image(b"abcd" * 8, 10, uuid.UUID(int=3), _FIXED_SIGNER, name="n", security_version=2))
    for _ in range(data.draw(st.integers(1, 8))):
        base[data.draw(st.integers(0, len(base) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(base)))
    try:
        pkg = parse(bytes(base[cut:] if data.draw(st.booleans()) else base))
        pkg.metadata.describe()
        try:
            pkg.filesystem()
        except ImagePackageError:
            pass
    except ImagePackageError:
        pass


class _Signer:
    thumbprint = b"\x11" * 20

    def sign(self, data):
        return b"\x22" * 64


_FIXED_SIGNER = _Signer()
