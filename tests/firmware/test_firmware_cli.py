"""The firmware through the user's entry points: `mt3620 run` and `mt3620 demo` in a subprocess."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def mt3620(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mt3620", *args], capture_output=True, text=True, timeout=240,
                          cwd=ROOT)


def test_run_two_cores_until_a_line(firmware):
    res = mt3620("run", "--rt0", str(firmware("hello")), "--rt1", str(firmware("fpu")), "--until", "^fpu: done$")
    assert res.returncode == 0, res.stderr
    assert "[io0.io0_uart] hello: done" in res.stdout
    assert "[io1.io1_uart] fpu: dot x 100 = 3225 bits 0x42010000" in res.stdout
    assert "[io1.io1_uart] fpu: done" in res.stdout


def test_run_stops_at_a_guest_fault_by_default(firmware):
    res = mt3620("run", "--rt0", str(firmware("busfault")), "--for", "50ms")
    assert res.returncode != 0
    assert "BusFault" in res.stderr and "0x50000000" in res.stderr and "Traceback" not in res.stderr
    assert "busfault: recovered" not in res.stdout


def test_demo_command_builds_and_boots_the_demo(firmware):
    res = mt3620("demo", "--for", "1.1s", "--press-at", "700ms")
    assert res.returncode == 0, res.stderr
    assert "MT3620 emulator demo: IO core at 197600000 Hz" in res.stdout
    order = [res.stdout.index(f"[io0.io0_uart] {text}\n") for text in ("blink 1", "button A pressed", "blink 2")]
    assert order == sorted(order)
