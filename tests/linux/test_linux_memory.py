"""Process memory: brk, mmap/munmap/mprotect/mremap, private file mappings, protection faults."""
from linux_programs import component_id


def test_brk_mmap_mprotect_mremap_and_file_mappings(run_program):
    root = f"/mnt/apps/{component_id('memory')}"
    dev, app, lines = run_program("memory", args=[f"{root}/bin/app", f"{root}/small.txt"],
                                  files={"small.txt": b"tiny"})
    assert app.exit_code == 0, lines
    assert "brk grew 65536" in lines
    assert "malloc 3 MiB ok 1" in lines
    assert "fresh page zero 1" in lines
    assert "write to read-only page: si_code 2, still hello" in lines     # SEGV_ACCERR, the write did not land
    assert "mremap keeps contents hello" in lines
    assert "file mapping starts ELF" in lines                             # the app's own ELF, mapped privately
    assert "past the end of a y... file: signal 7 code 2" in lines                 # SIGBUS, BUS_ADRERR
