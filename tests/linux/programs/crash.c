/* Crashes on request: argv[1] = segv (a NULL write in a named function), abort, ill (an undefined instruction),
 * fpe (64-bit division by zero through libgcc_s), exit (a normal exit with status 0). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((noinline)) void crash_here(volatile int *where)
{
    *where = 42;
}

__attribute__((noinline)) void call_crash(int depth)
{
    if (depth == 0) {
        crash_here((volatile int *)0);
    } else {
        call_crash(depth - 1);
    }
    __asm__ volatile("" ::: "memory");
}

int main(int argc, char *argv[])
{
    const char *what = argc > 1 ? argv[1] : "segv";
    printf("crash: %s\n", what);
    fflush(stdout);
    if (!strcmp(what, "segv")) {
        call_crash(2);
    } else if (!strcmp(what, "abort")) {
        abort();
    } else if (!strcmp(what, "ill")) {
        __builtin_trap();
    }
    printf("crash: no crash\n");
    return 0;
}
