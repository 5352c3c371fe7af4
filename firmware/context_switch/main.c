/* context_switch: two threads on the process stack (PSP), preempted by SysTick (1 kHz) through PendSV, the
 * first one started by SVC. Each time the scheduler hands a thread the CPU it bumps that thread's run
 * count; the thread prints one line on its 1st, 4th, 7th... turn, with SysTick and PendSV masked by BASEPRI
 * while it prints, so the lines alternate A, B, A, B whatever the UART's speed. PendSV saves r4-r11 (and s16-s31
 * when the thread's frame is an FP frame, EXC_RETURN bit 4 clear) on the thread's stack.
 * While waiting for its next turn a thread iterates x = x * 0.5 + c in s0 (caller-saved: stacked by the
 * hardware in an extended exception frame) and s16 (callee-saved: saved by PendSV); both settle on exactly
 * 2c (2.0 in A, 6.0 in B). The loop is preempted by every switch and checked as soon as the thread runs
 * again, so a lost or mixed-up FP register shows as "fp bad" on the next line. */
#include "rt.h"

#define LINES 5u
#define STACK_WORDS 256u
#define PRIO_LOWEST 0xE0u  /* priority 7 of 8: the 3 implemented bits are the top ones */

struct tcb {
    uint32_t *sp;          /* saved process stack pointer: must stay the first member (PendSV uses it) */
    volatile uint32_t runs;
    char name;
};

static uint32_t stack_a[STACK_WORDS] __attribute__((aligned(8)));
static uint32_t stack_b[STACK_WORDS] __attribute__((aligned(8)));
static struct tcb tcbs[2];
struct tcb *volatile current_tcb;
static volatile uint32_t printed[2];
static uint32_t fp_bad[2];
static const float fp_c[2] = {1.0f, 3.0f};

/* Spins until *runs != seen (at least 64 rounds, so both values have settled), iterating x = x * 0.5 + c in
 * s0 and s16. Returns true when both hold exactly 2c. */
static bool fp_spin(volatile uint32_t *runs, uint32_t seen, float c)
{
    uint32_t a, b, n = 64;
    union {
        float f;
        uint32_t u;
    } cv = {.f = c}, want = {.f = 2.0f * c};
    __asm__ volatile(
        "vmov.f32 s2, #0.5\n"
        "vmov s3, %[c]\n"
        "vmov.f32 s0, #1.0\n"
        "vmov.f32 s16, #1.0\n"
        "1:\n"
        "vmul.f32 s0, s0, s2\n"
        "vadd.f32 s0, s0, s3\n"
        "vmul.f32 s16, s16, s2\n"
        "vadd.f32 s16, s16, s3\n"
        "cmp %[n], #0\n"
        "beq 2f\n"
        "subs %[n], %[n], #1\n"
        "b 1b\n"
        "2:\n"
        "ldr r12, [%[runs]]\n"
        "cmp r12, %[seen]\n"
        "beq 1b\n"
        "vmov %[a], s0\n"
        "vmov %[b], s16\n"
        : [a] "=&r"(a), [b] "=&r"(b), [n] "+r"(n)
        : [runs] "r"(runs), [seen] "r"(seen), [c] "r"(cv.u)
        : "r12", "s0", "s2", "s3", "s16", "cc", "memory");
    return a == want.u && b == want.u;
}

/* Called by PendSV with the outgoing thread's state saved: picks the other thread. */
void scheduler_switch(void)
{
    struct tcb *next = (current_tcb == &tcbs[0]) ? &tcbs[1] : &tcbs[0];
    next->runs++;
    current_tcb = next;
}

void SysTick_Handler(void)
{
    wr32(SCS_ICSR, ICSR_PENDSVSET);
}

