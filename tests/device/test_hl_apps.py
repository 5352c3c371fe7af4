"""High-level apps through the app manager: sideloaded, verified and measured by Pluton, launched on the A7,
their exit seen in the app's status, memory statistics while running, mutable storage kept in the flash (and
capped by the manifest's SizeKB)."""
import shutil
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


@pytest.mark.skipif(shutil.which("gdb-multiarch") is None, reason="gdb-multiarch is not installed "
                                                                  "(scripts/setup --test installs it)")
def test_debug_mode_of_a_high_level_app_with_gdb_multiarch(tmp_path, hl_app):
    """`app start --debug-mode` of a high-level app: launched but held at the loader's first instruction with the
    A7's GDB port open; a real gdb-multiarch breaks in main and lets it run to its exit, seen in show-status."""
    import subprocess
    import time
    from mt3620.firmware import toolchain
    from mt3620.sphere_os.device import EmulatedDevice
    from mt3620.sphere_os.device_service import DeviceService
    package = Path(hl_app("hl_hello")).read_bytes()
    dev = EmulatedDevice(tmp_path / "state", gdb_ports={"a7": 0, "io0": 0, "io1": 0})
    dev.power_on()
    dev.enable_development()
    service = None
    try:
        status = dev.apps.deploy(package, debug=True)
        assert status.state == "debugging" and status.core == "a7" and status.gdb_port
        dev.machine.run(duration_ps=10**11)
        assert "a7.hl_hello" not in dev.machine.uarts or not dev.machine.uarts["a7.hl_hello"].lines   # held
        service = DeviceService(dev, port=0, speed=0)
        args = ["gdb-multiarch", "-batch", "-nx", str(toolchain.DEFAULT_OUT / "hl_hello.elf")]
        for c in ["set pagination off", "set confirm off", f"target remote 127.0.0.1:{status.gdb_port}",
                  "break main", "continue", "bt", "continue"]:
            args += ["-ex", c]
        gdb = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 120            # a bound on a hung debugger, not a wait for something
        while gdb.poll() is None and time.monotonic() < deadline:
            service.step(wait_s=0.01)                 # the machine and the GDB server, as `device start` runs them
        gdb.kill()
        text = gdb.stdout.read()
        assert "in _dlstart () from target:/lib/ld-musl-armhf.so.1" in text, text
        assert "Breakpoint 1, main (" in text and "hl_hello/main.c" in text, text
        assert "exited with code 07" in text, text
        status = dev.apps.show_status()[0]
        assert (status.state, status.detail) == ("exited", "exit status 7")
    finally:
        if service is not None:
            service.httpd.server_close()
        dev.close()
