"""The VFS: the package's ASXipFS read-only at /mnt/apps/<id>, mutable storage at /mnt/config/<id>, pipes, dup,
/proc/self."""
from linux_programs import component_id


def test_package_files_mutable_storage_pipes_and_proc(run_program):
    cid = component_id("files")
    files = {"data/greeting.txt": b"hello world from the package"}
    dev, app, lines = run_program("files", args=[f"/mnt/apps/{cid}", f"/mnt/config/{cid}"], files=files)
    assert app.exit_code == 0, lines
    assert "read 28 bytes: hello world from the package size 28 regular 1" in lines
    assert "after seek: world" in lines
    assert "write open: Read-only file system" in lines
    assert [line for line in lines if line.startswith("entry ")] == ["entry app_manifest.json", "entry bin",
                                                                      "entry data"]
    assert "stored before: nothing" in lines and "mutable storage: persist" in lines
    assert "through a pipe, then EOF 0" in lines
    assert "dup'd stdout works" in lines
    assert f"exe /mnt/apps/{cid}/bin/app" in lines
    assert "missing: No such file or directory" in lines


def test_mutable_storage_persists_in_a_host_folder(sysroot, tmp_path):
    from linux_programs import build, pack
    from mt3620.testing.device import Device
    cid = component_id("files")
    package = pack("files", build("files"), [f"/mnt/apps/{cid}", f"/mnt/config/{cid}"],
                   {"data/greeting.txt": b"hello world from the package"})
    first = Device.boot(hl=package, config_dir=tmp_path)
    first.wait_for_exit(timeout="2s")
    assert "stored before: nothing" in first.lines("a7.files")
    assert (tmp_path / cid / "state.bin").read_bytes() == b"persist"
    second = Device.boot(hl=package, config_dir=tmp_path)          # another power-on, the same device state
    second.wait_for_exit(timeout="2s")
    assert "stored before: persist" in second.lines("a7.files")
