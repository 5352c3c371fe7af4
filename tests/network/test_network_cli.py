"""`mt3620 run --wifi-env ... --wifi ...`: the command line joins the environment and the app talks to a real
loopback server; --net-record / --net-replay replay the host's deliveries without the server; bad files are one
line and exit 2."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from net_programs import pack
from servers import TcpEcho


@pytest.fixture(scope="module")
def hl_net_elf(sysroot):
    from mt3620.firmware import toolchain
    toolchain.build_hl_app("hl_net")
    return toolchain.DEFAULT_OUT / "hl_net.elf"


def mt3620(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "mt3620", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=dict(os.environ, PYTHONUNBUFFERED="1"))


def test_run_with_a_wifi_environment_records_and_replays(tmp_path, hl_net_elf):
    server = TcpEcho(prefix=b"echo: ")
    try:
        env = tmp_path / "env.json"
        env.write_text(json.dumps({
            "access_points": [{"ssid": "Lab", "bssid": "02:00:5e:00:00:01", "channel": 6,
                               "security": "wpa2-psk", "passphrase": "correct horse", "network": "lab"}],
            "networks": {"lab": {"hosts": {"echo.example.com": {"tcp": {"7": server.port}}}}}}))
        package = pack("hl_net", hl_net_elf, ["wait-ready", "30", "tcp", "echo.example.com", "7", "from the CLI"],
                       manifest={"Capabilities": {"AllowedConnections": ["echo.example.com"]}})
        record = tmp_path / "net.jsonl"
        first = mt3620("run", "--hl", package, "--wifi-env", env, "--wifi", "Lab:correct horse", "--until",
                       "hl_net: done", "--for", "60s", "--net-record", record)
        assert first.returncode == 0, first.stdout + first.stderr
        assert "[a7.hl_net] tcp reply: echo: from the CLI" in first.stdout
        assert "[a7.os] wifi: connected to 'Lab'" in first.stdout
        kinds = [json.loads(line)["kind"] for line in record.read_text().splitlines()]
        assert kinds[0] == "connect" and "data" in kinds
    finally:
        server.close()
    replay = mt3620("run", "--hl", package, "--wifi-env", env, "--wifi", "Lab:correct horse", "--until",
                    "hl_net: done", "--for", "60s", "--net-replay", record)
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert "[a7.hl_net] tcp reply: echo: from the CLI" in replay.stdout
    strip = [line for line in first.stdout.splitlines() if line.startswith("[a7.hl_net]")]
    assert strip == [line for line in replay.stdout.splitlines() if line.startswith("[a7.hl_net]")]


def test_a_malformed_environment_is_one_line(tmp_path, hl_net_elf):
    env = tmp_path / "env.json"
    env.write_text(json.dumps({"access_points": [{"ssid": "Lab", "bssid": "nope", "channel": 6}]}))
    result = mt3620("run", "--hl", pack("hl_net", hl_net_elf, []), "--wifi-env", env)
    assert result.returncode == 2
    assert result.stderr.strip().endswith("access_points[0].bssid: 'nope' is not a MAC address like "
                                          "02:00:5e:00:00:01")
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
