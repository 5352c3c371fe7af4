import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from mt3620.attestation import P256_ORDER
from mt3620.imagepackage import ImagePackageError, KeySigner, build_application, build_image, content_digest, parse
from mt3620.peripherals.pluton import BootFlash, BootStage, TrustedKeystore, make_device
from mt3620.peripherals.pluton.glitch import CHECK_POINTS
from pluton_helpers import CHAIN, stage_image


def test_valid_chain_boots_and_measures_every_stage(device, chain):
    result = device.boot(chain)
    assert result.booted, result.describe()
    assert [m.image_type for m in result.measurements] == list(CHAIN)
    assert all(s.copy == "primary" for s in result.stages)
    # A measurement is the SHA-256 of what the signature covers (payload || metadata).
    assert [m.sha256 for m in result.measurements] == [content_digest(parse(s.primary).signed) for s in chain]


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


def test_a_version_the_counter_cannot_hold_never_boots(device, signer, chain):
    """Counters are 32-step thermometers. An SVN 40 kernel used to boot and commit nothing, so SVN 1 booted after
    it: now it is refused, and the older image keeps its place."""
    chain[4] = BootStage(7, stage_image(signer, 7, svn=40), stage_image(signer, 7, svn=1, body=b"old"))
    result = device.boot(chain)
    assert result.stages[4].copy == "backup"
    assert result.stages[4].failures["primary"].startswith("svn-out-of-range")
    chain[4] = BootStage(7, stage_image(signer, 7, svn=32), None)      # the largest version that fits
    assert device.boot(chain).booted
    device.commit_security_versions()
    assert device.fuses.min_security_version(7) == 32
    chain[4] = BootStage(7, stage_image(signer, 7, svn=1), None)
    assert not device.boot(chain).booted


def test_stage_types_without_a_counter_take_any_version(device, signer, chain):
    stages = chain[:3] + [BootStage(6, stage_image(signer, 6, svn=4000))]
    assert device.boot(stages).booted


def test_commit_after_an_update_keeps_the_backup_bootable(device, signer, chain):
    """The update writes the runtime copy; committing used to burn the counter past the backup copy, which then
    could never boot. Now the backup becomes a copy of what booted before the fuse moves."""
    flash = BootFlash.open(None, {stage.image_type: stage.primary for stage in chain})
    update = stage_image(signer, 7, svn=2, body=b"kernel v2")
    flash.write(7, "primary", update)
    stages = flash.stages(CHAIN)
    assert device.boot(stages).booted
    assert (7, 2) in device.commit_security_versions(flash)
    assert flash.read(7, "backup") == update
    # Both copies still boot under the new counter: break the runtime copy and the backup takes over.
    flash.write(7, "primary", b"torn write")
    result = device.boot(flash.stages(CHAIN))
    assert result.booted and result.stages[4].copy == "backup"


def test_commit_without_flash_access_never_strands_a_valid_backup(device, signer, chain):
    chain[4] = BootStage(7, stage_image(signer, 7, svn=3), stage_image(signer, 7, svn=2, body=b"old"))
    assert device.boot(chain).booted
    assert (7, 2) in device.commit_security_versions()       # stops at the backup's version, not 3
    chain[4].primary = b"broken"
    assert device.boot(chain).booted


def test_keystore_not_matching_fuses_does_not_boot(device, signer, vendor_key, chain):
    from mt3620.attestation import public_key_to_raw
    from mt3620.peripherals.pluton import PlutonCore
    extra = TrustedKeystore({signer.thumbprint: public_key_to_raw(vendor_key), b"\x01" * 20: public_key_to_raw(vendor_key)})
    swapped = PlutonCore(device.fuses, extra)
    result = swapped.boot(chain)
    assert not result.booted and result.reason.startswith("keystore-mismatch")


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
    assert result.cycles >= 2 * len(chain) * ECDSA_VERIFY_CYCLES          # every signature is checked twice
    device.execute(api.GET_BOOT_MODE_FLAGS, b"")
    assert device.engines.take_cycles() < ECDSA_VERIFY_CYCLES


def high_s(image: bytes) -> bytes:
    """The same image with its ECDSA signature re-encoded as (r, n - s): still a valid signature."""
    r, s = int.from_bytes(image[-64:-32], "big"), int.from_bytes(image[-32:], "big")
    return image[:-32] + (P256_ORDER - s).to_bytes(32, "big")


def test_a_re_encoded_signature_is_the_same_image(device, chain):
    """(r, s) and (r, n - s) both verify and real SDK signatures use both halves: the device must accept either,
    and measure both as the same image (the measurement leaves the signature out)."""
    measured = device.boot(chain).measurements
    flipped = [BootStage(s.image_type, high_s(s.primary), None) for s in chain]
    assert flipped[0].primary != chain[0].primary
    result = device.boot(flipped)
    assert result.booted, result.describe()
    assert result.measurements == measured


