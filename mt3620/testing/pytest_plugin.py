"""pytest fixtures for firmware tests (registered as the `mt3620` pytest plugin by the distribution).

    def test_hello(boot, firmware):
        dev = boot(rt0=firmware("hello"))
        dev.wait_for_line(r"hello: done", timeout="1s")

Fixtures:
- `firmware(name)`: path of one of the project's firmware ELFs, built on demand (mt3620.firmware.toolchain); one
  that cannot be built skips the test, or fails it under CI=true.
- `sysroot`: the A7 sysroot (Debian's musl:armhf plus the project's libapplibs, `scripts/build_firmware
  --sysroot`). Missing, it skips the test with the command to run; under CI=true (CI installs it, scripts/setup)
  it fails the test with the reason (`require_sysroot`).
- `hl_app(name)`: path of one of the project's high-level app packages (firmware/hl_<name>/), built on demand;
  needs the sysroot as `sysroot` does.
- `boot(rt0=..., rt1=..., hl=..., stop_on_fault=False)`: a booted device with the given apps loaded directly (no
  firewalls; RTApps on the IO cores, a high-level app package on the A7), on the engine chosen with
  `--mt3620-engine` (or $MT3620_ENGINE): `embedded` (default, mt3620.testing.device.Device) or `renode` (a real
  Renode through pyrenode3, mt3620.testing.renode_backend.RenodeDevice, IO cores only). The same test runs on either.
- `rt_package(name)`: the project's RTApp as a signed .imagepackage with its app_manifest.json.
- `sideload(*packages)`: a `Device` on an emulated board (embedded engine) with the packages sideloaded as the
  device does it (checks, flash, Pluton, firewalls programmed from the manifests); `dev.board` is the
  EmulatedDevice.
"""
from __future__ import annotations

import os
import shutil

import pytest

from .device import Device

ENGINES = ("embedded", "renode")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mt3620")
    group.addoption("--mt3620-engine", choices=ENGINES, default=os.environ.get("MT3620_ENGINE") or "embedded",
                    help="engine the `boot` fixture boots devices on: the embedded engine, or Renode through "
                         "pyrenode3 (the `renode` extra); default $MT3620_ENGINE or embedded")


def pytest_report_header(config: pytest.Config) -> str | None:
    engine = config.getoption("--mt3620-engine")
    return f"mt3620 engine: {engine}" if engine != "embedded" else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On Renode, a test whose output is known to differ from the embedded engine's is an expected failure with
    the reason (strict, except where the outcome varies from run to run: one that starts passing fails, so the list
    stays true)."""
    if config.getoption("--mt3620-engine") != "renode":
        return
    from .renode_backend import KNOWN_DIFFERENCES, VARYING
    for item in items:
        if not {"boot", "mt3620_engine"} & set(getattr(item, "fixturenames", ())):
            continue                                # a test that does not boot a device on the chosen engine
        name = getattr(item, "originalname", item.name)
        reason = KNOWN_DIFFERENCES.get(name)
        if reason:
            item.add_marker(pytest.mark.xfail(reason=f"Renode differs: {reason}", strict=name not in VARYING))


@pytest.fixture(scope="session")
def mt3620_engine(pytestconfig: pytest.Config) -> str:
    """The engine `boot` uses: "embedded" or "renode"."""
    return pytestconfig.getoption("--mt3620-engine")


@pytest.fixture
def boot(mt3620_engine):
    devices: list = []
    if mt3620_engine == "renode":
        from .renode_backend import RenodeDevice, RenodeUnavailable
        try:
            RenodeDevice.session()
        except RenodeUnavailable as exc:
            if os.environ.get("CI") == "true":     # CI gives ../shared's Renode what it needs (scripts/setup --test)
                pytest.fail(f"--mt3620-engine=renode: {exc}")
            pytest.skip(f"--mt3620-engine=renode: {exc}")
        factory = RenodeDevice.boot
    else:
        factory = Device.boot

    def _boot(rt0=None, rt1=None, **kwargs):
        dev = factory(rt0, rt1, **kwargs)
        devices.append(dev)
        return dev

    yield _boot
    for dev in devices:
        close = getattr(dev, "close", None)
        if close is not None:
            close()


def _cannot(what: str, verb: str, reason) -> None:
    """`what` cannot `verb` (a firmware be built, an A7 app run) for `reason`, which names the command to run. Under
    CI=true (CI installs the toolchain and the sysroot, scripts/setup) the test fails with it; elsewhere it is
    skipped."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} cannot {verb}: {reason}", pytrace=False)
    pytest.skip(f"{what} cannot {verb} here: {reason}")


@pytest.fixture(scope="session")
def firmware():
    from mt3620.firmware import toolchain

    def _path(name: str):
        try:
            return toolchain.firmware_path(name)
        except toolchain.ToolchainError as exc:
            _cannot(f"firmware {name}", "be built", exc)

    return _path


@pytest.fixture
def sideload():
    """`sideload(*packages)`: a `Device` on an emulated board with the packages sideloaded in order (RTApps on IO
    core 0, then 1), through the device's app manager, flash, Pluton and firewalls (Device.sideload)."""
    devices: list[Device] = []

    def _sideload(*packages, **kwargs) -> Device:
        dev = Device.sideload(*packages, **kwargs)
        devices.append(dev)
        return dev

    yield _sideload
    for dev in devices:
        dev.board.close()


@pytest.fixture(scope="session")
def rt_package():
    """`rt_package(name)`: the project's RTApp `name` as a signed, sideloadable .imagepackage (its ELF and
    firmware/<name>/app_manifest.json), built on demand."""
    from mt3620.firmware import toolchain

    def _path(name: str):
        try:
            return toolchain.firmware_package(name)
        except toolchain.ToolchainError as exc:
            _cannot(f"firmware {name}", "be built", exc)

    return _path


def require_sysroot(what: str = "the A7 tests"):
    """The A7 sysroot's folder; missing, the test fails under CI=true and is skipped elsewhere (`_cannot`)."""
    from mt3620.firmware import toolchain
    try:
        return toolchain.check_sysroot()
    except toolchain.ToolchainError as exc:
        _cannot(what, "run", exc)


def require_compiler(what: str = "the firmware tests"):
    """The firmware compiler; missing, the test fails under CI=true and is skipped elsewhere (`_cannot`)."""
    from mt3620.firmware import toolchain
    try:
        return toolchain.find_compiler()
    except toolchain.ToolchainError as exc:
        _cannot(what, "run", exc)


def require_program(name: str, install: str, what: str = "this test") -> str:
    """The path of the host program `name` (qemu-system-arm, gdb-multiarch...); missing, the test fails under
    CI=true and is skipped elsewhere (`_cannot`), naming the command that installs it."""
    path = shutil.which(name)
    if path is None:
        _cannot(what, "run", f"{name} is not installed: {install}")
    return path


@pytest.fixture(scope="session")
def sysroot():
    return require_sysroot()


@pytest.fixture(scope="session")
def hl_app():
    from mt3620.firmware import toolchain

    def _path(name: str):
        require_sysroot(f"high-level app {name}")
        try:
            return toolchain.hl_app_path(name)
        except toolchain.ToolchainError as exc:
            _cannot(f"high-level app {name}", "run", exc)

    return _path
