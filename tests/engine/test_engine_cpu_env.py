"""The native exception path's direct access to Unicorn's register file (engine/cpu/native/cpu_env.h).

The register file is located at run time and verified through Unicorn's API; the native path then moves the frame
registers, d0-d7, the PC and the mask reads in place. These tests check the location (values written either way are
seen the other way) and pin the in-place path against the API path on every project firmware: same instruction
counts, times, registers, memory and UART bytes (the API path is itself pinned against the Python reference in
test_engine_native_path.py)."""
from __future__ import annotations

import ctypes

import pytest
from unicorn.arm_const import UC_ARM_REG_D5
from m4_harness import set_switch
from test_engine_native_path import _rtapps, run_firmware

from mt3620.engine.cortex_m.native import cortex_m_library

pytestmark = pytest.mark.one_path


def _native_core():
    from mt3620.engine.machine import Machine
    from mt3620.firmware.toolchain import firmware_path
    m = Machine()
    m.load("io0", firmware_path("hello"))
    core = m.cores["io0"]
    if core._native is None:
        if cortex_m_library() is not None:
            pytest.fail("the native IO-core library built but the core does not use it")
        pytest.skip("no C compiler here: the Python path runs")
    return core


def test_the_register_file_is_found_and_agrees_with_the_api(monkeypatch):
    monkeypatch.delenv("MT3620_PYTHON_EXCEPTIONS", raising=False)
    monkeypatch.delenv("MT3620_NO_DIRECT_REGS", raising=False)
    core = _native_core()
    env = core._native.s.env
    assert env.found == 1 and env.primask and env.faultmask and env.basepri
    regs = (ctypes.c_uint32 * 16).from_address(env.regs)
    for i, value in enumerate((0x01234567, 0x89ABCDEF, 0xDEADBEEF, 0x0BADF00D)):
        core.set_reg(f"r{i}", value)
        assert regs[i] == value                    # the API's write is seen in place
        regs[i] = value ^ 0xFFFFFFFF
        assert core.reg(f"r{i}") == value ^ 0xFFFFFFFF   # and the other way round
    core.set_reg("basepri", 0xA0)
    assert ctypes.c_uint32.from_address(env.basepri).value == 0xA0
    core.set_reg("primask", 1)
    assert ctypes.c_uint32.from_address(env.primask).value == 1
    d5 = ctypes.c_uint64.from_address(env.d0 + 2 * env.d_stride + 8)   # d5: vector register 2, upper half
    core.uc.reg_write(UC_ARM_REG_D5, 0x1122334455667788)
    assert d5.value == 0x1122334455667788


def test_without_the_register_file_the_api_is_used(monkeypatch):
    monkeypatch.delenv("MT3620_PYTHON_EXCEPTIONS", raising=False)
    monkeypatch.setenv("MT3620_NO_DIRECT_REGS", "1")
    core = _native_core()
    assert core._native.s.env.found == 0 and core._native.stats()["direct_regs"] == 0


@pytest.mark.parametrize("name", _rtapps())
def test_every_firmware_is_identical_in_place_and_through_the_api(monkeypatch, name):
    monkeypatch.delenv("MT3620_PYTHON_EXCEPTIONS", raising=False)
    results = {}
    for mode in ("in place", "api"):
        set_switch(monkeypatch, "MT3620_NO_DIRECT_REGS", mode == "api")
        results[mode] = run_firmware(name)
    (direct, direct_stats), (api, api_stats) = results["in place"], results["api"]
    assert direct == api
    assert direct_stats["direct_regs"] == 1 and api_stats["direct_regs"] == 0
    for key in ("entries", "returns", "tail_chains", "bails"):
        assert direct_stats[key] == api_stats[key]
