import uuid

from cryptography.hazmat.primitives.asymmetric import ec

from mt3620.imagepackage import KeySigner, build_image
from mt3620.peripherals.pluton import BootStage, TrustedKeystore, make_device
from pluton_helpers import CHAIN, stage_image


def test_valid_chain_boots_and_measures_every_stage(device, chain):
    result = device.boot(chain)
    assert result.booted, result.describe()
    assert [m.image_type for m in result.measurements] == list(CHAIN)
    assert all(s.copy == "primary" for s in result.stages)


def test_corrupt_primary_falls_back_to_backup(device, chain):
    bad = bytearray(chain[2].primary)
    bad[10] ^= 0x40
    chain[2].primary = bytes(bad)
    result = device.boot(chain)
    assert result.booted
    assert result.stages[2].copy == "backup"
    assert result.stages[2].failures["primary"].startswith("bad-signature")
    assert "primary failed" in "\n".join(result.describe())


def test_no_valid_copy_stops_the_chain_and_says_why(device, chain):
    chain[3].primary = b"garbage" * 20
    chain[3].backup = None
    result = device.boot(chain)
    assert not result.booted
    assert "NormalWorldLoader" in result.reason
    assert len(result.stages) == 4 and result.stages[3].copy is None
    assert "missing" in result.stages[3].failures["backup"]
    assert device.measurements == []                 # a failed boot attests nothing


def test_wrong_thumbprint_is_rejected(device, signer, chain):
    stranger = KeySigner(ec.derive_private_key(4242, ec.SECP256R1()))
    chain[0] = BootStage(1, stage_image(stranger, 1), None)
    result = device.boot(chain)
    assert not result.booted and "untrusted-signer" in result.stages[0].failures["primary"]
    # Same key, but an SG thumbprint the keystore does not list.
    relabelled = KeySigner(signer._key, thumbprint=b"\x55" * 20)
    chain[0] = BootStage(1, stage_image(relabelled, 1), None)
    assert "untrusted-signer" in device.boot(chain).stages[0].failures["primary"]


def test_image_of_the_wrong_type_is_rejected(device, signer, chain):
    chain[4] = BootStage(7, stage_image(signer, 8), None)     # a RootFs where the kernel belongs
    result = device.boot(chain)
    assert not result.booted and "wrong-image-type" in result.stages[4].failures["primary"]


def test_svn_downgrade_is_rejected_after_commit(device, signer, chain):
    chain[4] = BootStage(7, stage_image(signer, 7, svn=3), None)
    assert device.boot(chain).booted
    device.commit_security_versions()
    assert device.fuses.min_security_version(7) == 3
    chain[4] = BootStage(7, stage_image(signer, 7, svn=2), stage_image(signer, 7, svn=3, body=b"other"))
    result = device.boot(chain)
    assert result.booted and result.stages[4].copy == "backup"
    assert "svn-rollback" in result.stages[4].failures["primary"]
    chain[4] = BootStage(7, stage_image(signer, 7, svn=1), None)
    assert not device.boot(chain).booted


def test_keystore_not_matching_fuses_does_not_boot(device, signer, vendor_key, chain):
    from mt3620.attestation import public_key_to_raw
    from mt3620.peripherals.pluton import PlutonCore
    extra = TrustedKeystore({signer.thumbprint: public_key_to_raw(vendor_key), b"\x01" * 20: public_key_to_raw(vendor_key)})
    swapped = PlutonCore(device.fuses, extra)
    result = swapped.boot(chain)
    assert not result.booted and result.reason.startswith("keystore-mismatch")


def test_skip_signature_fault_hook(device, chain):
    bad = bytearray(chain[0].primary)
    bad[5] ^= 1
    chain[0] = BootStage(1, bytes(bad), None)
    device.faults.skip_signature_check = True       # not enabled: no effect
    assert not device.boot(chain).booted
    device.enable_fault_injection()
    assert device.boot(chain).booted


def test_measurement_log_is_bounded(signer, keystore):
    dev = make_device(b"x", keystore)
    stages = [BootStage(10, build_image(b"app%d" % i, 10, uuid.UUID(int=i), signer)) for i in range(21)]
    result = dev.boot(stages)
    assert not result.booted and "measurement-log-full" in str(result.stages[-1].failures)
