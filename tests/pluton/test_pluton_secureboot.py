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


def test_staged_trusted_keystore_is_signed_and_version_checked(device, signer, chain):
    from mt3620.attestation import public_key_to_raw
    from mt3620.peripherals.pluton.secureboot import encode_keystore_payload
    oem_key = ec.derive_private_key(777, ec.SECP256R1())
    oem = KeySigner(oem_key)
    payload = encode_keystore_payload({oem.thumbprint: public_key_to_raw(oem_key)})
    ks_v2 = build_image(payload, 19, uuid.UUID(int=19), signer, security_version=2)
    stages = [BootStage(1, stage_image(signer, 1)), BootStage(19, ks_v2), BootStage(7, stage_image(oem, 7))]
    assert not device.boot([stages[0], stages[2]]).booted          # OEM key unknown without the staged keystore
    result = device.boot(stages)
    assert result.booted, result.describe()
    device.commit_security_versions()
    # An older keystore image (the known bug: staged without a version check) is refused.
    ks_v1 = build_image(payload, 19, uuid.UUID(int=19), signer, security_version=1)
    result = device.boot([stages[0], BootStage(19, ks_v1), stages[2]])
    assert not result.booted and "svn-rollback" in result.stages[1].failures["primary"]
    # A keystore signed by a key it would itself introduce is refused.
    self_signed = build_image(payload, 19, uuid.UUID(int=19), oem, security_version=3)
    assert "untrusted-signer" in device.boot([stages[0], BootStage(19, self_signed)]).stages[1].failures["primary"]
    # A malformed keystore payload is refused even when properly signed.
    broken = build_image(b"MTKS" + (5).to_bytes(4, "little"), 19, uuid.UUID(int=19), signer, security_version=3)
    assert "bad-keystore" in device.boot([stages[0], BootStage(19, broken)]).stages[1].failures["primary"]


def test_boot_reports_its_modelled_cost_and_does_not_bill_it_to_commands(device, chain):
    from mt3620.peripherals.pluton.engines import ECDSA_VERIFY_CYCLES
    from mt3620.peripherals.pluton import remoteapi as api
    result = device.boot(chain)
    assert result.cycles >= len(chain) * ECDSA_VERIFY_CYCLES
    device.execute(api.GET_BOOT_MODE_FLAGS, b"")
    assert device.engines.take_cycles() < ECDSA_VERIFY_CYCLES


def test_development_signed_app_needs_app_development_capability(device, signer, tmp_path):
    import pytest
    from mt3620.attestation import public_key_to_raw
    from mt3620.imagepackage import ImagePackageError, build_application
    from mt3620.imagepackage import capability as cap
    dev_key = ec.derive_private_key(31337, ec.SECP256R1())        # plays the SDK test key
    dev_signer = KeySigner(dev_key)
    development = TrustedKeystore({dev_signer.thumbprint: public_key_to_raw(dev_key)})
    root = tmp_path / "approot"
    (root / "bin").mkdir(parents=True)
    (root / "app_manifest.json").write_text('{"Name":"a","ComponentId":"%s","EntryPoint":"/bin/app"}' % uuid.UUID(int=5))
    (root / "bin" / "app").write_bytes(b"\x7fELF" + b"\0" * 60)
    app = build_application(root, dev_signer)
    with pytest.raises(ImagePackageError) as err:
        device.verify_application(app)
    assert err.value.reason == "untrusted-signer"
    with pytest.raises(ImagePackageError) as err:
        device.verify_application(app, development)
    assert err.value.reason == "capability-required"
    device.install_capability(cap.build(device.device_id, [cap.APP_DEVELOPMENT], signer))
    assert device.verify_application(app, development).image_type == 10
    assert device.verify_application(build_application(root, signer)).image_type == 10   # production-signed
    other = cap.build(b"\x01" * 64, [cap.APP_DEVELOPMENT], signer)
    with pytest.raises(cap.CapabilityError):
        device.install_capability(other)
