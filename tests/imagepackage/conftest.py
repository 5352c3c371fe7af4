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


def _sdk_package(name: str) -> bytes:
    """Packages built by the real Azure Sphere SDK are public sample data the project does not ship; the tests use
    them when they are provided under <shared>/sdk-packages/ (for example azure_sphere_blink.imagepackage and
    MutableStorage.imagepackage from Azure/azure-sphere-samples, Manufacturing/.../helpers/images/)."""
    path = shared_dir() / "sdk-packages" / name
    if not path.is_file():
        pytest.skip(f"SDK-built package {name} not provided at {path} (the project ships no third-party "
                    f"packages; set MT3620_SHARED_DIR to a folder with sdk-packages/)")
    return path.read_bytes()


@pytest.fixture
def sdk_public_key_path() -> Path:
    path = shared_keys_dir() / "azure-sphere-sdk-test-signing-key.pub.pem"
    if not path.is_file():
        pytest.skip(f"SDK test signing public key not found at {path} (set MT3620_SHARED_DIR)")
    return path


@pytest.fixture
def sdk_blink() -> bytes:
    return _sdk_package("azure_sphere_blink.imagepackage")


@pytest.fixture
def sdk_mutable_storage() -> bytes:
    return _sdk_package("MutableStorage.imagepackage")


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
