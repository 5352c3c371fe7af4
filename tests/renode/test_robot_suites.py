"""Robot suites for renode-test: `robot --dryrun` against the stub of Renode's keywords here; the real run where
Renode is installed."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUITES = ROOT / "tests" / "robot"
STUB = SUITES / "stub" / "renode-keywords.robot"

robot = pytest.importorskip("robot", reason="robotframework is not installed (pip install robotframework)")


def dryrun(*paths: Path, outdir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "robot", "--dryrun", "--variable", f"RENODEKEYWORDS:{STUB}",
                           "--outputdir", str(outdir), "--output", "NONE", "--report", "NONE", "--log", "NONE",
                           *map(str, paths)], capture_output=True, text=True, timeout=120)


def test_suites_pass_dryrun_against_the_keyword_stub(tmp_path):
    suites = sorted(SUITES.glob("*.robot"))
    assert suites
    res = dryrun(*suites, outdir=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert " 0 failed" in res.stdout


@pytest.mark.parametrize("mutation", [
    ("Wait For Log Entry          io0_uart: hello: done", "Wait For Log Entri    io0_uart: hello: done"),
    ("    Create Log Tester           ${LINE_TIMEOUT}", "    Create Log Tester"),
])
def test_dryrun_catches_a_wrong_keyword_or_arity(tmp_path, mutation):
    text = (SUITES / "mt3620.robot").read_text()
    assert mutation[0] in text
    broken = tmp_path / "broken.robot"
    broken.write_text(text.replace(mutation[0], mutation[1]).replace("${CURDIR}/../..", str(ROOT)))
    res = dryrun(broken, outdir=tmp_path)
    assert res.returncode != 0


@pytest.mark.skipif(shutil.which("renode-test") is None,
                    reason="renode-test is not on PATH (Renode is not installed on this machine)")
def test_suites_pass_in_renode(tmp_path):
    res = subprocess.run(["renode-test", "--variable", f"PYTHON:{sys.executable}", "--results-dir", str(tmp_path),
                          str(SUITES / "mt3620.robot")], capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
