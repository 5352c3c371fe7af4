"""docs/cloud.md's walkthrough, run exactly as written (the block between its walkthrough markers, in bash): from
the project's firmware to an emulated device running its deployment. A command in the docs that does not work when
pasted fails here."""
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytest.importorskip("aiohttp", reason="the cloud extra is not installed (pip install -e .[cloud])")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def walkthrough() -> str:
    text = (REPO / "docs" / "cloud.md").read_text()
    block = re.search(r"<!-- walkthrough -->\n```bash\n(.*?)```\n<!-- /walkthrough -->", text, re.S)
    assert block, "docs/cloud.md has no walkthrough block"
    return block.group(1)


@pytest.mark.skipif(not shutil.which("curl"), reason="curl is not installed (scripts/setup --test)")
def test_the_walkthrough_works_as_pasted(tmp_path):
    env = dict(os.environ, DEMO=str(tmp_path / "demo"), MGMT=str(_free_port()), DEV=str(_free_port()),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
               XDG_STATE_HOME=str(tmp_path / "state"), HOME=str(tmp_path / "home"))
    env.pop("MT3620_CLOUD_DATA", None)
    script = "set -euo pipefail\n" + walkthrough()
    run = subprocess.run(["bash", "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, (run.stdout[-3000:], run.stderr[-3000:])
    assert "registered 1 device(s); 0 refused" in run.stdout
    assert "attestation passed" in run.stdout and "installed hello" in run.stdout
    assert "hello: Hello from the MT3620 IO core" in run.stdout
    assert run.stdout.rstrip().endswith("up-to-date: the device has every image of its group's current deployment")
