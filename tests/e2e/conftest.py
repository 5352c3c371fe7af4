"""Fixtures of the end-to-end tests: a live security service on loopback, on the cloud tests' clock (which
scripts/run-tests moves to AS3's last day in its second pass; docs/cloud.md, "Time")."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cloud"))
from cloud_helpers import Clock  # noqa: E402


@pytest.fixture
def clock():
    """The calendar clock of the service and of every device the test runs."""
    return Clock()


@pytest.fixture
def service(tmp_path, clock):
    pytest.importorskip("aiohttp", reason="the cloud extra is not installed (pip install -e .[cloud])")
    from mt3620.cloud.server import Service

    svc = Service(tmp_path / "cloud", now=clock).start()
    yield svc
    svc.stop()
