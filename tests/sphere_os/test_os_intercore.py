"""Intercore: firmware/hl_intercore on the A7 and the mailbox RTApp (firmware/mailbox, packed with its manifest) on
IO core 0 exchange messages both ways through the mailbox models and the shared buffers."""
import json
import shutil

from mt3620.testing.device import Device


def test_messages_go_both_ways(boot, hl_app, sysroot):
    from mt3620.firmware import toolchain
    dev = boot(rt0=toolchain.rt_package_path("hl_intercore"), hl=hl_app("hl_intercore"))
    assert dev.wait_for_exit(timeout="3s") == 0
    lines = dev.lines("a7.hl_intercore")
    assert lines[:3] == ["hl_intercore: connect to a component not in the manifest: Operation not permitted",
                         "hl_intercore: a second socket to the RTApp: Address in use",
                         "hl_intercore: connected to the RTApp 9d0a8f3e-1b2c-4e5d-8f6a-7b8c9d0e1f44"]
    for n in (1, 2, 3):
        assert f"hl_intercore: sent 'ping {n}'" in lines
        assert f"hl_intercore: received 6 bytes: 'ping {n}'" in lines
    assert lines[-1] == "hl_intercore: 3 sent, 3 received"
    rt = dev.lines("io0.io0_uart")
    assert "mailbox: setup done" in rt
    assert "mailbox: message of 6 bytes from 6c2e9b1d-8a4f-4d3e-b7a2-0f5e1c9d8a33: ping 1" in rt


def _rt_package_with(tmp_path, allowed):
    """The mailbox RTApp packed with a manifest whose AllowedApplicationConnections is `allowed`."""
    from mt3620.firmware import toolchain
    from mt3620.imagepackage import SdkTestSigner, build_application
    root = tmp_path / "rt"
    (root / "bin").mkdir(parents=True)
    shutil.copyfile(toolchain.firmware_path("mailbox"), root / "bin" / "app")
    manifest = json.loads((toolchain.FIRMWARE_DIR / "hl_intercore" / "rtapp_manifest.json").read_text())
    manifest["Capabilities"]["AllowedApplicationConnections"] = allowed
    (root / "app_manifest.json").write_text(json.dumps(manifest))
    path = tmp_path / "rt.imagepackage"
    path.write_bytes(build_application(root, SdkTestSigner(), build_time=0))
    return path


def test_the_rtapp_must_list_the_app_too(hl_app, sysroot, tmp_path):
    dev = Device.boot(rt0=_rt_package_with(tmp_path, []), hl=hl_app("hl_intercore"))
    assert dev.wait_for_exit(timeout="1s") == 1
    assert dev.lines("a7.hl_intercore")[-1] == "hl_intercore: Application_Connect: Operation not permitted"


def test_no_rtapp_running_there_is_refused(hl_app, sysroot):
    dev = Device.boot(hl=hl_app("hl_intercore"))
    assert dev.wait_for_exit(timeout="1s") == 1
    assert dev.lines("a7.hl_intercore")[-1] == "hl_intercore: Application_Connect: Operation not permitted"


def test_socket_calls_on_azspio(run_c, tmp_path):
    from mt3620.firmware import toolchain
    lines = run_c("azspio", {"AllowedApplicationConnections": ["9d0a8f3e-1b2c-4e5d-8f6a-7b8c9d0e1f44"]},
                  component_id="6c2e9b1d-8a4f-4d3e-b7a2-0f5e1c9d8a33",
                  rt0=toolchain.rt_package_path("hl_intercore"))
    assert lines == [
        "stream socket: Socket type not supported",
        "inet socket: created",                  # AF_INET is served since networking (docs/wifi.md)
        "bad family: Invalid argument",
        "send before connect: Socket not connected",
        "connect: 0",
        "too big: Message too large",
        "nonblocking recv: Resource temporarily unavailable",
        "recv with timeout: 7 'hello A'",
        "peer: family 43 port 0",
        "timeout after 200 ms: Resource temporarily unavailable",
    ]
