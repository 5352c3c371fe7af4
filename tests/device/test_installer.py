"""The NOR flash model and the installer's atomic transactions (sphere_os/flash.py, sphere_os/installer.py):
NOR rules, a power cut at every single flash write of a change, persistence across reopening the file."""
import pytest

from mt3620.sphere_os.flash import PAGE, SECTOR, FlashError, NorFlash, PowerCut
from mt3620.sphere_os.installer import DATA_START, InstallError, Installer

SMALL = 4 * 1024 * 1024


def test_nor_rules(tmp_path):
    f = NorFlash(tmp_path / "flash.bin", size=SMALL)
    assert f.read(0, 4) == b"\xff" * 4 and (tmp_path / "flash.bin").stat().st_size == SMALL
    f.program(10, b"\x0f\xf0")
    assert f.read(10, 2) == b"\x0f\xf0"
    f.program(10, b"\x0e\xf0")                     # clearing more bits is fine
    with pytest.raises(FlashError, match="would set bits that are 0"):
        f.program(10, b"\xff")
    with pytest.raises(FlashError, match="not sector-aligned"):
        f.erase(100)
    with pytest.raises(FlashError, match="outside"):
        f.read(SMALL - 1, 2)
    writes = f.writes
    f.program(SECTOR - 2, b"\0" * 4)                # two pages touched: two operations
    assert f.writes == writes + 2
    f.erase(0)
    assert f.read(0, SECTOR) == b"\xff" * SECTOR
    f.close()
    again = NorFlash(tmp_path / "flash.bin", size=SMALL)
    assert again.read(SECTOR - 2, 4) == b"\xff\xff\0\0"  # sector 0 erased, sector 1 kept


def test_a_torn_write_and_a_dead_flash(tmp_path):
    f = NorFlash(size=SMALL)
    f.arm_cut(2)
    f.erase(SECTOR)                                 # write 1 completes
    with pytest.raises(PowerCut):
        f.program(SECTOR, b"\0" * PAGE)             # write 2: half a page programmed, then no power
    assert f.read is not None and f.dead
    assert f.data[SECTOR:SECTOR + PAGE // 2] == b"\0" * (PAGE // 2)
    assert f.data[SECTOR + PAGE // 2:SECTOR + PAGE] == b"\xff" * (PAGE // 2)
    with pytest.raises(PowerCut):
        f.read(0, 1)


def test_transactions_persist_and_replace(tmp_path):
    path = tmp_path / "flash.bin"
    inst = Installer(NorFlash(path, size=SMALL))
    assert inst.apps() == [] and inst.sequence == 0
    tx = inst.transaction()
    tx.put_app("c1", b"A" * 5000, name="one", application_type="Default", image_id="i1", core="a7",
               source="sideload")
    tx.put_storage("c1", b"storage")
    tx.put_capability(b"cap")
    inst.commit(tx)
    inst.flash.close()
    inst = Installer(NorFlash(path, size=SMALL))
    assert [a.name for a in inst.apps()] == ["one"] and inst.image("c1") == b"A" * 5000
    assert inst.storage("c1") == b"storage" and inst.capability() == b"cap" and inst.sequence == 1
    tx = inst.transaction()
    tx.put_app("c1", b"B" * 100, name="one-v2", application_type="Default", image_id="i2", core="a7",
               source="sideload")
    inst.commit(tx)
    assert inst.image("c1") == b"B" * 100 and inst.storage("c1") == b"storage"    # storage kept on update
    tx = inst.transaction()
    tx.remove_app("c1")
    inst.commit(tx)
    assert inst.apps() == [] and inst.storage("c1") is None


def test_full_flash_is_refused_before_writing():
    inst = Installer(NorFlash(size=DATA_START + 8 * SECTOR))
    assert inst.fits([8 * SECTOR]) and not inst.fits([8 * SECTOR + 1])
    tx = inst.transaction()
    tx.put_app("c1", b"x" * (9 * SECTOR), name="big", application_type="Default", image_id="i", core="a7",
               source="sideload")
    writes = inst.flash.writes
    with pytest.raises(InstallError) as err:
        inst.commit(tx)
    assert err.value.reason == "flash-full" and inst.flash.writes == writes


def _old_state(flash):
    inst = Installer(flash)
    tx = inst.transaction()
    tx.put_app("old", bytes(range(256)) * 40, name="old", application_type="RealTimeCapable", image_id="i0",
               core="io0", source="sideload")
    tx.put_storage("old", b"kept")
    inst.commit(tx)
    return inst


def _change(inst):
    tx = inst.transaction()
    tx.remove_app("old")
    tx.put_app("new", b"\x5a" * 9000, name="new", application_type="RealTimeCapable", image_id="i1", core="io0",
               source="sideload")
    tx.put_app("hl", b"\xa5" * 3000, name="hl", application_type="Default", image_id="i2", core="a7",
               source="sideload")
    inst.commit(tx)


@pytest.mark.parametrize("torn", [True, False], ids=["during", "after"])
def test_a_power_cut_at_every_flash_write_leaves_the_old_or_the_new_state(torn):
    """The power fails during (a torn page or sector) or just after each flash write of a change, in turn."""
    probe = _old_state(NorFlash(size=SMALL))
    before = probe.flash.writes
    _change(probe)
    total = probe.flash.writes - before
    assert total > 20
    outcomes = []
    for cut in range(1, total + 1):
        flash = NorFlash(size=SMALL)
        inst = _old_state(flash)
        flash.arm_cut(cut, torn=torn)
        with pytest.raises(PowerCut):
            _change(inst)
        reopened = NorFlash(size=SMALL)
        reopened.data[:] = flash.data                      # the chip as the power left it
        after = Installer(reopened)
        names = sorted(a.name for a in after.apps())
        assert names in (["old"], ["hl", "new"]), (cut, names)
        for app in after.apps():
            after.image(app.component_id)                  # every installed image verifies
        if names == ["old"]:
            assert after.storage("old") == b"kept"
            _change(after)                                 # the device keeps working: the change commits now
            assert sorted(a.name for a in after.apps()) == ["hl", "new"]
        outcomes.append(tuple(names))
    # Only a complete TOC record switches: every cut but one after the very last write keeps the old set.
    expected_new = 0 if torn else 1
    assert outcomes.count(("hl", "new")) == expected_new and outcomes[-1] == (("old",) if torn else ("hl", "new"))
