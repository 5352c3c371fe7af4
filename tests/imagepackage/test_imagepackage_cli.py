import json

import pytest
from cryptography.hazmat.primitives import serialization

from mt3620.cli import main
from mt3620.imagepackage import parse


@pytest.fixture(autouse=True)
def keystore_env(tmp_path, monkeypatch):
    monkeypatch.setenv("MT3620_KEYSTORE", str(tmp_path / "keystore"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")


def write_key(tmp_path, key):
    priv = tmp_path / "signing.pem"
    priv.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    pub = tmp_path / "signing.pub.pem"
    pub.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo))
    return priv, pub


def test_pack_then_show_with_trusted_key(tmp_path, approot, user_key, capsys):
    priv, pub = write_key(tmp_path, user_key)
    out = tmp_path / "x.imagepackage"
    assert main(["image-package", "pack-application", "--input", str(approot), "--output", str(out),
                 "--signing-key", str(priv)]) == 0
    assert parse(out.read_bytes()).metadata.debug.build_time == 1700000000
    capsys.readouterr()
    assert main(["image-package", "show", str(out)]) == 1          # empty keystore
    assert "no-trusted-keys" in capsys.readouterr().out
    assert main(["image-package", "show", str(out), "--trusted-key", str(pub)]) == 0
    text = capsys.readouterr().out
    assert "Verification: OK" in text and "EmuTest" in text and "1689d8b2-c835-2e27-27ad-e894d6d15fa9" in text
    assert main(["image-package", "trust-key", str(pub)]) == 0
    assert main(["image-package", "show", "--image-package", str(out)]) == 0


def test_show_sdk_format_package_after_trusting_sdk_key(sdk_public_key_path, sdk_format_package, tmp_path, capsys):
    assert main(["image-package", "trust-key", str(sdk_public_key_path), "--thumbprint",
                 "a8d5cc6958f48710140d7a26160fc1cfc31f5df0"]) == 0
    package = tmp_path / "app.imagepackage"
    package.write_bytes(sdk_format_package)
    assert main(["image-package", "show", str(package)]) == 0
    assert "thumbprint match" in capsys.readouterr().out


def test_default_signer_is_sdk_test_key(tmp_path, approot, sdk_public_key_path, capsys):
    out = tmp_path / "sdk.imagepackage"
    assert main(["image-package", "pack-application", "-i", str(approot), "-o", str(out)]) == 0
    assert main(["image-package", "show", str(out), "--trusted-key", str(sdk_public_key_path)]) == 0


def test_bad_inputs_fail_cleanly(tmp_path, approot, user_key, capsys):
    priv, pub = write_key(tmp_path, user_key)
    out = tmp_path / "x.imagepackage"
    main(["image-package", "pack-application", "-i", str(approot), "-o", str(out), "--signing-key", str(priv)])
    data = bytearray(out.read_bytes())
    data[100] ^= 0x10
    tampered = tmp_path / "t.imagepackage"
    tampered.write_bytes(bytes(data))
    capsys.readouterr()
    assert main(["image-package", "show", str(tampered), "--trusted-key", str(pub)]) == 1
    assert "FAILED" in capsys.readouterr().out
    junk = tmp_path / "junk"
    junk.write_bytes(b"not a package at all" * 5)
    assert main(["image-package", "show", str(junk)]) == 1
    assert "malformed" in capsys.readouterr().out
    assert main(["image-package", "show", str(tmp_path / "missing")]) == 2
    assert main(["image-package", "show", str(out), "--trusted-key", str(junk)]) == 2
    assert main(["image-package", "pack-application", "-i", str(tmp_path / "nope"), "-o", str(out)]) == 2
    (approot / "app_manifest.json").write_text(json.dumps({"ComponentId": "not-a-guid", "EntryPoint": "/bin/app"}))
    assert main(["image-package", "pack-application", "-i", str(approot), "-o", str(out)]) == 2
    assert main(["image-package", "pack-application", "-i", str(approot), "-o", str(out), "--signing-key",
                 str(pub)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "ComponentId" in err