def test_two_builds_of_one_component_never_share_an_image_id(signer, tmp_path):
    a = parse(build_image(b"same payload", 7, uuid.UUID(int=7), signer, security_version=1))
    b = parse(build_image(b"same payload", 7, uuid.UUID(int=7), signer, security_version=2))
    c = parse(build_image(b"same payload", 7, uuid.UUID(int=7), signer, security_version=1, build_time=5))
    assert len({a.image_id, b.image_id, c.image_id}) == 3
    assert parse(build_image(b"same payload", 7, uuid.UUID(int=7), signer, security_version=1)).image_id == a.image_id
    root = tmp_path / "approot"
    (root / "bin").mkdir(parents=True)
    (root / "app_manifest.json").write_text('{"Name":"a","ComponentId":"%s","EntryPoint":"/bin/app"}' % uuid.UUID(int=5))
    (root / "bin" / "app").write_bytes(b"\x7fELF" + b"\0" * 60)
    v1, v2 = (parse(build_application(root, signer, security_version=v)) for v in (1, 2))
    assert v1.image_id != v2.image_id


# ---- glitches -----------------------------------------------------------------------------------------------------

def forged(chain, index):
    bad = bytearray(chain[index].primary)
    bad[5] ^= 1                                     # one payload bit: the signature no longer verifies
    chain[index] = BootStage(chain[index].image_type, bytes(bad), None)
    return bytes(bad)


@pytest.mark.parametrize("point", ["boot.signature", "boot.signature#2"])
def test_one_skipped_signature_check_is_caught_by_the_second(device, chain, point):
    forged(chain, 4)
    device.glitches.arm(f"skip:{point}@5")             # the 5th signature check is the kernel's
    result = device.boot(chain)
    assert not result.booted and "bad-signature" in result.stages[4].failures["primary"]
    assert [g.point for g in device.glitches.fired] == ([point] if "#" not in point else [])   # #1 refuses first


def test_two_glitches_boot_a_forged_kernel_and_its_measurement_gives_it_away(device, chain):
    genuine = content_digest(parse(chain[4].primary).signed)
    image = forged(chain, 4)
    device.glitches.arm("skip:boot.signature@5")
    device.glitches.arm("skip:boot.signature#2@5")
    result = device.boot(chain)
    assert result.booted                               # the attacker got a forged kernel through
    kernel = result.measurements[4]
    assert kernel.sha256 == content_digest(parse(image).signed) != genuine   # ... but it is measured as it is


def test_one_corrupt_fuse_read_does_not_roll_back(device, signer, chain):
    chain[4] = BootStage(7, stage_image(signer, 7, svn=3), None)
    device.boot(chain)
    device.commit_security_versions()
    chain[4] = BootStage(7, stage_image(signer, 7, svn=1), None)
    device.glitches.arm("fuse:21^0x7@1")                # kernel counter word read as 0 once (3 bits set -> 0)
    result = device.boot(chain)
    assert not result.booted and "svn-rollback" in result.stages[4].failures["primary"]
    assert len(device.glitches.fired) == 1


def test_glitch_at_a_virtual_time(keystore, chain):
    now = [0]
    device = make_device(b"timed", keystore, now=lambda: now[0])
    forged(chain, 0)
    device.glitches.arm("skip:boot.signature@5ms")
    device.glitches.arm("skip:boot.signature#2@5ms")
    assert not device.boot(chain).booted               # too early: nothing fires
    assert device.glitches.fired == []
    now[0] = 5_000_000_000
    assert device.boot(chain).booted                   # at 5 ms both fire on their next hit
    assert [g.fired_at_ps for g in device.glitches.fired] == [5_000_000_000] * 2


@pytest.mark.parametrize("point", [p for p in CHECK_POINTS if p.startswith("boot.") and p not in ("boot.signer",)])
def test_every_doubled_boot_check_survives_one_glitch(device, signer, chain, point):
    """For each doubled check, an image that fails only that check stays refused with one glitch on it."""
    base = point.split("#")[0]
    if base == "boot.keystore-hash":
        from mt3620.attestation import public_key_to_raw
        from mt3620.peripherals.pluton import PlutonCore
        device = PlutonCore(device.fuses, TrustedKeystore({**device.keystore.keys, b"\x01" * 20: b"\x02" * 64}))
    elif base == "boot.image-type":
        chain[4] = BootStage(7, stage_image(signer, 8), None)
    elif base == "boot.signature":
        forged(chain, 4)
    elif base == "boot.svn-width":
        chain[4] = BootStage(7, stage_image(signer, 7, svn=33), None)
    elif base == "boot.svn":
        chain[4] = BootStage(7, stage_image(signer, 7, svn=3), None)
        device.boot(chain)
        device.commit_security_versions()
        chain[4] = BootStage(7, stage_image(signer, 7, svn=2), None)
    device.glitches.arm(f"skip:{point}@1" if base == "boot.keystore-hash" else f"skip:{point}@5")
    assert not device.boot(chain).booted
    assert len(device.glitches.fired) == (0 if "#" in point else 1)   # with #2 glitched, #1 refuses first


# ---- applications -------------------------------------------------------------------------------------------------

