/* Signals: a SA_SIGINFO handler entered through a real sigframe and left through sigreturn with every register
 * (and VFP register) restored; a signal held pending while blocked; a SIGSEGV handler that recovers with
 * siglongjmp and sees the faulting address; an alternate signal stack. */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t got;
static volatile int got_code;
static volatile uintptr_t fault_address;
static volatile int on_altstack;
static sigjmp_buf recover;

static void on_usr1(int sig, siginfo_t *info, void *context)
{
    got = sig;
    got_code = info->si_code;
    volatile double clobber = 123.25;  /* the interrupted code's VFP registers must survive */
    (void)clobber;
}

static void on_segv(int sig, siginfo_t *info, void *context)
{
    fault_address = (uintptr_t)info->si_addr;
    char here;
    stack_t ss;
    sigaltstack(NULL, &ss);
    on_altstack = (ss.ss_flags & SS_ONSTACK) != 0 && &here >= (char *)ss.ss_sp &&
                  &here < (char *)ss.ss_sp + ss.ss_size;
    siglongjmp(recover, 1);
}

static void plain_handler(int sig)
{
    got = sig + 100;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_usr1;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR1, &sa, NULL);

    volatile double keep = 2.5;
    raise(SIGUSR1);
    printf("handler got %d code %d keep %.2f\n", (int)got, got_code, keep);

    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, &old);
    got = 0;
    kill(getpid(), SIGUSR1);
    sigset_t pending;
    sigpending(&pending);
    printf("blocked: got %d pending %d\n", (int)got, sigismember(&pending, SIGUSR1));
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("unblocked: got %d\n", (int)got);

    signal(SIGUSR2, plain_handler);
    raise(SIGUSR2);
    printf("plain handler got %d\n", (int)got);

    static char altstack[16384];
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    sigaltstack(&ss, NULL);
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGSEGV, &sa, NULL);
    if (sigsetjmp(recover, 1) == 0) {
        volatile int *bad = (int *)0x1234;
        *bad = 1;
        printf("not reached\n");
    }
    printf("recovered from SIGSEGV at 0x%lx on altstack %d\n", (unsigned long)fault_address, on_altstack);
    return 0;
}
