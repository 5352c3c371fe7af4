"""GPIO and EventLoop: firmware/hl_blink blinks LED 1 red from an EventLoop timer, polls button A, and is refused a
GPIO its manifest does not list (EACCES)."""
from mt3620.testing.device import Device


def _level_changes(dev, pin, steps, step="50ms"):
    levels = []
    for _ in range(steps):
        dev.advance(step)
        levels.append(dev.gpio(pin))
    return levels


def test_led_blinks_at_the_timer_period_and_the_button_changes_it(boot, hl_app):
    dev = boot(hl=hl_app("hl_blink"))
    dev.wait_for_line("blinking every 500 ms", timeout="1s", uart="a7.hl_blink")
    assert dev.lines("a7.hl_blink")[:2] == ["hl_blink: starting", "hl_blink: GPIO 9: Permission denied"]
    start = dev.now
    levels = _level_changes(dev, 8, 40)            # 2 s in 50 ms steps
    flips = sum(1 for a, b in zip(levels, levels[1:]) if a != b)
    assert flips in (3, 4), levels                  # every 500 ms
    assert dev.gpio(9) is None                      # the refused pin stayed an input
    dev.press("A")
    dev.wait_for_line("button A pressed: blink period 250 ms", timeout="100ms", uart="a7.hl_blink")
    dev.release("A")
    levels = _level_changes(dev, 8, 40)
    flips = sum(1 for a, b in zip(levels, levels[1:]) if a != b)
    assert flips in (7, 8), levels                  # every 250 ms
    assert dev.now - start >= 4 * 10**12


def test_the_led_follows_the_gpio_and_the_app_ends_after_n_changes(sysroot, tmp_path):
    import json
    import shutil

    from mt3620.firmware import toolchain
    from mt3620.imagepackage import SdkTestSigner, build_application
    elf = toolchain.build_program(toolchain.DEFAULT_OUT / "hl_blink.elf",
                                  sorted((toolchain.FIRMWARE_DIR / "hl_blink").glob("*.c")))
    root = tmp_path / "approot"
    (root / "bin").mkdir(parents=True)
    shutil.copyfile(elf, root / "bin" / "app")
    manifest = json.loads((toolchain.FIRMWARE_DIR / "hl_blink" / "app_manifest.json").read_text())
    manifest["CmdArgs"] = ["4"]
    (root / "app_manifest.json").write_text(json.dumps(manifest))
    package = tmp_path / "blink4.imagepackage"
    package.write_bytes(build_application(root, SdkTestSigner(), build_time=0))
    dev = Device.boot(hl=package)
    dev.wait_for_line("blinking", timeout="1s", uart="a7.hl_blink")
    lit = []
    for _ in range(4):
        dev.advance("500ms")
        lit.append(dev.led("LED1_R"))
    assert dev.wait_for_exit(timeout="1s") == 0
    assert "hl_blink: 4 LED changes, done" in dev.lines("a7.hl_blink")
    assert lit in ([True, False, True, False], [False, True, False, True])


def test_a_gpio_not_in_the_manifest_is_eacces_and_a_held_line_is_ebusy(run_c):
    lines = run_c("gpio_errors", {"Gpio": [8, 12]})
    assert lines == [
        "open 9: -1 Permission denied",
        "open 8: ok",
        "again 8: -1 Resource busy",
        "set input: -1 Operation not permitted",
        "after close 8: ok",
        "open 200: -1 Permission denied",
        "linehandle NULL: -1 Bad address",
        "unknown ioctl: -1 Not a tty",
        "lineinfo 500: -1 Invalid argument",
    ]
