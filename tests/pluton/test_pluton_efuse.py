import json
from pathlib import Path

import pytest

from mt3620.peripherals.pluton import make_device
from mt3620.peripherals.pluton.efuse import BY_NAME, EfuseBank, EfuseError


def test_otp_only_sets_bits_and_refuses_clears():
    bank = EfuseBank()
    bank.program(26, 0b0101)
    bank.program(26, 0b0111)
    assert bank.read(26) == 0b0111
    with pytest.raises(EfuseError) as err:
        bank.program(26, 0b0011)             # would clear bit 2
    assert err.value.reason == "fuse-clear"
    assert bank.read(26) == 0b0111           # the refused write changed nothing


def test_locked_partition_refuses_programming():
    bank = EfuseBank.provision(b"seed")
    with pytest.raises(EfuseError) as err:
        bank.program(BY_NAME["KEYSTORE_HASH"].first, 0xFFFFFFFF)
    assert err.value.reason == "locked"
    bank.lock("SPARE")
    with pytest.raises(EfuseError):
        bank.program(27, 1)


def test_secret_is_read_protected_and_reproducible_from_seed():
    a, b, c = EfuseBank.provision(b"seed"), EfuseBank.provision(b"seed"), EfuseBank.provision(b"other")
    assert all(a.read(i) == 0 for i in range(8))
    with pytest.raises(EfuseError):
        a.read_bytes("DEVICE_SECRET")
    assert a._secret_for_kdf() == b._secret_for_kdf() != c._secret_for_kdf()


def test_anti_rollback_counter_is_monotonic():
    bank = EfuseBank.provision(b"seed")
    assert bank.min_security_version(7) == 0
    bank.raise_security_version(7, 3)
    bank.raise_security_version(7, 2)         # lowering is a no-op: bits stay burnt
    assert bank.min_security_version(7) == 3
    assert bank.min_security_version(10) == 0  # applications have no fuse counter


def test_persistence_per_device(tmp_path, keystore):
    path = tmp_path / "dev1" / "efuse.json"
    dev = make_device(b"persist", keystore, efuse_path=path)
    dev.fuses.raise_security_version(2, 5)
    doc = json.loads(path.read_text())
    assert doc["format"] == "mt3620-efuse-v1" and len(doc["words"]) == 32
    again = make_device(b"a different seed is ignored once fuses exist", keystore, efuse_path=path)
    assert again.device_id == dev.device_id
    assert again.fuses.min_security_version(2) == 5
    path.write_text("{broken")
    with pytest.raises(EfuseError):
        EfuseBank.load(path)


def test_a_corrupt_fuse_read_glitch_corrupts_one_read_and_no_stored_bit():
    bank = EfuseBank.provision(b"seed")
    bank.raise_security_version(1, 4)
    bank.glitches.arm("fuse:16^0xFFFFFFFF@1")
    assert bank.min_security_version(1) == 32 - 4        # that one read saw every bit flipped
    assert bank.min_security_version(1) == 4             # the next read and the stored word are intact


def test_counter_width_is_refused_not_truncated():
    bank = EfuseBank.provision(b"seed")
    assert bank.counter_capacity(7) == 32 and bank.counter_capacity(10) is None
    with pytest.raises(EfuseError) as err:
        bank.raise_security_version(7, 33)
    assert err.value.reason == "bad-value" and bank.min_security_version(7) == 0


def test_every_burn_is_fsynced_before_the_rename(tmp_path, monkeypatch):
    """The fuse file was replaced atomically but never fsynced: a power cut after the rename could leave the name
    pointing at data that never reached the disk. Record the order of fsync and rename on the real file system."""
    import os
    events = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (events.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (events.append(f"replace {Path(b).name}"),
                                                     real_replace(a, b))[1])
    bank = EfuseBank.open(tmp_path / "efuse.json", b"seed")
    events.clear()
    bank.raise_security_version(7, 2)
    assert events == ["fsync", "replace efuse.json", "fsync"]      # file data, then rename, then the folder
    assert EfuseBank.load(tmp_path / "efuse.json").min_security_version(7) == 2
