"""The app manager (sphere_os/app_manager.py) on an emulated board: the device's refusals at deploy time, with
nothing written to flash; placement; start/stop; the state surviving a restart; a power cut at every flash write
of a deploy."""
import shutil
import struct

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from device_helpers import pack, rt_manifest, run_until

from mt3620.imagepackage import KeySigner
from mt3620.sphere_os.app_manager import AppError
from mt3620.sphere_os.flash import PowerCut

HL_ID = "8f4b2f64-6b69-4a3c-9d2e-4c3e5a9b1a55"


def refused(dev, data, reason, text=""):
    """The deploy is refused with `reason` and nothing reaches the flash."""
    writes, apps = dev.flash.writes, [a.component_id for a in dev.installer.apps()]
    with pytest.raises(AppError) as err:
        dev.apps.deploy(data)
    assert err.value.reason == reason, str(err.value)
    assert text in str(err.value) and "\n" not in str(err.value)
    assert dev.flash.writes == writes and [a.component_id for a in dev.installer.apps()] == apps
    return err.value


def hl_package(caps=None, name="hl_app", component=HL_ID):
    """A high-level app package (the project's hl_hello program under another manifest)."""
    from mt3620.firmware import toolchain
    try:
        elf = toolchain.build_program(toolchain.DEFAULT_OUT / "hl_hello.elf",
                                      sorted((toolchain.FIRMWARE_DIR / "hl_hello").glob("*.c")))
    except toolchain.ToolchainError as exc:
        pytest.skip(f"hl_hello cannot be built here: {exc}")
    return pack(elf.read_bytes(), {"SchemaVersion": 1, "Name": name, "ComponentId": component,
                                   "EntryPoint": "/bin/app", "CmdArgs": [], "Capabilities": caps or {},
                                   "ApplicationType": "Default"})


def big_elf(tcm_bytes: int) -> bytes:
    """A minimal RTApp ELF with one PT_LOAD of `tcm_bytes` at the start of TCM (a vector table first)."""
    payload = struct.pack("<II", 0x00130000, 0x00100009) + b"\0" * 8
    ehdr = struct.pack("<4sBBBB8sHHIIIIIHHHHHH", b"\x7fELF", 1, 1, 1, 0, b"\0" * 8, 2, 40, 1, 0x00100000, 52, 0,
                       0x05000400, 52, 32, 1, 40, 0, 0)
    phdr = struct.pack("<IIIIIIII", 1, 84, 0x00100000, 0x00100000, len(payload), tcm_bytes, 7, 4)
    return ehdr + phdr + payload


def test_no_app_development_capability(board, rt_elf):
    dev = board(development=False)
    refused(dev, pack(rt_elf("hello"), rt_manifest("hello")), "capability-required",
            "the device needs the appDevelopment capability")
    assert dev.capabilities() == []
    assert dev.enable_development() == ["appDevelopment"]
    dev.apps.deploy(pack(rt_elf("hello"), rt_manifest("hello")))
    run_until(dev, r"^hello: done$")


def test_unsigned_and_wrongly_signed_images(board, rt_elf):
    dev = board()
    good = pack(rt_elf("hello"), rt_manifest("hello"))
    stranger = KeySigner(ec.derive_private_key(424242, ec.SECP256R1()))
    refused(dev, pack(rt_elf("hello"), rt_manifest("hello"), signer=stranger), "untrusted-signer",
            "is not trusted by this device")
    tampered = bytearray(good)
    tampered[0x2000 + 40] ^= 1                                   # one bit of the ELF
    refused(dev, bytes(tampered), "bad-signature", "application signature does not verify")
    unsigned = good[:-64] + b"\0" * 64                           # no signature at all
    refused(dev, unsigned, "bad-signature")
    refused(dev, b"\x7fELF not a package", "bad-package", "not an image package")
    refused(dev, rt_elf("hello"), "bad-package")                 # a bare ELF is not sideloadable


