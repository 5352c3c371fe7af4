"""`mt3620 device start` (a long-lived board with its state in a folder) and `mt3620 azsphere device ...` against
it, as a user runs them: refusals with the device's reasons, sideload/app/image commands, the output streams,
restart, kill -9 at a flash write of a deploy, and debug mode with a real gdb-multiarch session."""
import json
import shutil
import subprocess

import pytest

from device_process import DeviceProcess

from mt3620.firmware import toolchain


@pytest.fixture
def packages():
    def _pkg(name):
        try:
            return str(toolchain.firmware_package(name))
        except toolchain.ToolchainError as exc:
            pytest.skip(f"firmware {name} cannot be built here: {exc}")
    return _pkg


@pytest.fixture
def device(tmp_path):
    started = []

    def _start(state=None, *extra, speed="0"):
        dev = DeviceProcess(state or tmp_path / "state", *extra, speed=speed)
        started.append(dev)
        return dev

    yield _start
    for dev in started:
        dev.kill()


def test_sideload_app_image_and_capability_commands(device, packages, tmp_path):
    dev = device()
    r = dev.az("sideload", "deploy", "--image-package", packages("demo"), expect=1)
    assert "needs the appDevelopment capability (capability-required)" in r.stderr
    assert "appDevelopment" in dev.az("enable-development").stdout
    r = dev.az("sideload", "deploy", "-p", packages("demo"))
    assert "App state   : running" in r.stdout and "Core        : Real-time 0" in r.stdout
    dev.wait_line(r"^\[io0\.io0_uart\] blink 2$")
    r = dev.az("sideload", "deploy", "-p", packages("blink_button"), expect=1)        # GPIO 8 and 12 again
    assert "GPIO 8 is already used by demo" in r.stderr and "(peripheral-in-use)" in r.stderr
    r = dev.az("sideload", "deploy", "-p", packages("hello"))
    assert "Real-time 1" in r.stdout
    r = dev.az("sideload", "deploy", "-p", packages("fpu"), expect=1)
    assert "fpu: no free IO core" in r.stderr and "(no-free-io-core)" in r.stderr
    status = json.loads(dev.az("app", "show-status", "-o", "json").stdout)["Apps"]
    assert [(a["Name"], a["State"], a["Core"]) for a in status] == [("demo", "running", "Real-time 0"),
                                                                   ("hello", "running", "Real-time 1")]
    images = dev.az("image", "list-installed").stdout
    assert "--> demo" in images and "--> hello" in images and "Image type: Applications" in images
    demo = status[0]["ComponentId"]
    assert "App state   : stopped" in dev.az("app", "stop", "--component-id", demo).stdout
    assert "App state   : running" in dev.az("app", "start", "--component-id", demo).stdout
    r = dev.az("app", "start", "--component-id", demo, expect=1)
    assert "(already-running)" in r.stderr
    r = dev.az("app", "show-memory-stats", expect=1)
    assert "no high-level app is running (not-running)" in r.stderr
    out = dev.api("GET", "/output?since=0")
    assert any(label == "a7.os" and text.startswith("installed demo") for _, label, text in out["Lines"])
    fw = dev.api("GET", "/firewall")
    assert fw["locked"] and fw["blocks"]["gpio2"] == ["io0"] and fw["blocks"]["gpio3"] == ["io0"]
    assert dev.az("sideload", "delete", "--component-id", demo).stdout.startswith(f"Component '{demo}' deleted.")
    assert "Boots: 1" in dev.az("show-attached").stdout
    dev.az("restart")
    status = json.loads(dev.az("app", "show-status", "-o", "json").stdout)["Apps"]
    assert [(a["Name"], a["State"]) for a in status] == [("hello", "running")]
    assert "Boots: 2" in dev.az("show-attached").stdout
    # A capability file for another device is refused by Pluton.
    from mt3620.firmware.boot import root_signer
    from mt3620.imagepackage import capability
    other = tmp_path / "other.cap"
    other.write_bytes(capability.build(b"\x01" * 64, [capability.APP_DEVELOPMENT], root_signer()))
    r = dev.az("capability", "update", "--capability-file", str(other), expect=1)
    assert "capability file refused" in r.stderr
    dev.az("enable-cloud-test")
    assert "Device capabilities: none" in dev.az("capability", "show-attached").stdout
    status = json.loads(dev.az("app", "show-status", "-o", "json").stdout)["Apps"]
    assert status[0]["State"] == "failed" and "capability-required" in status[0]["Detail"]
    assert dev.stop() == 0


