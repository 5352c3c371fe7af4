/* context_switch: two threads on the process stack (PSP), preempted by SysTick (1 kHz) through PendSV, the
 * first one started by SVC. Each time the scheduler hands a thread the CPU it bumps that thread's run
 * count; the thread prints one line per new run, with SysTick and PendSV masked by BASEPRI while it
 * prints, so the lines alternate A, B, A, B whatever the UART's speed. PendSV saves r4-r11 (and s16-s31
 * when the thread's frame is an FP frame, EXC_RETURN bit 4 clear) on the thread's stack. */
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
        if (runs == seen || printed[index] >= LINES) {
            continue;  /* spin until preempted */
        }
        seen = runs;
        cpu_set_basepri(PRIO_LOWEST);  /* hold off SysTick and PendSV while printing */
        printed[index]++;
        bool psp = (cpu_get_control() & 2u) != 0;
        print("thread %c: %u on %s\r\n", self->name, printed[index], psp ? "psp" : "msp");
        if (printed[0] == LINES && printed[1] == LINES) {
            print("context_switch: done\r\n");
        }
        cpu_set_basepri(0);
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
