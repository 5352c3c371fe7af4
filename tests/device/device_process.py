"""`mt3620 device start` as a subprocess for tests: its stdout lines are events, its API URL is read from the line
it prints, and `az(...)` runs `mt3620 azsphere device ...` against it."""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from mt3620.testing.lines import LineLog

MT3620 = [sys.executable, "-c", "import sys; from mt3620.cli import main; sys.exit(main())"]
TIMEOUT = 60.0


class DeviceProcess:
    def __init__(self, state: Path, *extra: str, speed: str = "0") -> None:
        self.state = state
        self.proc = subprocess.Popen([*MT3620, "device", "start", "--state", str(state), "--api-port", "0",
                                      "--speed", speed, "--gdb-base", "0", *extra],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.out = LineLog(self.proc.stdout, timeout=TIMEOUT)
        line = self.out.wait(r"device API on http://|error")
        assert "device API on" in line, line
        self.url = line.split("device API on ")[1].strip()

    def az(self, *args: str, expect: int | None = 0) -> subprocess.CompletedProcess:
        result = subprocess.run([*MT3620, "azsphere", "device", *args, "--device", self.url], capture_output=True,
                                text=True, timeout=TIMEOUT)
        if expect is not None:
            assert result.returncode == expect, (args, result.returncode, result.stdout, result.stderr)
        return result

    def api(self, method: str, path: str, body=None) -> dict:
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        request = urllib.request.Request(self.url + path, data=data, method=method)
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return json.loads(response.read())

    def wait_line(self, pattern: str, timeout: float = TIMEOUT) -> str:
        return self.out.wait(pattern, timeout)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(TIMEOUT)
        self.out.wait_closed()
        return code

    def wait_killed(self) -> int:
        code = self.proc.wait(TIMEOUT)
        self.out.wait_closed()
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(TIMEOUT)
