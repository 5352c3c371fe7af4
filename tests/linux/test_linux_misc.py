"""ENOSYS for what the personality does not implement (logged by name once), EFAULT for nonsense pointers, and the
identity calls."""
import logging


def test_unimplemented_syscall_is_enosys_and_logged_once(run_program, caplog):
    caplog.set_level(logging.WARNING, logger="mt3620.linux")
    dev, app, lines = run_program("misc")
    assert "semget -1 Function not implemented, again -1" in lines
    kernel = dev.os.kernel
    assert kernel.unimplemented["semget"] == 2
    logged = [r.getMessage() for r in caplog.records if "semget" in r.getMessage()]
    assert logged == ["a7: unimplemented syscall semget (299): ENOSYS"]


def test_nonsense_pointers_give_efault_not_a_crash(run_program):
    dev, app, lines = run_program("misc")
    assert "write from 0x10: -1 Bad address" in lines
    assert "read into 0xfffff000: -1 Bad address" in lines
    assert "open of a bad path pointer: -1 Bad address" in lines
    assert app.exit_code == 3 and app.crash is None


def test_uname_random_clock_identity(run_program):
    dev, app, lines = run_program("misc")
    assert "uname Linux armv7l" in lines
    assert "realtime year >= 2024: 1" in lines
    assert "uid 1000" in lines
    again = run_program("misc")[2]
    assert [line for line in lines if line.startswith("random")] == [l for l in again if l.startswith("random")]


def test_static_program_without_interpreter(run_program):
    dev, app, lines = run_program("static_hello", args=["x"], static=True, timeout="5s")
    assert app.exit_code == 5
    assert lines == ["static hello argc 2", "static thread 11"]


def test_realtime_clock_epoch_is_injectable(sysroot):
    from linux_programs import build, pack
    from mt3620.testing.device import Device
    package = pack("misc", build("misc"))
    default = Device.boot(hl=package)
    default.wait_for_exit(timeout="2s")
    assert "realtime 1704067200" in default.lines("a7.misc")           # 2024-01-01T00:00:00Z + milliseconds
    later = Device.boot(hl=package, realtime_epoch_ns=1_893_456_000 * 10**9)
    later.wait_for_exit(timeout="2s")
    assert "realtime 1893456000" in later.lines("a7.misc")            # 2030-01-01T00:00:00Z
