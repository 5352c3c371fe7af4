"""`mt3620 run` as users meet it: real firmware, exit codes, labelled UART output, bad input."""
from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from mt3620.cli import main

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """The real command line, in a child process, as a user or a CI job runs it."""
    return subprocess.run([sys.executable, "-m", "mt3620", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO)


def test_until_pattern_exits_zero_with_labelled_lines(firmware):
    r = run_cli("run", "--rt0", str(firmware("hello")), "--until", r"hello: done", "--for", "2s")
    assert r.returncode == 0, r.stderr
    assert "[io0.io0_uart] hello: Hello from the MT3620 IO core" in r.stdout
    assert r.stdout.rstrip().endswith("[io0.io0_uart] hello: done")
    assert "Traceback" not in r.stderr


def test_timeout_in_virtual_time_exits_one(firmware):
    r = run_cli("run", "--rt0", str(firmware("hello")), "--until", r"never printed", "--for", "200ms")
    assert r.returncode == 1
    assert "timed out after 0.200000000s of virtual time waiting for /never printed/" in r.stderr


def test_guest_fault_exits_three_with_pc_type_and_address(firmware):
    r = run_cli("run", "--rt0", str(firmware("busfault_unhandled")), "--until", "never", "--for", "1s")
    assert r.returncode == 3, (r.stdout, r.stderr)
    assert "BusFault at PC 0x00" in r.stderr
    assert "accessing 0x50000000" in r.stderr


def test_guest_faults_option_lets_the_firmware_handle_them(firmware):
    r = run_cli("run", "--rt0", str(firmware("busfault")), "--guest-faults", "--until", "busfault: done",
                "--for", "1s")
    assert r.returncode == 0, r.stderr
    assert "busfault: CFSR=0x00008200 BFAR=0x50000000" in r.stdout


def test_two_cores_run_different_apps(firmware):
    r = run_cli("run", "--rt0", str(firmware("hello")), "--rt1", str(firmware("gpt_timer")),
                "--until", "gpt_timer: done", "--for", "3s")
    assert r.returncode == 0, r.stderr
    assert "[io0.io0_uart] hello: done" in r.stdout
    assert "[io1.io1_uart] gpt_timer: tick 5" in r.stdout


def test_uart_log_writes_raw_bytes_per_uart(firmware, tmp_path):
    assert main(["run", "--rt0", str(firmware("hello")), "--until", "hello: done", "--uart-log", str(tmp_path),
                 "--quiet"]) == 0
    log = (tmp_path / "io0.io0_uart.log").read_bytes()
    assert log.startswith(b"hello: Hello from the MT3620 IO core\r\n")


def test_press_button_from_the_command_line(firmware, capsys):
    code = main(["run", "--rt0", str(firmware("blink_button")), "--press", "A@600ms", "--until", "buttons A=0",
                 "--for", "2s"])
    assert code == 0
    assert "blink_button: buttons A=1 B=1" in capsys.readouterr().out


@pytest.mark.parametrize("content, message", [
    (b"", "not an ELF file"),
    (b"\x7fELF" + b"\x01\x01\x01" + b"\0" * 60, "not ARM"),
    (b"just some text, not a program\n" * 4, "not an ELF file"),
])
def test_malformed_elf_gets_one_clear_line(tmp_path, capsys, content, message):
    bad = tmp_path / "bad.elf"
    bad.write_bytes(content)
    assert main(["run", "--rt0", str(bad)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_truncated_elf_is_refused(firmware, tmp_path, capsys):
    data = firmware("hello").read_bytes()
    bad = tmp_path / "truncated.elf"
    bad.write_bytes(data[: len(data) // 3])
    assert main(["run", "--rt0", str(bad)]) == 2
    err = capsys.readouterr().err
    assert ("truncated" in err or "malformed" in err) and "Traceback" not in err


def test_non_arm_elf_is_refused(tmp_path, capsys):
    host = Path(sys.executable).resolve()
    assert main(["run", "--rt0", str(host)]) == 2
    err = capsys.readouterr().err
    assert "not ARM" in err or "64-bit" in err


def _overlapping_elf() -> bytes:
    """Two PT_LOAD segments that overlap in TCM."""
    ehdr = struct.pack("<4sBBBB8xHHIIIIIHHHHHH", b"\x7fELF", 1, 1, 1, 0, 2, 40, 1, 0x00100000, 52, 0, 0x05000400,
                       52, 32, 2, 40, 0, 0)
    body_offset = 52 + 2 * 32
    phdrs = b"".join(struct.pack("<IIIIIIII", 1, body_offset, addr, addr, 16, 16, 5, 4)
                     for addr in (0x00100000, 0x00100008))
    return ehdr + phdrs + b"\0" * 16


def test_overlapping_segments_are_refused(tmp_path, capsys):
    bad = tmp_path / "overlap.elf"
    bad.write_bytes(_overlapping_elf())
    assert main(["run", "--rt0", str(bad)]) == 2
    assert "segments overlap" in capsys.readouterr().err


def test_segment_outside_memory_is_refused(tmp_path, capsys):
    data = bytearray(_overlapping_elf())
    struct.pack_into("<II", data, 52 + 8, 0x40000000, 0x40000000)    # first segment: nothing mapped there
    struct.pack_into("<II", data, 52 + 32 + 8, 0x40001000, 0x40001000)
    bad = tmp_path / "outside.elf"
    bad.write_bytes(bytes(data))
    assert main(["run", "--rt0", str(bad)]) == 2
    assert "outside the memory of io0" in capsys.readouterr().err


def test_missing_file_and_missing_app(capsys):
    assert main(["run", "--rt0", "/nonexistent/app.elf"]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["run"]) == 2
    assert "nothing to run" in capsys.readouterr().err


def test_malformed_platform_reports_file_line_and_column(firmware, tmp_path, capsys):
    bad = tmp_path / "broken.repl"
    bad.write_text("cpu: CPU.CortexM @ sysbus\n    cpuType: \"cortex-m4\"\nuart: @@@ nonsense\n")
    assert main(["run", "--rt0", str(firmware("hello")), "--platform", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:3:" in err and "Traceback" not in err


def _hello_package(firmware, tmp_path) -> Path:
    """The hello firmware packed as a real-time application image package (signed with the SDK test key)."""
    approot = tmp_path / "approot"
    (approot / "bin").mkdir(parents=True)
    shutil.copy(firmware("hello"), approot / "bin" / "app")
    (approot / "app_manifest.json").write_text(json.dumps({
        "SchemaVersion": 1, "Name": "hello", "ComponentId": "6a9a0a9c-6d2d-4bd6-a8c5-0a4f6a7c8e11",
        "EntryPoint": "/bin/app", "CmdArgs": [], "Capabilities": {}, "ApplicationType": "RealTimeCapable"}))
    package = tmp_path / "hello.imagepackage"
    assert main(["image-package", "pack-application", "--input", str(approot), "--output", str(package)]) == 0
    return package


def test_application_image_package_runs(firmware, tmp_path):
    package = _hello_package(firmware, tmp_path)
    r = run_cli("run", "--rt0", str(package), "--until", "hello: done", "--for", "1s")
    assert r.returncode == 0, r.stderr
    assert "hello: Hello from the MT3620 IO core" in r.stdout


def test_image_package_with_a_flipped_bit_in_its_filesystem_is_refused(firmware, tmp_path, capsys):
    data = bytearray(firmware("hello").read_bytes())
    bad = tmp_path / "bad.imagepackage"
    bad.write_bytes(bytes(data))  # an ELF is not an image package
    assert main(["run", "--rt0", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "not a loadable application image package" in err and "Traceback" not in err


def test_verify_refuses_an_untrusted_package_and_accepts_a_trusted_one(firmware, tmp_path, capsys, monkeypatch):
    from cryptography.hazmat.primitives import serialization
    from mt3620.imagepackage import SdkTestSigner

    monkeypatch.setenv("MT3620_KEYSTORE", str(tmp_path / "empty-keystore"))
    package = _hello_package(firmware, tmp_path)
    capsys.readouterr()
    assert main(["run", "--rt0", str(package), "--verify"]) == 2
    assert "signature not verified" in capsys.readouterr().err
    key = tmp_path / "sdk.pem"
    key.write_bytes(SdkTestSigner().public_key.public_bytes(serialization.Encoding.PEM,
                                                            serialization.PublicFormat.SubjectPublicKeyInfo))
    assert main(["run", "--rt0", str(package), "--trusted-key", str(key), "--until", "hello: done"]) == 0
    flipped = bytearray(package.read_bytes())
    flipped[len(flipped) // 2] ^= 0x01
    bad = tmp_path / "flipped.imagepackage"
    bad.write_bytes(bytes(flipped))
    assert main(["run", "--rt0", str(bad), "--trusted-key", str(key)]) == 2
    err = capsys.readouterr().err
    assert "hello.imagepackage" not in err and "flipped.imagepackage" in err and "Traceback" not in err


def test_a_high_level_app_is_refused_with_the_reason(tmp_path, capsys):
    data = bytearray(_overlapping_elf())
    data[16:18] = (3).to_bytes(2, "little")          # ET_DYN: how the SDK links high-level (A7) apps
    app = tmp_path / "hl_app"
    app.write_bytes(bytes(data))
    assert main(["run", "--rt0", str(app)]) == 2
    err = capsys.readouterr().err
    assert "high-level application for the A7" in err and "Traceback" not in err
