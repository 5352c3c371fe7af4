"""Every test of the IO core's exception model runs twice: on the native path (engine/cortex_m/native/exceptions.c)
and on the Python reference path (MT3620_PYTHON_EXCEPTIONS=1), so both are pinned to the architecture by the same
tests. Where the native library cannot be built both runs take the Python path.

A test that compares the two paths itself (it asks for the `both_paths` fixture, test_engine_native_path.py) or does
not depend on the path (marked `one_path`) runs once."""
from __future__ import annotations

import pytest
from m4_harness import set_switch

PATHS = ("native", "python")


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "one_path: the test does not depend on the exception path: run it once")


def pytest_generate_tests(metafunc) -> None:
    if "both_paths" in metafunc.fixturenames or metafunc.definition.get_closest_marker("one_path"):
        return
    metafunc.parametrize("exception_path", PATHS, indirect=True)


@pytest.fixture(autouse=True)
def exception_path(request, monkeypatch) -> str | None:
    """The path this run of the test takes ("native" or "python"); None for a test that runs once and chooses."""
    path = getattr(request, "param", None)
    if path is not None:
        set_switch(monkeypatch, "MT3620_PYTHON_EXCEPTIONS", path == "python")
    return path
