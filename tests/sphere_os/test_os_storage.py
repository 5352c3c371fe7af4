"""Mutable storage (firmware/hl_storage): a counter that survives relaunches and power-ons with the same device
state, the manifest's SizeKB cap, files of the image package; no MutableStorage capability is EACCES."""
from mt3620.testing.device import Device


def test_counter_survives_a_relaunch_and_the_cap_holds(boot, hl_app):
    package = hl_app("hl_storage")
    dev = boot(hl=package)
    assert dev.wait_for_exit(timeout="1s") == 0
    dev.launch(package)
    assert dev.wait_for_exit(timeout="1s") == 0
    lines = dev.lines("a7.hl_storage")
    cid = "e7a3c5d1-9b2f-4a6e-8c4d-1f2e3a4b5c55"
    assert lines[:6] == [f"hl_storage: package file /mnt/apps/{cid}/greeting.txt",
                         "hl_storage: package says 'greetings from the image package'",
                         "hl_storage: stored count 0 (new file)",
                         "hl_storage: 16 KB write past the 8 KB cap: No space left on device",
                         "hl_storage: count now 1",
                         f"hl_storage: package file /mnt/apps/{cid}/greeting.txt"]
    assert "hl_storage: stored count 1 (read)" in lines and lines[-1] == "hl_storage: count now 2"


def test_counter_persists_in_the_device_state_folder(hl_app, tmp_path):
    package = hl_app("hl_storage")
    for expected in (0, 1, 2):
        dev = Device.boot(hl=package, config_dir=tmp_path)
        assert dev.wait_for_exit(timeout="1s") == 0
        assert f"hl_storage: stored count {expected} (" in "\n".join(dev.lines("a7.hl_storage"))
    stored = tmp_path / "e7a3c5d1-9b2f-4a6e-8c4d-1f2e3a4b5c55" / "mutable_storage"
    assert stored.read_bytes() == (3).to_bytes(4, "little")


def test_no_mutable_storage_capability(run_c):
    assert run_c("storage_denied", {}) == ["open: Permission denied", "delete: Permission denied",
                                           "package path ok", "missing package file: No such file or directory"]
