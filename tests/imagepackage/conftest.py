import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

REPO = Path(__file__).resolve().parents[2]


def shared_dir() -> Path:
    env = os.environ.get("MT3620_SHARED_DIR")
    return Path(env) if env else (REPO / ".." / "shared").resolve()


def shared_keys_dir() -> Path:
    return shared_dir() / "keys"


def _provided_sdk_packages() -> list[Path]:
    """Packages built by the real Azure Sphere SDK (for example azure_sphere_blink.imagepackage and
    MutableStorage.imagepackage from Azure/azure-sphere-samples, Manufacturing/.../helpers/images/) are public sample
    data the project does not ship. When a folder <shared>/sdk-packages/ provides some, the SDK-format tests run on
    them as well; the tests never depend on them."""
    folder = shared_dir() / "sdk-packages"
    return sorted(folder.glob("*.imagepackage")) if folder.is_dir() else []


def _project_package(name: str) -> bytes:
    """A high-level app package the project builds the way `azsphere image-package pack-application` does: the
    app's ELF and manifest in an ASXipFS image, signed with the SDK test key (firmware/toolchain.py)."""
    from mt3620.firmware import toolchain
    try:
        toolchain.check_sysroot()
        return toolchain.hl_app_path(name).read_bytes()
    except toolchain.ToolchainError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"high-level app {name} cannot be built: {exc}")
        pytest.skip(f"high-level app {name} cannot be built here: {exc}")


SDK_FORMAT_PACKAGES = [("hl_blink", "project"), ("hl_storage", "project")] + [
    (path.name, "sdk") for path in _provided_sdk_packages()]


@pytest.fixture(params=SDK_FORMAT_PACKAGES, ids=[name for name, _ in SDK_FORMAT_PACKAGES])
def sdk_format_package(request) -> bytes:
    """Each package in the SDK's format: the project's own, and SDK-built ones when provided."""
    name, origin = request.param
    if origin == "project":
        return _project_package(name)
    return (shared_dir() / "sdk-packages" / name).read_bytes()


@pytest.fixture
def sdk_public_key_path() -> Path:
    path = shared_keys_dir() / "azure-sphere-sdk-test-signing-key.pub.pem"
    if not path.is_file():
        pytest.skip(f"SDK test signing public key not found at {path} (set MT3620_SHARED_DIR)")
    return path


@pytest.fixture
def user_key():
    return ec.derive_private_key(0x1234567890ABCDEF, ec.SECP256R1())


@pytest.fixture
def approot(tmp_path: Path) -> Path:
    root = tmp_path / "approot"
    (root / "bin").mkdir(parents=True)
    (root / "app_manifest.json").write_text(
        '{"SchemaVersion":1,"Name":"EmuTest","ComponentId":"1689d8b2-c835-2e27-27ad-e894d6d15fa9",'
        '"EntryPoint":"/bin/app","CmdArgs":[],"Capabilities":{"Gpio":[8]},"ApplicationType":"Default",'
        '"TargetApplicationRuntimeVersion":12}')
    # A tiny ELF header is enough: packaging does not interpret bin/app.
    (root / "bin" / "app").write_bytes(b"\x7fELF\x01\x01\x01" + bytes(range(256)) * 8)
    (root / "bin" / "app").chmod(0o755)
    (root / "data.txt").write_text("resource file\n")
    return root
