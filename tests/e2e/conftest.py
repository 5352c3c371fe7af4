"""Fixtures of the end-to-end tests: a live security service on loopback."""
import pytest


@pytest.fixture
def service(tmp_path):
    pytest.importorskip("werkzeug", reason="the cloud extra is not installed (pip install -e .[cloud])")
    from mt3620.cloud.server import Service

    svc = Service(tmp_path / "cloud").start()
    yield svc
    svc.stop()
