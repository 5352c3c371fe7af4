"""A hostile C program (tests/hostile/programs/hostile.c, built by the project's toolchain; dynamic with the musl
loader and static) abusing the OS: stack overflow, fork/vfork/clone/execve, mmap/brk/munmap/mprotect/mremap
nonsense, a signal storm, SIGKILL and abort to itself. Each mode ends in an exit or a crash report."""
import pytest

from a7_guest import Guest

SIGKILL, SIGABRT, SIGSEGV = 9, 6, 11


@pytest.fixture(params=["dynamic", "static"])
def program(request, sysroot, hostile_elf, hostile_static_elf):
    elf = hostile_elf if request.param == "dynamic" else hostile_static_elf

    def run(mode: str, limit_ps: int = 10**10):
        guest = Guest(elf.read_bytes(), sysroot=sysroot)
        process = guest.run(limit_ps=limit_ps, step_ps=10**8, args=(mode,))
        assert not guest.errors.records, guest.errors.text()
        return process, guest.output.data.decode()
    run.kind = request.param
    return run


def test_stack_overflow_is_a_sigsegv_with_a_report(program):
    process, _ = program("stack", limit_ps=10**11)
    assert process.term_signal == SIGSEGV
    assert process.crash.frames[0].function == "recurse" and "write unmapped" in process.crash.detail


def test_new_processes_are_refused_and_the_app_goes_on(program):
    process, out = program("fork")
    assert process.exit_code == 0
    assert out == "fork -1 vfork -1 clone -1 thread 1 execve -1\n"


def test_memory_abuse_gets_errnos(program):
    process, out = program("mmap")
    # huge/fixed-on-vectors/zero-length mmap fail; brk to the top is refused (brk unchanged); munmap and
    # mprotect over the kernel's page fail; the mremap of nothing fails.
    assert out == "mmap 1 1 1 brk 1 1 munmap -1 mprotect -1 mremap 1\n"
    if program.kind == "dynamic":       # unmapping its own code (the PIE at 0x00400000) faults on the return
        assert process.term_signal == SIGSEGV and "fetch unmapped" in process.crash.detail
    else:
        assert process.exit_code == 1


def test_a_signal_storm_is_bounded_by_virtual_time(program):
    process, _ = program("signals", limit_ps=2 * 10**8)
    assert process.alive          # still re-raising SIGUSR1 from its handler when the time is up


def test_signals_to_itself(program):
    process, _ = program("kill")
    assert process.term_signal == SIGKILL and process.crash is None
    process, _ = program("abort")
    assert process.term_signal == SIGABRT and process.crash is not None
