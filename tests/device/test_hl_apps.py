"""High-level apps through the app manager: sideloaded, verified and measured by Pluton, launched on the A7,
their exit seen in the app's status, memory statistics while running, mutable storage kept in the flash (and
capped by the manifest's SizeKB)."""
import uuid
from pathlib import Path

import pytest

from device_helpers import pack, run_until

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def storage_elf():
    from mt3620.firmware import toolchain
    try:
        toolchain.check_sysroot()
        return toolchain.build_program(toolchain.DEFAULT_OUT / "tests" / "device_storage",
                                       [HERE / "programs" / "storage.c"]).read_bytes()
    except toolchain.ToolchainError as exc:
        pytest.skip(f"the A7 program cannot be built or run here: {exc}")


def hl_manifest(name, caps=None, args=()):
    cid = str(uuid.uuid5(uuid.NAMESPACE_DNS, name))
    return {"SchemaVersion": 1, "Name": name, "ComponentId": cid, "EntryPoint": "/bin/app",
            "CmdArgs": [arg.format(cid=cid) for arg in args], "Capabilities": caps or {},
            "ApplicationType": "Default"}


def test_a_sideloaded_high_level_app_runs_measured_and_exits(board, hl_app):
    dev = board()
    status = dev.apps.deploy(Path(hl_app("hl_hello")).read_bytes())
    assert status.state == "running" and status.core == "a7"
    slot = f"a7:{status.component_id}"
    assert slot in dev.machine.pluton._runtime                      # what runs was measured
    run_until(dev, r".", "200ms", uart="a7.hl_hello")
    stats = dev.apps.memory_stats()
    assert stats["Name"] == "hl_hello" and 0 < stats["User"] <= stats["PeakUser"]
    dev.machine.run(duration_ps=10**12, until=lambda: dev.apps.show_status()[0].state != "running")
    status = dev.apps.show_status()[0]
    assert (status.state, status.detail) == ("exited", "exit status 7")
    assert slot not in dev.machine.pluton._runtime                  # its measurement left the evidence
    dev.apps.start(status.component_id)                             # it can start again
    run_until(dev, r"exited with status 7", "1s", uart="a7.os")


def test_mutable_storage_lives_in_the_flash_across_restarts(board, storage_elf):
    dev = board()
    m = hl_manifest("storage", {"MutableStorage": {"SizeKB": 8}}, ["/mnt/config/{cid}"])
    dev.apps.deploy(pack(storage_elf, m))
    run_until(dev, r"^storage: start 1$", "1s", uart="a7.storage")
    dev.machine.run(duration_ps=10**10)                              # a window boundary: the storage is written
    assert dev.installer.storage(m["ComponentId"]) is not None
    dev.restart()                                                    # the app starts again at boot
    run_until(dev, r"^storage: start 2$", "1s", uart="a7.storage")
    dev.machine.run(duration_ps=10**10)
    dev.close()
    from mt3620.sphere_os.device import EmulatedDevice
    again = EmulatedDevice(dev.dir)                                  # another process, the same folder
    again.power_on()
    run_until(again, r"^storage: start 3$", "1s", uart="a7.storage")
    again.close()


def test_no_mutable_storage_capability_means_no_storage(board, storage_elf):
    """Without MutableStorage nothing is mounted at /mnt/config/<id> (the OS's storage service)."""
    dev = board()
    dev.apps.deploy(pack(storage_elf, hl_manifest("nostorage", {}, ["/mnt/config/{cid}"])))
    run_until(dev, r"^storage: cannot write: No such file or directory$", "1s", uart="a7.nostorage")
    assert dev.installer.storage(hl_manifest("nostorage")["ComponentId"]) is None


def test_the_quota_is_the_manifests_size(board, storage_elf):
    """A file past SizeKB is refused (ENOSPC) and nothing of it reaches the flash."""
    dev = board()
    m = hl_manifest("quota", {"MutableStorage": {"SizeKB": 1}}, ["/mnt/config/{cid}"])
    dev.apps.deploy(pack(storage_elf, m), start=False)
    from mt3620.sphere_os.app_manager import decode_storage, encode_storage
    tx = dev.installer.transaction()                                 # 1 KB of it already taken by a big file
    tx.put_storage(m["ComponentId"], encode_storage({"/big": b"x" * 1024}))
    dev.installer.commit(tx)
    dev.apps.start(m["ComponentId"])
    run_until(dev, r"^storage: cannot write: No space left on device$", "1s", uart="a7.quota")
    dev.machine.run(duration_ps=10**10)
    assert decode_storage(dev.installer.storage(m["ComponentId"])).keys() <= {"/big", "/starts"}
    assert decode_storage(dev.installer.storage(m["ComponentId"]))["/big"] == b"x" * 1024
