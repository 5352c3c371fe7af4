import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).resolve().parents[2]


def shared_keys_dir() -> Path:
    env = os.environ.get("MT3620_SHARED_DIR")
    return (Path(env) / "keys") if env else (REPO / ".." / "shared" / "keys").resolve()


@pytest.fixture
def sdk_public_key_path() -> Path:
    path = shared_keys_dir() / "azure-sphere-sdk-test-signing-key.pub.pem"
    if not path.is_file():
        pytest.skip(f"SDK test signing public key not found at {path} (set MT3620_SHARED_DIR)")
    return path


@pytest.fixture
def sdk_blink() -> bytes:
    return (DATA / "azure_sphere_blink.imagepackage").read_bytes()


@pytest.fixture
def sdk_mutable_storage() -> bytes:
    return (DATA / "MutableStorage.imagepackage").read_bytes()


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
