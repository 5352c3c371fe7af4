/* Memory: brk, anonymous mmap, mprotect (a write to a read-only page faults with SEGV_ACCERR), mremap, munmap,
 * and a private file mapping of a file in the app package. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static sigjmp_buf recover;
static volatile int fault_code, fault_signal;

static void on_segv(int sig, siginfo_t *info, void *context)
{
    fault_signal = sig;
    fault_code = info->si_code;
    siglongjmp(recover, 1);
}

int main(int argc, char *argv[])
{
    /* musl's sbrk() only answers sbrk(0): grow the break with the brk syscall itself. */
    char *start = (char *)syscall(SYS_brk, 0);
    char *end = (char *)syscall(SYS_brk, start + 64 * 1024);
    memset(start, 0x5a, 64 * 1024);
    printf("brk grew %d\n", (int)(end - start));

    char *big = malloc(3 << 20);
    memset(big, 1, 3 << 20);
    printf("malloc 3 MiB ok %d\n", big[(3 << 20) - 1]);
    free(big);

    char *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    printf("fresh page zero %d\n", page[100] == 0 && page[8191] == 0);
    strcpy(page, "hello");
    mprotect(page, 4096, PROT_READ);
    struct sigaction sa = {0};
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    if (sigsetjmp(recover, 1) == 0) {
        page[1] = 'X';
    }
    printf("write to read-only page: si_code %d, still %s\n", fault_code, page);
    mprotect(page, 4096, PROT_READ | PROT_WRITE);   /* one mapping again: mremap needs a single one */
    char *moved = mremap(page, 8192, 1 << 20, MREMAP_MAYMOVE);
    printf("mremap keeps contents %s\n", moved);
    munmap(moved, 1 << 20);

    int fd = open(argc > 1 ? argv[1] : "/proc/self/exe", O_RDONLY);
    char *mapped = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
    printf("file mapping starts %.3s\n", mapped + 1);
    close(fd);

    /* A mapping longer than its file: the page past the end raises SIGBUS (BUS_ADRERR). */
    if (argc > 2) {
        fd = open(argv[2], O_RDONLY);
        char *small = mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, fd, 0);
        sigaction(SIGBUS, &sa, NULL);
        fault_signal = 0;
        volatile char c = small[3];
        if (sigsetjmp(recover, 1) == 0) {
            c = small[4096];
        }
        printf("past the end of a %c... file: signal %d code %d\n", c, fault_signal, fault_code);
        close(fd);
    }
    return 0;
}