def approot(tmp_path, component=uuid.UUID(int=5)):
    root = tmp_path / "approot"
    (root / "bin").mkdir(parents=True, exist_ok=True)
    (root / "app_manifest.json").write_text('{"Name":"a","ComponentId":"%s","EntryPoint":"/bin/app"}' % component)
    (root / "bin" / "app").write_bytes(b"\x7fELF" + b"\0" * 60)
    return root


def test_development_signed_app_needs_app_development_capability(device, signer, tmp_path):
    from mt3620.attestation import public_key_to_raw
    from mt3620.imagepackage import capability as cap
    dev_key = ec.derive_private_key(31337, ec.SECP256R1())        # plays the SDK test key
    dev_signer = KeySigner(dev_key)
    development = TrustedKeystore({dev_signer.thumbprint: public_key_to_raw(dev_key)})
    root = approot(tmp_path)
    app = build_application(root, dev_signer)
    with pytest.raises(ImagePackageError) as err:
        device.verify_application(app)
    assert err.value.reason == "untrusted-signer"
    with pytest.raises(ImagePackageError) as err:
        device.verify_application(app, development)
    assert err.value.reason == "capability-required"
    device.install_capability(cap.build(device.device_id, [cap.APP_DEVELOPMENT], signer))
    assert device.verify_application(app, development)[0].image_type == 10
    assert device.verify_application(build_application(root, signer))[0].image_type == 10   # production-signed
    other = cap.build(b"\x01" * 64, [cap.APP_DEVELOPMENT], signer)
    with pytest.raises(cap.CapabilityError):
        device.install_capability(other)


def test_applications_have_a_per_component_security_version(device, signer, tmp_path):
    """Pluton's verify used to accept SVN 2 then SVN 1 of one component."""
    root = approot(tmp_path)
    v1, v2 = (build_application(root, signer, security_version=v) for v in (1, 2))
    pkg, measurement = device.verify_application(v2)
    assert measurement.security_version == 2
    assert device.commit_application(pkg.component_id, 2)
    with pytest.raises(ImagePackageError) as err:
        device.verify_application(v1)
    assert err.value.reason == "svn-rollback"
    other = build_application(approot(tmp_path / "b", uuid.UUID(int=6)), signer, security_version=1)
    assert device.verify_application(other)[1].security_version == 1      # another component: its own counter
    assert not device.commit_application(pkg.component_id, 1)              # counters never go down


def test_application_counters_persist_and_a_tampered_store_fails_closed(keystore, signer, tmp_path):
    import json
    efuse, counters = tmp_path / "dev.json", tmp_path / "dev.counters.json"
    device = make_device(b"persist", keystore, efuse_path=efuse, counters_path=counters)
    v1, v3 = (build_application(approot(tmp_path), signer, security_version=v) for v in (1, 3))
    pkg, _ = device.verify_application(v3)
    device.commit_application(pkg.component_id, 3)
    again = make_device(b"persist", keystore, efuse_path=efuse, counters_path=counters)
    with pytest.raises(ImagePackageError) as err:
        again.verify_application(v1)
    assert err.value.reason == "svn-rollback"
    doc = json.loads(counters.read_text())
    doc["counters"] = doc["counters"].replace("3", "0")                  # an edit without the device's MAC key
    counters.write_text(json.dumps(doc))
    tampered = make_device(b"persist", keystore, efuse_path=efuse, counters_path=counters)
    with pytest.raises(ImagePackageError) as err:
        tampered.verify_application(v3)
    assert err.value.reason == "counter-store-corrupt"


@pytest.mark.parametrize("point", ["app.svn", "app.svn#2", "app.signature", "app.signature#2"])
def test_application_checks_survive_one_glitch(device, signer, tmp_path, point):
    root = approot(tmp_path)
    if point.startswith("app.svn"):
        pkg, _ = device.verify_application(build_application(root, signer, security_version=2))
        device.commit_application(pkg.component_id, 2)
        bad, reason = build_application(root, signer, security_version=1), "svn-rollback"
    else:
        image = bytearray(build_application(root, signer))
        image[0x1000] ^= 1
        bad, reason = bytes(image), "bad-signature"
    device.glitches.arm(f"skip:{point}@1")
    with pytest.raises(ImagePackageError) as err:
        device.verify_application(bad)
    assert err.value.reason == reason and len(device.glitches.fired) == (0 if "#" in point else 1)


def test_runtime_measurements_follow_what_runs(device, chain, signer, tmp_path):
    device.boot(chain)
    pkg, m = device.verify_application(build_application(approot(tmp_path), signer))
    device.admit("io0", m)
    assert device.measurements[-1] == m and len(device.measurements) == len(chain) + 1
    pkg2, m2 = device.verify_application(build_application(approot(tmp_path), signer, security_version=4))
    device.admit("io0", m2)                     # replaces what ran on io0
    assert device.measurements[-1] == m2 and len(device.measurements) == len(chain) + 1
    device.release("io0")
    assert len(device.measurements) == len(chain)
    device.boot(chain)                          # a reboot forgets what ran
    assert len(device.measurements) == len(chain)
