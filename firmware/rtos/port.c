/* The kernel's Cortex-M4F port: context switch, start, tick and critical sections (ARM DDI 0403E B1.5).
 *
 * Frame of a switched-out task, on its process stack, from the top: the hardware's exception frame (8 words, or
 * 26 with s0-s15 and FPSCR when the task had used the FPU), then what PendSV pushes: s16-s31 for FP frames, then
 * r4-r11 and the EXC_RETURN value, which says whether the frame is an FP frame (bit 4 clear).
 *
 * RTOS_PORT_THREADX=0, the FreeRTOS-like port: BASEPRI masks the kernel's interrupts in critical sections
 * (priorities 5..7; 0..4 stay live), PendSV and SysTick share the lowest priority, SVC starts the first task and
 * an idle task at the lowest task priority waits with WFI.
 * RTOS_PORT_THREADX=1, the ThreadX-like port: PRIMASK masks all interrupts in critical sections, PendSV has the
 * lowest priority and SysTick a higher one, PendSV starts the first task and, when no task is ready, waits inside
 * itself with interrupts enabled and WFI until the tick readies one. */
#include "kernel.h"

#ifndef RTOS_PORT_THREADX
#define RTOS_PORT_THREADX 0
#endif

#define PRIO_LOWEST 0xE0u            /* priority 7: the three implemented bits are the top ones */
#define PRIO_SYSTICK_THREADX 0x40u   /* priority 2 */
#define KERNEL_BASEPRI 0xA0u         /* FreeRTOS-like: critical sections mask priorities 5..7 */
#define EXC_RETURN_THREAD_PSP 0xFFFFFFFDu

void port_init_frame(k_task_t *t, void (*entry)(uint32_t), uint32_t arg, uint32_t *stack_top,
                     void (*exit_fn)(void))
{
    uint32_t *sp = (uint32_t *)((uintptr_t)stack_top & ~7u);
    *--sp = 0x01000000u;                          /* xPSR: Thumb */
    *--sp = (uint32_t)(uintptr_t)entry & ~1u;     /* pc */
    *--sp = (uint32_t)(uintptr_t)exit_fn;         /* lr */
    *--sp = 0;                                    /* r12 */
    *--sp = 0;                                    /* r3 */
    *--sp = 0;                                    /* r2 */
    *--sp = 0;                                    /* r1 */
    *--sp = arg;                                  /* r0 */
    *--sp = EXC_RETURN_THREAD_PSP;                /* basic frame: no FP state yet */
    for (int i = 0; i < 8; i++) {
        *--sp = 0;                                /* r11..r4 */
    }
    t->sp = sp;
}

void port_request_switch(void)
{
    wr32(SCS_ICSR, ICSR_PENDSVSET);
    cpu_dsb();
    cpu_isb();
}

void SysTick_Handler(void)
{
    uint32_t saved = port_lock();
    k_tick();
    port_unlock(saved);
}

#if !RTOS_PORT_THREADX
/* ---------------------------------------------------------------------------------------------------------------- */
static uint32_t critical_depth = 0xAAAAAAAAu;  /* until the scheduler starts, critical sections never end */

uint32_t port_lock(void)
{
    cpu_set_basepri(KERNEL_BASEPRI);
    cpu_dsb();
    cpu_isb();
    critical_depth++;
    return 0;
}

void port_unlock(uint32_t saved)
{
    (void)saved;
    if (--critical_depth == 0) {
        cpu_set_basepri(0);
    }
}

/* Save the outgoing task, switch k_current to k_execute with the kernel's interrupts masked, restore. */
__attribute__((naked)) void PendSV_Handler(void)
{
    __asm__ volatile(
        "mrs r0, psp\n"
        "isb\n"
        "tst lr, #0x10\n"
        "it eq\n"
        "vstmdbeq r0!, {s16-s31}\n"
        "stmdb r0!, {r4-r11, lr}\n"
        "ldr r3, =k_current\n"
        "ldr r2, [r3]\n"
        "str r0, [r2]\n"
        "mov r0, %0\n"
        "msr basepri, r0\n"
        "dsb\n"
        "isb\n"
        "bl k_switched\n"
        "mov r0, #0\n"
        "msr basepri, r0\n"
        "ldr r3, =k_current\n"
        "ldr r2, [r3]\n"
        "ldr r0, [r2]\n"
        "ldmia r0!, {r4-r11, lr}\n"
        "tst lr, #0x10\n"
        "it eq\n"
        "vldmiaeq r0!, {s16-s31}\n"
        "msr psp, r0\n"
        "isb\n"
        "bx lr\n"
        :: "i"(KERNEL_BASEPRI));
}