__attribute__((naked)) void PendSV_Handler(void)
{
    __asm__ volatile(
        "mrs r0, psp\n"
        "isb\n"
        "tst lr, #0x10\n"             /* FP frame? then the callee-saved FP registers are live too */
        "it eq\n"
        "vstmdbeq r0!, {s16-s31}\n"
        "stmdb r0!, {r4-r11, lr}\n"
        "ldr r1, =current_tcb\n"
        "ldr r2, [r1]\n"
        "str r0, [r2]\n"              /* current_tcb->sp */
        "bl scheduler_switch\n"
        "ldr r1, =current_tcb\n"
        "ldr r2, [r1]\n"
        "ldr r0, [r2]\n"
        "ldmia r0!, {r4-r11, lr}\n"
        "tst lr, #0x10\n"
        "it eq\n"
        "vldmiaeq r0!, {s16-s31}\n"
        "msr psp, r0\n"
        "isb\n"
        "bx lr\n");
}

/* SVC 0: leave the main stack and start the current thread from its prepared stack. */
__attribute__((naked)) void SVC_Handler(void)
{
    __asm__ volatile(
        "ldr r1, =current_tcb\n"
        "ldr r2, [r1]\n"
        "ldr r0, [r2]\n"
        "ldmia r0!, {r4-r11, lr}\n"   /* lr = EXC_RETURN 0xFFFFFFFD: thread mode, PSP, basic frame */
        "msr psp, r0\n"
        "isb\n"
        "bx lr\n");
}

static void thread_body(unsigned index)
{
    struct tcb *self = &tcbs[index];
    uint32_t seen = 0;
    for (;;) {
        uint32_t runs = self->runs;
        if (runs != seen) {
            seen = runs;
            /* Print on every third turn; on the others only spin, so that both threads spin (and switch)
               with live FP registers between two lines. */
            if (runs % 3u == 1u && printed[index] < LINES) {
                cpu_set_basepri(PRIO_LOWEST);  /* hold off SysTick and PendSV while printing */
                printed[index]++;
                bool psp = (cpu_get_control() & 2u) != 0;
                print("thread %c: %u on %s, fp %s\r\n", self->name, printed[index], psp ? "psp" : "msp",
                      fp_bad[index] ? "bad" : "ok");
                if (printed[0] == LINES && printed[1] == LINES) {
                    print("context_switch: done\r\n");
                }
                cpu_set_basepri(0);
                continue;
            }
        }
        if (!fp_spin(&self->runs, seen, fp_c[index])) {  /* returns once preempted and resumed */
            fp_bad[index]++;
        }
    }
}

static void thread_a(void) { thread_body(0); }
static void thread_b(void) { thread_body(1); }

static _Noreturn void thread_exit(void)
{
    halt();
}

static void thread_init(struct tcb *t, char name, uint32_t *stack, void (*entry)(void))
{
    uint32_t *sp = stack + STACK_WORDS;
    /* Exception frame the hardware pops on return (ARM DDI 0403E B1.5.6): r0-r3, r12, lr, pc, xPSR. */
    *--sp = 0x01000000u;                               /* xPSR: Thumb bit */
    *--sp = (uint32_t)(uintptr_t)entry & ~1u;          /* pc */
    *--sp = (uint32_t)(uintptr_t)thread_exit;          /* lr */
    for (int i = 0; i < 5; i++) {
        *--sp = 0;                                     /* r12, r3, r2, r1, r0 */
    }
    /* What PendSV pops: r4-r11, then EXC_RETURN. */
    *--sp = 0xFFFFFFFDu;
    for (int i = 0; i < 8; i++) {
        *--sp = 0;
    }
    t->sp = sp;
    t->runs = 0;
    t->name = name;
}

int main(void)
{
    print("context_switch: start\r\n");
    fpu_enable();
    thread_init(&tcbs[0], 'A', stack_a, thread_a);
    thread_init(&tcbs[1], 'B', stack_b, thread_b);
    /* SVCall above the others; PendSV and SysTick at the lowest priority so they never preempt each other. */
    wr32(SCS_SHPR2, 0x00u << 24);
    wr32(SCS_SHPR3, (PRIO_LOWEST << 24) | (PRIO_LOWEST << 16));
    current_tcb = &tcbs[0];
    tcbs[0].runs = 1;
    systick_start(1000);
    __asm__ volatile("svc #0" ::: "memory");
    halt();  /* not reached: the threads own the CPU from here on */
}