def test_malformed_manifest_names_the_field(board, rt_elf):
    dev = board()
    m = rt_manifest("hello", {"Uart": ["ISU9"]})
    refused(dev, pack(rt_elf("hello"), m), "bad-manifest", "Capabilities.Uart[0]: 'ISU9' is not an ISU")
    m = rt_manifest("hello", {"WifiConfig": True})
    refused(dev, pack(rt_elf("hello"), m), "bad-manifest", "Capabilities.WifiConfig: only high-level apps")


def test_conflicting_deploys_are_refused(board, rt_elf):
    dev = board()
    dev.apps.deploy(pack(rt_elf("blink_button"), rt_manifest("a", {"Gpio": [8, 12]})))
    refused(dev, pack(rt_elf("hello"), rt_manifest("b", {"Gpio": [8]})), "peripheral-in-use",
            "GPIO 8 is already used by a")
    refused(dev, pack(rt_elf("hello"), rt_manifest("b", {"Gpio": [14]})), "pin-block-in-use",
            "GPIO 14 is in pin block gpio3, which a holds on IO core 0")
    # A high-level app and an RTApp both claiming a GPIO (of one block).
    refused(dev, hl_package({"Gpio": [9]}), "pin-block-in-use", "GPIO 9 is in pin block gpio2")
    refused(dev, hl_package({"Gpio": [12]}), "peripheral-in-use", "GPIO 12 is already used by a")
    dev.apps.deploy(hl_package({"Gpio": [16]}), start=False)     # another block: fine
    refused(dev, hl_package({}, name="second", component="0b9b5f4e-2f7d-4a55-9f1c-6c1e0d3a2b77"),
            "one-high-level-app", "only one high-level app runs on the A7")
    dev.apps.deploy(pack(rt_elf("hello"), rt_manifest("c")))
    assert [(a.name, a.core) for a in dev.installer.apps()] == [("a", "io0"), ("hl_app", "a7"), ("c", "io1")]
    refused(dev, pack(rt_elf("hello"), rt_manifest("d")), "no-free-io-core", "d: no free IO core")
    # The same component again is an update, not a conflict: it keeps its core and its claims.
    dev.apps.deploy(pack(rt_elf("blink_button"), rt_manifest("a", {"Gpio": [8, 12, 13]})))
    assert dev.installer.app(rt_manifest("a")["ComponentId"]).core == "io0"


def test_an_rtapp_too_large_for_tcm(board):
    dev = board()
    refused(dev, pack(big_elf(0x30001), rt_manifest("big")), "too-large",
            "big is too large for an IO core's TCM: it needs 196609 bytes, an IO core has 196608")
    dev.apps.deploy(pack(big_elf(0x30000), rt_manifest("fits")), start=False)


def test_start_stop_status_and_debug_halt(board, rt_elf):
    dev = board()
    status = dev.apps.deploy(pack(rt_elf("hello"), rt_manifest("hello")), start=False)
    assert status.state == "stopped" and status.core == "io0"
    cid = status.component_id
    dev.apps.start(cid)
    run_until(dev, r"^hello: done$")
    with pytest.raises(AppError) as err:
        dev.apps.start(cid)
    assert err.value.reason == "already-running"
    assert dev.apps.stop(cid).state == "stopped"
    assert dev.machine.images.get("io0") is None
    status = dev.apps.start(cid, debug=False)
    assert status.state == "running"
    with pytest.raises(AppError) as err:
        dev.apps.stop("00000000-0000-4000-8000-000000000000")
    assert err.value.reason == "not-installed"
    dev.apps.stop(cid)
    dev.gdb_ports = None
    dev.apps.gdb_ports = {"io0": 0}
    status = dev.apps.start(cid, debug=True)                    # waits at its first instruction
    assert status.state == "debugging" and status.gdb_port > 0
    core = dev.machine.core("io0")
    reset, executed = dev.machine.images["io0"].reset_handler, core.instructions
    dev.machine.run(duration_ps=10**10)
    assert core.halted and core.pc == reset & ~1 and core.instructions == executed
    dev.apps.stop(cid)


