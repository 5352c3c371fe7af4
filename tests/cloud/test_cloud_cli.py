"""The azsphere-shaped CLI against a live service, in-process through the `mt3620` dispatcher."""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import pkcs7

from mt3620.cli import main
from mt3620.as3.device_client import DeviceKeys

from cloud_helpers import Mgmt, device, make_package, register


@pytest.fixture
def az(service, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MT3620_AZSPHERE_CONFIG", str(tmp_path / "azsphere.json"))
    monkeypatch.delenv("MT3620_CLOUD_URL", raising=False)
    monkeypatch.delenv("MT3620_CLOUD_TOKEN", raising=False)

    def run(*argv, ok=True):
        capsys.readouterr()
        code = main(["azsphere", *argv])
        out = capsys.readouterr()
        if ok:
            assert code == 0, out.err
        return code, out.out, out.err
    run("login", "--url", service.mgmt_url, "--token-file", str(service.data_dir / "admin.token"))
    return run


def js(text):
    return json.loads(text)


def test_full_management_flow(az, service, tmp_path, root_pem, clock):
    tenant = js(az("tenant", "create", "--name", "Contoso", "-o", "json")[1])
    assert js(az("tenant", "list", "-o", "json")[1])[0]["Id"] == tenant["Id"]
    az("tenant", "select", "--tenant", "Contoso")
    js(az("product", "create", "--name", "Lamp", "-o", "json")[1])
    groups = js(az("device-group", "list", "--product", "Lamp", "-o", "json")[1])
    assert len(groups) == 5
    custom = js(az("device-group", "create", "--product", "Lamp", "--name", "Canary", "--os-feed", "RetailEval",
                   "-o", "json")[1])
    assert custom["OsFeedType"] == 1
    az("device-group", "update", "--device-group", "Lamp/Canary", "--update-policy", "No3rdPartyAppUpdates")
    assert js(az("device-group", "show", "--device-group", custom["Id"], "-o", "json")[1])["UpdatePolicy"] == 1

    keys = DeviceKeys()
    listed = [DeviceKeys() for _ in range(3)]
    register(Mgmt(service.mgmt_url, service.admin_token), keys, *listed)
    az("device", "claim", "--device", keys.device_id, "--attestation-key", keys.attestation_public_hex,
       "--device-group", "Lamp/Field Test")
    code, out, err = az("device", "claim", "--device", keys.device_id, ok=False)
    assert code == 2 and "DeviceAlreadyClaimed" in err and "Traceback" not in err
    bulk = tmp_path / "devices.txt"
    bulk.write_text("\n".join(k.device_id for k in listed) + "\n# comment\n")
    assert "claimed 3 device(s)" in az("device", "claim", "--device-id-file", str(bulk))[1]
    assert len(js(az("device", "list", "-o", "json")[1])) == 4
    az("device", "update", "--device", keys.device_id, "--device-group", "Lamp/Production")
    assert js(az("device", "show", "--device", keys.device_id)[1])["DeviceGroupId"] == \
        next(g["Id"] for g in groups if g["Name"] == "Production")

    pkg, comp, image = make_package(name="lamp")
    (tmp_path / "lamp.imagepackage").write_bytes(pkg)
    shown = js(az("image", "add", "--image", str(tmp_path / "lamp.imagepackage"), "-o", "json")[1])
    assert shown["Id"] == image and shown["Name"] == "lamp"
    assert js(az("image", "show", "--image", image, "-o", "json")[1])["ComponentId"] == comp
    (tmp_path / "bad.imagepackage").write_bytes(b"junk" * 50)
    code, _, err = az("image", "add", "--image", str(tmp_path / "bad.imagepackage"), ok=False)
    assert code == 2 and "operation failed" in err

    first = js(az("deployment", "create", "--device-group", "Lamp/Production", "--images", image, "-o", "json")[1])
    pkg2, _, image2 = make_package(name="lamp2", component=__import__("uuid").UUID(comp))
    (tmp_path / "lamp2.imagepackage").write_bytes(pkg2)
    az("image", "add", "--image", str(tmp_path / "lamp2.imagepackage"))
    az("deployment", "create", "--device-group", "Lamp/Production", "--images", image2)
    az("deployment", "create", "--device-group", "Lamp/Production", "--from-deployment", first["Id"])
    history = js(az("deployment", "list", "--device-group", "Lamp/Production", "-o", "json")[1])
    assert [h["DeployedImages"] for h in history] == [[image], [image2], [image]] and history[0]["Current"]

    dev = device(service, root_pem, keys)
    dev.attest()
    dev.update_check({})
    assert "update-pending" in az("device", "update-status", "--device", keys.device_id)[1]
    answer = dev.upload_errors([{"EventTime": clock.iso(days=-2), "EventClass": "AppExit", "Description": "boom"}])
    assert answer == {"Accepted": 1, "Dropped": []}

    report = tmp_path / "errors.csv"
    assert "1 event(s)" in az("tenant", "download-error-report", "--destination", str(report))[1]
    assert report.read_text().splitlines()[1].startswith(keys.device_id)

    assert "Active" in az("ca-certificate", "list")[1]
    az("ca-certificate", "download", "--destination", str(tmp_path / "ca.cer"))
    az("ca-certificate", "download-chain", "--destination", str(tmp_path / "chain.p7b"))
    assert len(pkcs7.load_der_pkcs7_certificates((tmp_path / "chain.p7b").read_bytes())) == 3
    from cryptography import x509
    ca = x509.load_der_x509_certificate((tmp_path / "ca.cer").read_bytes())
    assert tenant["Id"] in ca.subject.rfc4514_string()

    service.services.users.create("bob")
    az("role", "add", "--user", "bob", "--role", "Reader")
    roles = js(az("role", "list", "-o", "json")[1])
    assert {"User": "bob", "Roles": ["Reader"]} in roles
    az("role", "delete", "--user", "bob")


def test_user_errors_are_one_line(az, tmp_path):
    code, _, err = az("product", "list", "--tenant", "00000000-0000-0000-0000-000000000000", ok=False)
    assert code == 2 and err.startswith("mt3620: error:") and "Traceback" not in err
    code, _, err = az("image", "add", "--image", str(tmp_path / "missing"), "--tenant",
                      "00000000-0000-0000-0000-000000000000", ok=False)
    assert code == 2 and "cannot read" in err


def test_not_logged_in_and_unreachable(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MT3620_AZSPHERE_CONFIG", str(tmp_path / "none.json"))
    assert main(["azsphere", "tenant", "list"]) == 2
    assert "not logged in" in capsys.readouterr().err
    monkeypatch.setenv("MT3620_CLOUD_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("MT3620_CLOUD_TOKEN", "x")
    assert main(["azsphere", "tenant", "list"]) == 2
    assert "cannot reach" in capsys.readouterr().err


def test_operator_commands(tmp_path, capsys):
    data = str(tmp_path / "d")
    assert main(["cloud", "migrate", "--data", data]) == 0       # a service's database (serve makes one too)
    capsys.readouterr()
    assert main(["cloud", "user", "create", "--data", data, "carol"]) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("mt3620_")
    assert main(["cloud", "user", "create", "--data", data, "carol"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["cloud", "os-release", "--data", data, "--feed", "Retail", "--version", "24.10"]) == 0
    assert main(["cloud", "migrate", "--data", data, "--revision", "base", "--down"]) == 0
    assert "base" in capsys.readouterr().out
    assert main(["cloud", "migrate", "--data", data]) == 0
    assert "0002" in capsys.readouterr().out
    assert main(["cloud", "migrate", "--data", data, "--revision", "nope"]) == 2


def test_serve_rejects_bad_port():
    proc = subprocess.run([sys.executable, "-m", "mt3620", "cloud", "serve", "--port", "70000"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "port" in proc.stderr and "Traceback" not in proc.stderr


def test_user_create_acts_on_the_running_service_or_fails_with_the_reason(tmp_path, capsys):
    """`cloud user create` without --data silently made a second database in the home folder."""
    home_data = tmp_path / "home-data"
    os.environ["MT3620_CLOUD_DATA"] = str(home_data)        # the default data folder (monkeypatched back below)
    try:
        assert main(["cloud", "user", "create", "dave"]) == 2
        err = capsys.readouterr().err
        assert "no service data in" in err and "mt3620 cloud serve" in err and not home_data.exists()
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from test_cloud_db import _serve
        proc, mgmt, _ = _serve(tmp_path / "served")
        try:
            assert main(["cloud", "user", "create", "dave"]) == 0    # no --data: the running service's data
            token = capsys.readouterr().out.strip()
            assert Mgmt(mgmt, token).call("GET", "/v2/tenants")[0] == 200
            assert not home_data.exists()
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        assert main(["cloud", "user", "create", "erin"]) == 2        # stopped: nothing runs, nothing is made
        assert "no service data" in capsys.readouterr().err and not home_data.exists()
    finally:
        del os.environ["MT3620_CLOUD_DATA"]


def test_other_parts_extend_the_azsphere_tree(tmp_path, monkeypatch, capsys):
    """A module in EXTENSION_MODULES adds groups and commands (e.g. `azsphere device ...` on a local device);
    a module absent from the tree is skipped; a group that does not exist is a clear error."""
    from mt3620.cli import azsphere
    (tmp_path / "az_extension_example.py").write_text(
        "def hello(args):\n"
        "    print('hello', args.name)\n"
        "    return 0\n"
        "def add_azsphere_commands(tree):\n"
        "    app = tree.group('device app', 'applications on the attached device')\n"
        "    tree.command(app, 'hello', hello, 'say hello', (('--name',), {'required': True}), service=False)\n"
        "    tree.command(tree.group('device'), 'hello', hello, 'say hello', (('--name',), {'default': 'dev'}),\n"
        "                 service=False)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(azsphere, "EXTENSION_MODULES", ("az_extension_example", "az_extension_not_here"))
    capsys.readouterr()
    assert main(["azsphere", "device", "app", "hello", "--name", "x"]) == 0
    assert main(["azsphere", "device", "hello"]) == 0
    assert capsys.readouterr().out.splitlines() == ["hello x", "hello dev"]
    assert main(["azsphere", "device", "app"]) == 2                  # a group alone prints its help
    assert "hello" in capsys.readouterr().out
    tree = azsphere.CommandTree(__import__("argparse").ArgumentParser())
    with pytest.raises(ValueError, match="no command group 'nope'"):
        tree.group("nope app")
