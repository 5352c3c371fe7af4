/* The board layer of rtos_pingpong_qemu: the project's RTOS kernel and ping-pong (firmware/rtos/kernel.c, port.c and
 * main.c, compiled unchanged) on QEMU's mps2-an386 board (qemu-system-arm -M mps2-an386: a Cortex-M4 with FPU), so
 * scripts/bench can time the same context-switch-heavy code on QEMU's own NVIC and exception entry. It is what the
 * MT3620 runtime's startup.c and uart.c are on the chip: the vector table, the reset handler, the console, the core
 * clock and halt(), which leaves QEMU through semihosting.
 *
 * Board facts (ARM AN386 application note; QEMU hw/arm/mps2.c): code and data in SSRAM1 at 0x00000000, where the
 * core reads its vector table at reset (firmware/crc32_qemu/mps2.ld); one 25 MHz system clock drives the core,
 * SysTick's core-clock source (CSR.CLKSOURCE = 1) and the APB peripherals; CMSDK UART0 at 0x40004000 is QEMU's
 * first serial port; CMSDK timer 0 at 0x40000000 (ARM DDI 0479 CMSDK: CTRL +0 bit0 enable, VALUE +4 counting
 * down, RELOAD +8). With -icount shift=0 one instruction is 1 ns of the board's virtual time. */
#include "rt.h"

#define SYSCLK_HZ 25000000u
#define UART0_DATA 0x40004000u
#define UART0_STATE 0x40004004u      /* bit0: transmit buffer full */
#define UART0_CTRL 0x40004008u       /* bit0: transmit enable */
#define TIMER0_CTRL 0x40000000u
#define TIMER0_VALUE 0x40000004u
#define TIMER0_RELOAD 0x40000008u
#define NS_PER_CYCLE (1000000000u / SYSCLK_HZ)

/* Semihosting SYS_EXIT (0x18) and its reasons (ARM semihosting specification): QEMU exits with status 0 for
   ADP_Stopped_ApplicationExit, 1 for any other. */
#define SYS_EXIT 0x18u
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u
#define ADP_STOPPED_RUNTIME_ERROR 0x20023u

extern uint32_t StackTop, __bss_start, __bss_end;
_Noreturn void Reset_Handler(void);
void Fault_Handler(void);
void SVC_Handler(void);       /* the kernel's port (firmware/rtos/port.c) */
void PendSV_Handler(void);
void SysTick_Handler(void);

/* The 16 system exceptions (ARM DDI 0403E B1.5.3); the kernel enables no external interrupt. */
__attribute__((section(".vector_table"), used))
const uintptr_t ExceptionVectorTable[16] = {
    (uintptr_t)&StackTop,    (uintptr_t)Reset_Handler, (uintptr_t)Fault_Handler, (uintptr_t)Fault_Handler,
    (uintptr_t)Fault_Handler, (uintptr_t)Fault_Handler, (uintptr_t)Fault_Handler, (uintptr_t)Fault_Handler,
    (uintptr_t)Fault_Handler, (uintptr_t)Fault_Handler, (uintptr_t)Fault_Handler, (uintptr_t)SVC_Handler,
    (uintptr_t)Fault_Handler, (uintptr_t)Fault_Handler, (uintptr_t)PendSV_Handler, (uintptr_t)SysTick_Handler,
};

static _Noreturn void semihosting_exit(uint32_t reason)
{
    register uint32_t op __asm__("r0") = SYS_EXIT;
    register uint32_t arg __asm__("r1") = reason;
    __asm__ volatile("bkpt #0xab" ::"r"(op), "r"(arg) : "memory");
    for (;;) {
    }
}

_Noreturn void Reset_Handler(void)
{
    for (uint32_t *p = &__bss_start; p < &__bss_end; p++) {
        *p = 0;
    }
    /* Timer 0 free-running from its maximum: halt() reads the virtual time since here. */
    wr32(TIMER0_RELOAD, 0xFFFFFFFFu);
    wr32(TIMER0_VALUE, 0xFFFFFFFFu);
    wr32(TIMER0_CTRL, 1u);
    uart_init();
    main();
    halt();
}

/* Any other exception: say which, and leave QEMU with a failure status. */
void Fault_Handler(void)
{
    cpu_irq_disable();
    print("rtos_qemu: unhandled exception %u (CFSR=0x%08x HFSR=0x%08x)\r\n", cpu_get_ipsr() & 0x1FFu,
          rd32(SCS_CFSR), rd32(SCS_HFSR));
    semihosting_exit(ADP_STOPPED_RUNTIME_ERROR);
}

/* Stops for good: QEMU exits (status 0) after printing the virtual time since reset, which with -icount shift=0
   is also the number of instructions executed, to 40 of them (one timer cycle). */
_Noreturn void halt(void)
{
    cpu_irq_disable();
    uint32_t cycles = 0xFFFFFFFFu - rd32(TIMER0_VALUE);
    print("rtos_qemu: exit after %u us %u ns of virtual time\r\n", cycles / (SYSCLK_HZ / 1000000u),
          cycles % (SYSCLK_HZ / 1000000u) * NS_PER_CYCLE);
    semihosting_exit(ADP_STOPPED_APPLICATION_EXIT);
}

void fpu_enable(void)
{
    /* CP10 and CP11 full access (ARM DDI 0403E B3.2.20); ISB so the next instruction sees it. */
    wr32(SCS_CPACR, rd32(SCS_CPACR) | (0xFu << 20));
    cpu_dsb();
    cpu_isb();
}

/* The board has one clock: whichever MT3620 source the firmware selects, the core runs at SYSCLK. */
uint32_t clock_select(uint32_t source)
{
    (void)source;
    return SYSCLK_HZ;
}

uint32_t clock_hz(void) { return SYSCLK_HZ; }

void uart_init(void) { wr32(UART0_CTRL, 1u); }

void uart_putc(char c)
{
    while (rd32(UART0_STATE) & 1u) {
    }
    wr32(UART0_DATA, (uint8_t)c);
}
