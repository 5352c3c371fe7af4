"""Every test of the IO core's exception model runs twice: on the native path (engine/cortex_m/native/exceptions.c)
and on the Python reference path (MT3620_PYTHON_EXCEPTIONS=1), so both are pinned to the architecture by the same
tests. Where the native library cannot be built both runs take the Python path."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, params=["native", "python"])
def exception_path(request, monkeypatch) -> str:
    if request.param == "python":
        monkeypatch.setenv("MT3620_PYTHON_EXCEPTIONS", "1")
    else:
        monkeypatch.delenv("MT3620_PYTHON_EXCEPTIONS", raising=False)
    return request.param
