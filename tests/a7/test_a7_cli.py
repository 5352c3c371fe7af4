"""`mt3620 run --hl`: Log_Debug lines on stdout, exit codes as for the IO cores (0 found / app done, 1 time-out,
3 fault with the crash report, 2 bad input), never a traceback."""
import json
import subprocess
import sys

import pytest

from linux_programs import build


def mt3620(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "mt3620", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


def test_run_hl_streams_log_debug_and_reports_the_exit(hl_app):
    res = mt3620("run", "--hl", hl_app("hl_hello"))
    assert res.returncode == 0, res.stderr
    assert "[a7.hl_hello] hl_hello: Hello from the A7" in res.stdout
    assert "[a7.os] app hl_hello exited with status 7" in res.stdout
    assert "app hl_hello exited with status 7" in res.stderr


def test_until_found_and_timed_out(hl_app):
    assert mt3620("run", "--hl", hl_app("hl_hello"), "--until", r"slept \d+ ms", "--quiet").returncode == 0
    res = mt3620("run", "--hl", hl_app("hl_hello"), "--until", "never says this", "--for", "200ms")
    assert res.returncode == 1 and "timed out" in res.stderr


def test_crash_exits_3_with_the_report(crash_package):
    res = mt3620("run", "--hl", crash_package("segv"))
    assert res.returncode == 3, res.stderr
    assert "SIGSEGV at PC 0x" in res.stderr and "crash_here" in res.stderr and "backtrace:" in res.stderr
    assert "Traceback" not in res.stderr


def test_with_an_rtapp_on_io0(hl_app, firmware):
    res = mt3620("run", "--hl", hl_app("hl_hello"), "--rt0", firmware("hello"), "--until", "hl_hello: done")
    assert res.returncode == 0, res.stderr
    assert "[a7.hl_hello] hl_hello: done" in res.stdout and "[io0.io0_uart]" in res.stdout


def _package_with(tmp_path, name, files, manifest=None):
    from mt3620.imagepackage import SdkTestSigner, build_application
    root = tmp_path / name
    root.mkdir()
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    doc = {"SchemaVersion": 1, "Name": name, "ComponentId": "1b9a3c1e-1a49-4cc1-9b27-6b2b1b4f0a11",
           "EntryPoint": "/bin/app", "CmdArgs": [], "ApplicationType": "Default"}
    doc.update(manifest or {})
    (root / "app_manifest.json").write_text(json.dumps(doc))
    path = tmp_path / f"{name}.imagepackage"
    if "bin/app" not in files:
        # build_application refuses a missing entry point; pack one, then point the manifest elsewhere
        (root / "bin").mkdir(exist_ok=True)
        (root / "bin" / "other").write_bytes(b"x")
        doc["EntryPoint"] = "/bin/other"
        (root / "app_manifest.json").write_text(json.dumps(doc))
        data = build_application(root, SdkTestSigner())
        # now the same package with a manifest naming a missing /bin/app
        (root / "app_manifest.json").write_text(json.dumps({**doc, "EntryPoint": "/bin/app"}))
        from mt3620.imagepackage import asxipfs
        from mt3620.imagepackage.package import _read_approot
        from mt3620.imagepackage.metadata import Identity, Debug, TemporaryImage, TEMP_UNDER_DEVELOPMENT
        from mt3620.imagepackage.package import sign_image
        import uuid
        fs = asxipfs.build(_read_approot(root))
        data = sign_image(fs, [Identity(10, uuid.UUID(doc["ComponentId"]), uuid.uuid4()), Debug(0, name),
                               TemporaryImage(TEMP_UNDER_DEVELOPMENT)], SdkTestSigner())
    else:
        data = build_application(root, SdkTestSigner())
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("case, message", [
    ("garbage_elf", "not an ELF file"),
    ("truncated_elf", "truncated ELF"),
    ("no_entry", "has no /bin/app"),
    ("realtime", "real-time app"),
])
def test_bad_packages_are_one_line_errors(tmp_path, sysroot, case, message):
    elf = build("crash").read_bytes()
    files = {"bin/app": {"garbage_elf": b"this is not an ELF at all" * 10,
                         "truncated_elf": elf[:1000],
                         "realtime": elf}.get(case, b"")} if case != "no_entry" else {}
    manifest = {"ApplicationType": "RealTimeCapable"} if case == "realtime" else None
    path = _package_with(tmp_path, case, files, manifest)
    res = mt3620("run", "--hl", path)
    assert res.returncode == 2, res.stdout + res.stderr
    assert message in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_not_a_package(tmp_path):
    path = tmp_path / "x.imagepackage"
    path.write_bytes(b"\x7fELF" + bytes(100))
    res = mt3620("run", "--hl", path)
    assert res.returncode == 2 and "Traceback" not in res.stderr


def test_uart_log_has_the_app_streams(tmp_path, hl_app):
    res = mt3620("run", "--hl", hl_app("hl_hello"), "--uart-log", tmp_path / "logs", "--quiet")
    assert res.returncode == 0, res.stderr
    assert b"hl_hello: done\n" in (tmp_path / "logs" / "a7.hl_hello.log").read_bytes()
    assert (tmp_path / "logs" / "a7.os.log").read_bytes() == b"app hl_hello exited with status 7\n"
