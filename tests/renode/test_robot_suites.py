"""The Robot suites of tests/robot run by the real `renode-test` (Renode's own keywords, not a stub), all three in
one run: the second and third suites start on machines of their own at t = 0 in the same Renode.

Renode is found by mt3620.engine.renode.runtime ($MT3620_RENODE, ../shared/renode-1.16.1, or PATH); renode-test
runs `python3` from PATH with Renode's test requirements, which scripts/setup --test installs into
build/renode-test-venv."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mt3620.engine.renode import runtime

from renode_required import renode_missing

ROOT = Path(__file__).resolve().parents[2]
SUITES = ROOT / "tests" / "robot"
TEST_VENV = ROOT / "build" / "renode-test-venv"
RENODE = runtime.find()

pytestmark = pytest.mark.usefixtures("renode_runtime")     # skips, or fails under CI, without Renode


def renode_test_env(tmpdir: Path) -> dict[str, str]:
    if RENODE.renode_test is None:
        renode_missing(f"the Renode at {RENODE.root} has no renode-test")
    env = RENODE.env(tmpdir)
    if (TEST_VENV / "bin" / "python3").exists():
        env["PATH"] = f"{TEST_VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    probe = subprocess.run(["python3", "-c", "import robot, psutil, yaml"], env=env, capture_output=True, text=True)
    if probe.returncode != 0:
        renode_missing("renode-test's Python packages are missing (bash scripts/setup --test installs them into "
                    "build/renode-test-venv)")
    return env


def test_suites_pass_in_the_real_renode_test(tmp_path):
    suites = sorted(SUITES.glob("*.robot"))
    assert len(suites) >= 3
    env = renode_test_env(tmp_path / "tmp")
    (tmp_path / "tmp").mkdir(exist_ok=True)
    res = subprocess.run([str(RENODE.renode_test), "--variable", f"PYTHON:{sys.executable}",
                          "-r", str(tmp_path / "results"), *map(str, suites)],
                         capture_output=True, text=True, timeout=1200, env=env, cwd=tmp_path,
                         stdin=subprocess.DEVNULL)
    report = res.stdout[-6000:] + res.stderr[-2000:]
    assert res.returncode == 0, report
    finished = [ln for ln in res.stdout.splitlines() if "Finished test" in ln]
    assert len(finished) >= 7 and all("OK" in ln for ln in finished), report
    assert "Tests finished successfully" in res.stdout, report
