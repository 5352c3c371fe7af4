/* Odds and ends: an unimplemented syscall (ENOSYS, logged once), nonsense pointers (EFAULT, never a crash of the
 * emulator), uname, getrandom, the clocks, identity. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
    long r1 = syscall(SYS_semget, 1, 1, 0);
    int e1 = errno;
    long r2 = syscall(SYS_semget, 2, 1, 0);
    printf("semget %ld %s, again %ld\n", r1, strerror(e1), r2);

    long w = syscall(SYS_write, 1, (void *)0x10, 5);
    printf("write from 0x10: %ld %s\n", w, strerror(errno));
    long rd = syscall(SYS_read, 0, (void *)0xfffff000, 5);
    printf("read into 0xfffff000: %ld %s\n", rd, strerror(errno));
    long o = syscall(SYS_openat, -100, (void *)0x20, 0);
    printf("open of a bad path pointer: %ld %s\n", o, strerror(errno));

    struct utsname u;
    uname(&u);
    printf("uname %s %s\n", u.sysname, u.machine);
    unsigned char random[8];
    getrandom(random, sizeof random, 0);
    printf("random %02x%02x%02x%02x\n", random[0], random[1], random[2], random[3]);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    printf("realtime year >= 2024: %d\n", ts.tv_sec >= 1704067200);
    printf("realtime %lld\n", (long long)ts.tv_sec);
    printf("uid %d\n", (int)getuid());
    return 3;
}
