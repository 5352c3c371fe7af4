"""A power cut at any point of a commit loses nothing: the commit is replayed with the power cut after each
single file-system operation, on a simulated disk with POSIX crash semantics, and the device that comes back
boots, with counters at their old or new value and both flash copies bootable."""
import uuid
from pathlib import PurePosixPath

import pytest

from mt3620.imagepackage import build_application
from mt3620.peripherals.pluton import BootFlash, TrustedKeystore, make_device
from mt3620.peripherals.pluton.durable import Disk
from pluton_helpers import CHAIN, stage_image


class PowerCut(Exception):
    pass


class CrashDisk(Disk):
    """What survives a crash: file data once fsynced, a name (create or rename) once its folder is fsynced.
    `cut_after` operations, then PowerCut; `crash()` returns the disk as a rebooted system finds it."""

    def __init__(self):
        self.cache: dict[str, bytes] = {}           # what the running system sees
        self.durable: dict[str, bytes] = {}         # what is on the platter
        self.pending: list[tuple[str, str, str | None, bytes]] = []   # (folder, name, old name, data)
        self.ops = 0
        self.cut_after: int | None = None

    def _op(self):
        if self.cut_after is not None and self.ops >= self.cut_after:
            raise PowerCut(self.ops)
        self.ops += 1

    def read(self, path):
        if str(path) not in self.cache:
            raise FileNotFoundError(str(path))
        return self.cache[str(path)]

    def exists(self, path):
        return str(path) in self.cache

    def makedirs(self, path):
        pass

    def write_synced(self, path, data):
        self._op()
        self.cache[str(path)] = bytes(data)         # data fsynced, but the new name is not durable yet
        self.pending.append((str(PurePosixPath(str(path)).parent), str(path), None, bytes(data)))

    def replace(self, src, dst):
        self._op()
        self.cache[str(dst)] = self.cache.pop(str(src))
        self.pending.append((str(PurePosixPath(str(dst)).parent), str(dst), str(src), self.cache[str(dst)]))

    def fsync_dir(self, path):
        self._op()
        keep = []
        for folder, name, old, data in self.pending:
            if folder == str(path):
                self.durable[name] = data
                if old is not None:
                    self.durable.pop(old, None)
            else:
                keep.append((folder, name, old, data))
        self.pending = keep

    def crash(self):
        self.cache = dict(self.durable)
        self.pending = []
        self.cut_after = None


@pytest.fixture
def factory(signer):
    return {t: stage_image(signer, t) for t in CHAIN}


def power_on(disk, keystore, factory):
    device = make_device(b"power", keystore, efuse_path="/dev0/efuse.json", counters_path="/dev0/counters.json",
                         disk=disk)
    flash = BootFlash.open("/dev0/flash", factory, disk)
    return device, flash, device.boot(flash.stages(CHAIN))


def test_a_power_cut_anywhere_in_an_os_commit_loses_nothing(keystore, signer, factory):
    update = stage_image(signer, 7, svn=2, body=b"kernel v2")
    # A clean run, to count the operations of the commit.
    disk = CrashDisk()
    device, flash, result = power_on(disk, keystore, factory)
    assert result.booted
    device.commit_security_versions(flash)           # the factory release: counters to 1
    flash.write(7, "primary", update)                # the OS update writes the runtime copy
    device, flash, result = power_on(disk, keystore, factory)
    assert result.booted and result.measurements[4].security_version == 2
    assert disk.durable == disk.cache and not disk.pending
    base = dict(disk.durable)                        # the disk just before the commit
    start = disk.ops
    device.commit_security_versions(flash)
    total = disk.ops - start
    assert total >= 6                                # backup copy (3 ops) + fuse file (3 ops)
    assert device.fuses.min_security_version(7) == 2

    outcomes = set()
    for cut in range(total + 1):
        disk = CrashDisk()
        disk.durable, disk.cache = dict(base), dict(base)
        device, flash, result = power_on(disk, keystore, factory)
        assert device.fuses.min_security_version(7) == 1
        disk.cut_after = disk.ops + cut
        try:
            device.commit_security_versions(flash)
        except PowerCut:
            pass
        disk.crash()
        device, flash, result = power_on(disk, keystore, factory)
        assert result.booted, (cut, result.describe())
        counter = device.fuses.min_security_version(7)
        assert counter in (1, 2), cut
        outcomes.add(counter)
        # Whatever the counter says, both copies of the kernel boot under it.
        for broken in ("primary", "backup"):
            saved = flash.read(7, broken)
            flash._images[(7, broken)] = b"gone"
            assert device.boot(flash.stages(CHAIN)).booted, (cut, broken, counter)
            flash._images[(7, broken)] = saved
    assert outcomes == {1, 2}                        # cuts before and after the burn both happened


def test_a_power_cut_anywhere_in_an_application_commit_loses_nothing(keystore, signer, tmp_path):
    root = tmp_path / "approot"
    (root / "bin").mkdir(parents=True)
    (root / "app_manifest.json").write_text('{"Name":"a","ComponentId":"%s","EntryPoint":"/bin/app"}' % uuid.UUID(int=9))
    (root / "bin" / "app").write_bytes(b"\x7fELF" + b"\0" * 60)
    app = build_application(root, signer, security_version=5)
    for cut in range(4):
        disk = CrashDisk()
        device = make_device(b"p", keystore, efuse_path="/d/efuse.json", counters_path="/d/counters.json", disk=disk)
        pkg, _ = device.verify_application(app)
        device.commit_application(pkg.component_id, 2)
        disk.cut_after = disk.ops + cut
        try:
            device.commit_application(pkg.component_id, 5)
        except PowerCut:
            pass
        disk.crash()
        again = make_device(b"p", keystore, efuse_path="/d/efuse.json", counters_path="/d/counters.json", disk=disk)
        assert again.counters.error is None, cut                 # never a torn, unauthenticated store
        assert again.counters.get(pkg.component_id) in (2, 5), cut
    assert again.counters.get(pkg.component_id) == 5             # the uncut run committed