def test_state_survives_restart_and_apps_start_at_boot(board, rt_elf):
    dev = board()
    dev.apps.deploy(pack(rt_elf("hello"), rt_manifest("hello")))
    dev.apps.deploy(pack(rt_elf("fpu"), rt_manifest("fpu")), auto_start=False)
    device_id = dev.device_id
    dev.restart()
    assert dev.device_id == device_id and dev.capabilities() == ["appDevelopment"]
    assert [(a.name, a.core) for a in dev.installer.apps()] == [("hello", "io0"), ("fpu", "io1")]
    assert [s.state for s in dev.apps.show_status()] == ["running", "stopped"]
    run_until(dev, r"^hello: done$")
    dev.apps.delete()
    dev.restart()
    assert dev.installer.apps() == [] and dev.apps.show_status() == []


def test_enable_cloud_test_removes_app_development(board, rt_elf):
    dev = board()
    dev.apps.deploy(pack(rt_elf("hello"), rt_manifest("hello")))
    assert dev.enable_cloud_test() == []
    status = dev.apps.show_status()[0]
    assert status.state == "failed" and "capability-required" in status.detail


def tiny_rtapp() -> bytes:
    """A real RTApp in a few bytes: a vector table whose reset handler is `b .` (so the package is small and its
    deploy takes few flash writes)."""
    elf = bytearray(big_elf(0x100))
    elf[84 + 8:84 + 10] = b"\xfe\xe7"                           # at 0x00100008: b . (Thumb)
    return bytes(elf)


def test_a_power_cut_at_every_flash_write_of_a_deploy(tmp_path, rt_elf):
    """The old set (hello) is installed; the deploy replaces it by another build of its component and adds a second
    app. The power fails during each flash write of that deploy in turn (the flash left as the model leaves it: the
    write torn in half); the device always boots again, with the old set or the new one, its apps running."""
    from mt3620.sphere_os.device import EmulatedDevice
    from mt3620.sphere_os.flash import NorFlash
    base = tmp_path / "base"
    dev = EmulatedDevice(base)
    dev.power_on()
    dev.enable_development()
    hello = rt_manifest("hello")
    dev.apps.deploy(pack(rt_elf("hello"), hello))
    base_flash = bytes(dev.flash.data)
    # The deploy, recorded: every flash write it makes, in order.
    dev.flash.journal = journal = []
    dev.apps.deploy(pack(tiny_rtapp(), {**rt_manifest("spin"), "ComponentId": hello["ComponentId"]}))
    dev.apps.deploy(pack(tiny_rtapp(), rt_manifest("spin2")))
    dev.close()
    assert len(journal) > 30
    folder = tmp_path / "after"
    shutil.copytree(base, folder)
    seen = []
    for cut in range(1, len(journal) + 1):
        flash = NorFlash(size=len(base_flash))
        flash.data[:] = base_flash
        flash.arm_cut(cut)
        with pytest.raises(PowerCut):
            flash.replay(journal)
        (folder / "flash.bin").write_bytes(flash.data)          # the chip as the power left it
        after = EmulatedDevice(folder)
        after.power_on()                                        # it boots
        assert after.machine.booted
        names = [a.name for a in after.installer.apps()]
        assert names in (["hello"], ["spin"], ["spin", "spin2"]), (cut, names)
        assert all(s.state == "running" for s in after.apps.show_status()), (cut, after.apps.show_status())
        seen.append(tuple(names))
        after.close()
    # The first deploy's cuts keep hello until its TOC record is whole; the second's keep spin alone.
    assert seen[0] == ("hello",) and seen[-1] == ("spin",) and set(seen) == {("hello",), ("spin",)}
