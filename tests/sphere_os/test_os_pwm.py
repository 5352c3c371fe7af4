"""PWM: PWM_Open / PWM_Apply (inline, as in the SDK) through /dev/pwm<n> to the PWM controller model."""
import pytest

from os_programs import pack_c


def test_pwm_apply_programs_the_controller(sysroot, tmp_path):
    from mt3620.testing.device import Device
    dev = Device.boot(hl=pack_c("pwm_apply", {"Pwm": ["PWM-CONTROLLER-2"]}, tmp_path))
    dev.wait_for_line("apply: 0", timeout="1s", uart="a7.pwm_apply")
    pwm = dev.machine.devices["pwm2"]
    assert pwm.running(1)
    assert pwm.frequency_hz(1) == pytest.approx(50_000, rel=0.01)
    assert pwm.duty_cycle(1) == pytest.approx(0.25, abs=0.01)
    assert dev.wait_for_exit(timeout="1s") == 0
    assert not pwm.running(1)
    assert dev.lines("a7.pwm_apply") == ["controller 0: Permission denied", "apply: 0",
                                         "duty > period: Invalid argument", "channel 7: No such device",
                                         "disable: 0"]
