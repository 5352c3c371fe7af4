"""qemu-arm as a differential oracle for pure computation through musl (never for syscalls, time or threads:
qemu-user runs on host time and host syscalls). The same static binary must print the same bytes on both."""
import shutil
import subprocess

import pytest

from linux_programs import build

QEMU = shutil.which("qemu-arm")


@pytest.mark.skipif(QEMU is None, reason="qemu-arm (Debian qemu-user) is not installed: bash scripts/setup --test")
@pytest.mark.parametrize("mode", [(), ("-marm",)], ids=["thumb", "arm"])
def test_same_output_as_qemu_arm(run_program, mode):
    elf = build("compute", static=True, extra=mode)
    expected = subprocess.run([QEMU, "-cpu", "cortex-a7", str(elf)], capture_output=True, timeout=60)
    assert expected.returncode == 0, expected.stderr
    dev, app, lines = run_program("compute", static=True, extra=mode)
    assert app.exit_code == 0
    assert "\n".join(lines) + "\n" == expected.stdout.decode()
