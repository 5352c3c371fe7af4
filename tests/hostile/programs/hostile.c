/* A hostile high-level program: each mode (argv[1]) abuses the emulated OS one way. Every mode must end in an
 * exit status or a crash report, never in an emulator error. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile int depth_sink;

static int recurse(int n)
{
    volatile char frame[256];
    frame[0] = (char)n;
    depth_sink += frame[0];
    if (depth_sink == -1)        /* never true: the compiler cannot prove the recursion endless */
        return 0;
    return recurse(n + 1) + frame[0];
}

static void on_usr1(int sig)
{
    (void)sig;
    raise(SIGUSR1);          /* re-raised while blocked: delivered after the handler returns, forever */
}

static int crash_null(void)
{
    volatile int *p = (int *)0;
    return *p;
}

int main(int argc, char *argv[])
{
    const char *mode = argc > 1 ? argv[1] : "none";
    if (!strcmp(mode, "stack")) {            /* unbounded recursion: the stack overflows into unmapped memory */
        return recurse(0);
    } else if (!strcmp(mode, "segv")) {
        return crash_null();
    } else if (!strcmp(mode, "fork")) {      /* one process on Azure Sphere: ENOSYS, and the app goes on */
        pid_t a = fork();
        long b = syscall(SYS_vfork);
        long c = syscall(SYS_clone, 0, 0, 0, 0, 0);             /* a new process (no CLONE_VM) */
        long d = syscall(SYS_clone, 0x00010f00, (void *)8, 0, 0, 0);   /* a thread on a nonsense stack */
        long e = syscall(SYS_execve, "/opt/prog", 0, 0);
        printf("fork %d vfork %ld clone %ld thread %ld execve %ld\n", (int)a, b, c, d > 0 ? 1L : d, e);
        return 0;
    } else if (!strcmp(mode, "mmap")) {      /* mmap/brk abuse: every answer is an errno or a mapping */
        void *huge = mmap(0, 0xF0000000u, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        void *fixed = mmap((void *)0xFFFF0000u, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
                           -1, 0);
        void *zero = mmap(0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        long b1 = syscall(SYS_brk, 0xFFFFF000u);
        long b2 = syscall(SYS_brk, 0);
        int r1 = munmap((void *)0xFFFF0000u, 4096);
        int r2 = mprotect((void *)0x1000, 0xFFFFE000u, PROT_READ);
        void *grown = mremap((void *)0x40000000, 4096, 0xF0000000u, MREMAP_MAYMOVE);
        printf("mmap %d %d %d brk %d %d munmap %d mprotect %d mremap %d\n", huge == MAP_FAILED, fixed == MAP_FAILED,
               zero == MAP_FAILED, b1 == b2, b2 != 0, r1, r2, grown == MAP_FAILED);
        munmap((void *)0x00400000, 0x100000);   /* the program's own code: the return from munmap faults */
        return 1;
    } else if (!strcmp(mode, "signals")) {
        signal(SIGUSR1, on_usr1);
        raise(SIGUSR1);
        return 0;
    } else if (!strcmp(mode, "kill")) {
        kill(getpid(), SIGKILL);
        return 0;
    } else if (!strcmp(mode, "abort")) {
        abort();
    }
    return 0;
}