/* SVC 0 from port_start: become the first task. */
__attribute__((naked)) void SVC_Handler(void)
{
    __asm__ volatile(
        "ldr r3, =k_current\n"
        "ldr r1, =k_execute\n"
        "ldr r2, [r1]\n"
        "str r2, [r3]\n"
        "ldr r0, [r2]\n"
        "ldmia r0!, {r4-r11, lr}\n"
        "msr psp, r0\n"
        "isb\n"
        "mov r0, #0\n"
        "msr basepri, r0\n"
        "bx lr\n");
}

static k_task_t idle_task;
static uint32_t idle_stack[128] __attribute__((aligned(8)));

static void idle(uint32_t arg)
{
    (void)arg;
    for (;;) {
        cpu_wfi();
    }
}

_Noreturn void port_start(uint32_t tick_hz)
{
    k_task_create(&idle_task, "idle", idle, 0, idle_stack, 128, K_PRIORITIES - 1u, 0);
    k_execute = k_execute == NULL ? &idle_task : k_execute;
    fpu_enable();
    wr32(SCS_SHPR2, 0u << 24);                                  /* SVCall: priority 0 */
    wr32(SCS_SHPR3, (PRIO_LOWEST << 24) | (PRIO_LOWEST << 16)); /* SysTick, PendSV: lowest */
    critical_depth = 0;
    systick_start(tick_hz);
    cpu_set_basepri(0);
    cpu_irq_enable();
    __asm__ volatile("svc #0" ::: "memory");
    for (;;) {
    }
}

#else
/* ---------------------------------------------------------------------------------------------------------------- */
uint32_t port_lock(void)
{
    uint32_t primask;
    __asm__ volatile("mrs %0, primask\n cpsid i" : "=r"(primask)::"memory");
    return primask;
}

void port_unlock(uint32_t saved)
{
    __asm__ volatile("msr primask, %0" ::"r"(saved) : "memory");
}

/* Save the outgoing task (if any), wait for a ready one, restore it. */
__attribute__((naked)) void PendSV_Handler(void)
{
    __asm__ volatile(
        "ldr r3, =k_current\n"
        "ldr r2, [r3]\n"
        "cbz r2, 1f\n"                  /* the very first switch: nothing to save */
        "mrs r0, psp\n"
        "tst lr, #0x10\n"
        "it eq\n"
        "vstmdbeq r0!, {s16-s31}\n"
        "stmdb r0!, {r4-r11, lr}\n"
        "str r0, [r2]\n"
        "1:\n"
        "ldr r1, =k_execute\n"
        "2:\n"
        "cpsid i\n"
        "ldr r2, [r1]\n"
        "cbnz r2, 3f\n"
        "cpsie i\n"                     /* nothing ready: let the tick in, sleep until an interrupt */
        "wfi\n"
        "b 2b\n"
        "3:\n"
        "push {r1, r2, r3, lr}\n"
        "bl k_switched\n"
        "pop {r1, r2, r3, lr}\n"
        "cpsie i\n"
        "ldr r0, [r2]\n"
        "ldmia r0!, {r4-r11, lr}\n"
        "tst lr, #0x10\n"
        "it eq\n"
        "vldmiaeq r0!, {s16-s31}\n"
        "msr psp, r0\n"
        "isb\n"
        "bx lr\n");
}

_Noreturn void port_start(uint32_t tick_hz)
{
    fpu_enable();
    wr32(SCS_SHPR3, (PRIO_SYSTICK_THREADX << 24) | (PRIO_LOWEST << 16)); /* SysTick above PendSV */
    k_current = NULL;
    systick_start(tick_hz);
    port_request_switch();
    cpu_irq_enable();
    for (;;) {
        cpu_wfi();  /* PendSV takes over at once and never returns here */
    }
}
#endif