def test_state_survives_kill_9_and_a_second_process_is_refused(device, packages, tmp_path):
    dev = device()
    dev.az("enable-development")
    dev.az("sideload", "deploy", "-p", packages("demo"))
    r = subprocess.run([*__import__("device_process").MT3620, "device", "start", "--state", str(dev.state),
                        "--api-port", "0"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "another device process runs on this state folder" in r.stderr
    dev.proc.kill()                                             # kill -9
    dev.wait_killed()
    again = device(dev.state)
    again.wait_line(r"^\[io0\.io0_uart\] blink 1$")
    assert "Capabilities: appDevelopment" in again.az("show-attached").stdout
    assert again.stop() == 0


@pytest.fixture(scope="module")
def installed_base(tmp_path_factory):
    """A device folder with hello installed, a package replacing it (another build of its component), and how
    many flash writes that deploy takes (a dry run on a copy)."""
    from device_helpers import pack, rt_manifest
    from mt3620.sphere_os.device import EmulatedDevice
    root = tmp_path_factory.mktemp("kill9")
    try:
        hello_pkg = toolchain.firmware_package("hello")
        fpu_elf = toolchain.firmware_path("fpu").read_bytes()
    except toolchain.ToolchainError as exc:
        pytest.skip(f"firmware cannot be built here: {exc}")
    base = root / "base"
    d = EmulatedDevice(base)
    d.power_on()
    d.enable_development()
    d.apps.deploy(hello_pkg.read_bytes())
    d.close()
    hello = json.loads(toolchain.rtapp_manifest("hello").read_text())
    new = root / "new.imagepackage"
    new.write_bytes(pack(fpu_elf, {**rt_manifest("fpu"), "ComponentId": hello["ComponentId"]}))
    probe = root / "probe"
    shutil.copytree(base, probe)
    d = EmulatedDevice(probe)
    d.power_on()
    d.flash.journal = journal = []
    d.apps.deploy(new.read_bytes())
    d.close()
    return base, new, journal


@pytest.mark.parametrize("at", ["object", "toc", "after"])
def test_kill_9_at_a_flash_write_of_a_deploy(device, installed_base, tmp_path, at):
    """The device process kills itself (SIGKILL) at one flash write of a deploy that replaces hello by another
    build of its component: in the new image's sectors, inside the new TOC record, or after the last write. The
    folder then boots with the old app or the new one, running (every single write is cut in-process by
    test_app_manager.py)."""
    base, new, journal = installed_base
    toc = next(i for i, op in enumerate(journal, 1) if op[0] == "erase" and op[1] < 0x20000)
    writes = {"object": toc // 2, "toc": (toc + len(journal)) // 2, "after": len(journal) + 1}[at]
    folder = tmp_path / "cut"
    shutil.copytree(base, folder)
    dev = device(folder, "--kill-at-write", str(writes))
    r = dev.az("sideload", "deploy", "-p", str(new), expect=None)
    if at == "after":
        assert r.returncode == 0
        dev.stop()
    else:
        assert r.returncode == 2 and "cannot reach the device" in r.stderr
        assert dev.wait_killed() == -9
    again = device(folder)
    status = json.loads(again.az("app", "show-status", "-o", "json").stdout)["Apps"]
    assert [(a["Name"], a["State"]) for a in status] == [("fpu" if at == "after" else "hello", "running")]
    again.wait_line(r"^\[io0\.io0_uart\] (hello|fpu): done$")
    assert again.stop() == 0


@pytest.mark.skipif(shutil.which("gdb-multiarch") is None, reason="gdb-multiarch is not installed "
                                                                  "(scripts/setup --test installs it)")
def test_debug_mode_with_gdb_multiarch(device, packages):
    """`sideload deploy --debug-mode`: the app waits at its first instruction with its GDB port open; a real
    gdb-multiarch attaches, sees the reset handler, breaks in the app, reads the firewalls with `monitor`, and lets
    it run on after detaching."""
    from mt3620.firmware.toolchain import firmware_path
    dev = device()
    dev.az("enable-development")
    r = dev.az("sideload", "deploy", "-p", packages("gdb_target"), "--debug-mode")
    assert "App state   : debugging" in r.stdout
    port = int(r.stdout.split("GDB port    : ")[1].split()[0])
    status = json.loads(dev.az("app", "show-status", "-o", "json").stdout)["Apps"][0]
    assert status["State"] == "debugging" and status["GdbPort"] == port
    out = dev.api("GET", "/output?since=0")
    assert not any(label == "io0.io0_uart" for _, label, _ in out["Lines"])     # not one instruction ran
    elf = firmware_path("gdb_target")
    from elftools.elf.elffile import ELFFile
    with open(elf, "rb") as f:
        symtab = ELFFile(f).get_section_by_name(".symtab")
        reset = next(s["st_value"] for s in symtab.iter_symbols() if s.name == "Reset_Handler") & ~1
    args = ["gdb-multiarch", "-batch", "-nx", str(elf)]
    for c in ["set pagination off", "set confirm off", f"target remote 127.0.0.1:{port}", "print/x $pc",
              "break gdb_count_to", "continue", "bt", "print n", "monitor firewall 0", "detach"]:
        args += ["-ex", c]
    gdb = subprocess.run(args, capture_output=True, text=True, timeout=120)
    text = gdb.stdout + gdb.stderr
    assert f"$1 = {reset:#x}" in text, text
    assert "Breakpoint 1, gdb_count_to (n=10)" in text and "#1" in text and "main" in text, text
    assert "firewalls: locked" in text and "io0_tcm        io0" in text, text
    dev.wait_line(r"^\[io0\.io0_uart\] gdb_target: busy$")                  # it runs on after the detach
    status = json.loads(dev.az("app", "show-status", "-o", "json").stdout)["Apps"][0]
    assert status["State"] == "debugging"
    dev.az("app", "stop")
    assert dev.stop() == 0
