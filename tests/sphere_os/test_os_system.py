"""SysEvent (update notifications and deferral), PowerManagement (reboot acts on the device), RTC
(clock_systohc survives the reboot), Application_IsDeviceAuthReady; each refused without its capability."""
from os_programs import pack_c

from mt3620.engine.simulation.clock import PS_PER_SECOND
from mt3620.testing.device import Device

CAPS = {"PowerControls": ["ForceReboot", "SetPowerProfile"], "SystemTime": True, "MutableStorage": {"SizeKB": 8}}


def test_reboot_restarts_the_app_and_the_rtc_keeps_the_time(sysroot, tmp_path):
    dev = Device.boot(hl=pack_c("system", CAPS, tmp_path))
    dev.wait_for_line("run 2: year", timeout="2s", uart="a7.system")
    assert dev.wait_for_exit(timeout="1s") == 0
    assert dev.lines("a7.system") == [
        "run 1: year 2024", "device auth ready: 0", "power profile: ok", "bad profile: Invalid argument",
        "power down: Permission denied", "settimeofday: ok", "clock_systohc: ok", "reboot: ok",
        "run 2: year 2030"]
    assert dev.lines("a7.os") == ["power profile PowerSaver set by app system",
                                  "system reboot requested by app system", "app system killed by SIGKILL",
                                  "system booted", "app system exited with status 0"]
    assert dev.os.services["power"].profile == 0 and dev.os.services["power"].reboots == 1


def test_without_capabilities_everything_is_eacces(sysroot, tmp_path):
    dev = Device.boot(hl=pack_c("system", {"MutableStorage": {"SizeKB": 8}}, tmp_path))
    dev.wait_for_line("reboot:", timeout="2s", uart="a7.system")
    lines = dev.lines("a7.system")
    assert "power profile: Permission denied" in lines and "clock_systohc: Permission denied" in lines
    assert "reboot: Permission denied" in lines
    assert dev.wait_for_exit(timeout="6s") == 1          # no reboot came: it slept and gave up


def test_device_auth_ready_follows_the_os(sysroot, tmp_path):
    dev = Device.boot()
    dev.os.device_auth_ready = True
    dev.launch(pack_c("system", CAPS, tmp_path))
    dev.wait_for_line("device auth ready: 1", timeout="1s", uart="a7.system")


def test_update_notification_deferral_and_final(sysroot, tmp_path):
    caps = {"SystemEventNotifications": True, "SoftwareUpdateDeferral": True}
    dev = Device.boot(hl=pack_c("sysevent_app", caps, tmp_path))
    dev.wait_for_line("registered", timeout="1s", uart="a7.sysevent_app")
    events = dev.os.services["sysevent"]
    start = dev.now
    events.announce_update(update_type=1, max_deferral_minutes=5)
    assert dev.wait_for_exit(timeout="100s") == 0
    assert dev.lines("a7.sysevent_app") == [
        "defer with nothing pending: Invalid argument", "registered",
        "event 1 status 1 max 5 type 1 (0)", "defer: ok",
        "event 1 status 3 max 4 type 1 (0)",
        "event 1 status 1 max 4 type 1 (0)",
        "event 1 status 2 max 0 type 1 (0)", "done"]
    # one minute of deferral, then the 10 s grace before Final
    assert 70 * PS_PER_SECOND <= dev.now - start < 71 * PS_PER_SECOND
    assert dev.lines("a7.os")[0] == "application update installing"


def test_sysevent_without_the_capability(run_c):
    assert run_c("sysevent_app", {}) == ["defer with nothing pending: Permission denied",
                                         "register: Permission denied"]


def test_power_down_halts_the_io_cores_and_boots_after_the_residency(sysroot, tmp_path, firmware):
    caps = {"PowerControls": ["ForcePowerDown"], "MutableStorage": {"SizeKB": 8}}
    dev = Device.boot(rt0=firmware("gpt_timer"), hl=pack_c("powerdown", caps, tmp_path))
    dev.wait_for_line("power down: ok", timeout="1s", uart="a7.powerdown")
    dev.advance("500ms")
    assert dev.core("io0").halted and not dev.app.running
    dev.wait_for_line("run 2 at 2 s", timeout="3s", uart="a7.powerdown")
    assert not dev.core("io0").halted                     # the RTApp was loaded again at the boot
    assert dev.wait_for_exit(timeout="1s") == 0
    assert dev.lines("a7.os") == ["system power-down for up to 2 s requested by app powerdown",
                                  "app powerdown killed by SIGKILL", "system booted",
                                  "app powerdown exited with status 0"]
