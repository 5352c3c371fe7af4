"""The project's high-level hello app (firmware/hl_hello) on the A7 of a real Machine, through pytest's `boot`."""


def test_log_debug_lines_are_labelled_with_the_app_name(boot, hl_app):
    dev = boot(hl=hl_app("hl_hello"))
    dev.wait_for_line(r"hl_hello: Hello from the A7", timeout="1s")
    assert dev.wait_for_exit(timeout="1s") == 7
    assert dev.lines("a7.hl_hello") == [
        "hl_hello: Hello from the A7", "hl_hello: arg 1 = first", "hl_hello: arg 2 = second",
        "hl_hello: sqrt(2) = 1.414214", "hl_hello: thread says hi", "hl_hello: slept 20 ms", "hl_hello: done"]
    assert dev.lines("a7.os") == ["app hl_hello exited with status 7"]


def test_wait_for_line_on_one_label(boot, hl_app):
    dev = boot(hl=hl_app("hl_hello"))
    match = dev.wait_for_line(r"slept (\d+) ms", timeout="1s", uart="a7.hl_hello")
    assert match.group(1) == "20"
    # the 20 ms sleep is virtual time: the app finished after about 20 ms of it
    assert 20 * 10**9 <= dev.now < 30 * 10**9


def test_package_contents_and_process_layout(boot, hl_app):
    dev = boot(hl=hl_app("hl_hello"))
    app = dev.app
    assert app.manifest.entry_point == "/bin/app" and app.manifest.cmd_args == ("first", "second")
    process = app.process
    dev.wait_for_line("Hello from the A7", timeout="1s")     # the dynamic loader has mapped the libraries
    names = {v.name for v in process.memory.vmas}
    assert f"/mnt/apps/{app.component_id}/bin/app" in names
    assert "/lib/ld-musl-armhf.so.1" in names and "/usr/lib/libapplibs.so.0" in names
    dev.wait_for_exit(timeout="1s")


def test_stop_and_launch_again(boot, hl_app, sysroot):
    """The OS can stop an app (SIGKILL, as `azsphere device app stop`) and start one again on the same A7."""
    dev = boot(hl=hl_app("hl_hello"))
    dev.wait_for_line("Hello from the A7", timeout="1s")
    dev.os.stop()
    assert not dev.app.running and dev.app.term_signal == 9
    first = dev.app
    again = dev.launch(hl_app("hl_hello"))
    assert again is not first and again.process.pid != first.process.pid
    assert dev.wait_for_exit(timeout="1s") == 7
    assert dev.lines("a7.os") == ["app hl_hello killed by SIGKILL", "app hl_hello exited with status 7"]
    assert dev.lines("a7.hl_hello").count("hl_hello: Hello from the A7") == 2
