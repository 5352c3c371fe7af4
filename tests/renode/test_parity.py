"""The same firmware in both engines, the UART bytes compared: the embedded engine in this process, Renode through
pyrenode3 in a child process (mt3620.testing.renode_backend, so mono never loads into the test process).

Firmware whose output holds no measured time must print the same bytes; firmware that prints a measured time
(GPT counts, microseconds, ISR counts) must print the same bytes once those numbers are masked, and the times must
agree within the tolerance given (Renode's clock events land at its synchronisation points; docs/renode.md)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mt3620.engine.renode import runtime
from renode_required import renode_missing
from mt3620.testing.device import Device

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "firmware" / "build"
RUN_FOR = "1500ms"
EXACT = [("hello", "blink_button"), ("watchdog", "demo"), ("mailbox", "gdb_target")]
# measured values: (pattern of the number, relative tolerance or None when only its presence is compared)
MEASURED = {
    "gpt_timer": [(rb"gpt2 elapsed (\d+) counts", 0.005)],
    "crc32": [(rb"elapsed_us=(\d+)", 0.02)],
    "uart_irq": [(rb"isr_calls=(\d+)", None)],
}
TIMED = [("gpt_timer", "uart_irq"), ("crc32", "hello")]

RENODE = runtime.find()
pytestmark = pytest.mark.usefixtures("renode_runtime")     # skips, or fails under CI, without Renode


def _elf(name: str) -> Path:
    path = FIRMWARE / f"{name}.elf"
    if not path.exists():
        pytest.skip(f"firmware/build/{name}.elf not built (scripts/build_firmware)")
    return path


def _embedded(rt0: str, rt1: str) -> dict[str, bytes]:
    dev = Device.boot(_elf(rt0), _elf(rt1))
    dev.advance(RUN_FOR)
    return {label: bytes(tap.data) for label, tap in dev.machine.uarts.items() if tap.data}


@pytest.fixture(scope="module")
def renode_outputs() -> dict[tuple[str, str], dict[str, bytes]]:
    cases = EXACT + TIMED
    args = [arg for rt0, rt1 in cases for arg in ("--case", f"{_elf(rt0)},{_elf(rt1)}")]
    res = subprocess.run([sys.executable, "-m", "mt3620.testing.renode_backend", *args, "--for", RUN_FOR],
                         capture_output=True, text=True, timeout=900, env=dict(os.environ))
    if res.returncode == 2 and "renode_backend:" in res.stderr:
        renode_missing(res.stderr.strip().splitlines()[-1])
    assert res.returncode == 0, res.stderr[-3000:]
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("{")]
    assert len(lines) == len(cases), res.stdout[-2000:]
    return {case: {k: bytes.fromhex(v) for k, v in json.loads(line).items() if v}
            for case, line in zip(cases, lines)}


@pytest.mark.parametrize("case", EXACT, ids=lambda c: "+".join(c))
def test_same_bytes_on_every_uart(renode_outputs, case):
    embedded, renode = _embedded(*case), renode_outputs[case]
    assert set(renode) == set(embedded)
    for label in embedded:
        assert renode[label] == embedded[label], label
        assert len(embedded[label]) > 20


@pytest.mark.parametrize("case", TIMED, ids=lambda c: "+".join(c))
def test_same_bytes_up_to_measured_times(renode_outputs, case):
    embedded, renode = _embedded(*case), renode_outputs[case]
    assert set(renode) == set(embedded)
    for label in embedded:
        masked = {}
        for engine, data in (("embedded", embedded[label]), ("renode", renode[label])):
            numbers = []
            for name in case:
                for pattern, _ in MEASURED.get(name, []):
                    numbers += [(pattern, int(m.group(1))) for m in re.finditer(pattern, data)]
                    data = re.sub(pattern, lambda m: m.group(0).replace(m.group(1), b"N"), data)
            masked[engine] = (data, numbers)
        assert masked["renode"][0] == masked["embedded"][0], label
        tolerances = {p: t for name in case for p, t in MEASURED.get(name, [])}
        for (pattern, want), (_, got) in zip(masked["embedded"][1], masked["renode"][1]):
            if tolerances[pattern] is not None:
                assert abs(got - want) <= tolerances[pattern] * want, (pattern, want, got)
