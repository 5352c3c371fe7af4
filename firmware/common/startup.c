/* Reset handler and the full exception vector table of an IO-core RTApp.
 *
 * As in the Azure Sphere bare-metal samples (Azure/azure-sphere-samples
 * Samples/HelloWorld/HelloWorld_RTApp_MT3620_BareMetal/main.c, linker.ld) there is no C runtime: the ELF's
 * entry point is this table, word 0 is the initial MSP (StackTop, the end of TCM), word 1 the reset handler,
 * and the loader has already copied every PT_LOAD segment and zero-filled .bss before the core starts.
 * 16 exceptions + 100 interrupts = 116 words, aligned to 512 bytes by the linker script (ARM DDI 0403E B1.5.3).
 */
#include "rt.h"

/* The table below fills every interrupt with Default_Handler, then names the ones firmware may override. */
#pragma GCC diagnostic ignored "-Woverride-init"

extern uint32_t StackTop;
extern const uintptr_t ExceptionVectorTable[];

_Noreturn void Reset_Handler(void);
void Default_Handler(void);

#define WEAK_DEFAULT __attribute__((weak, alias("Default_Handler")))
void NMI_Handler(void) WEAK_DEFAULT;
void HardFault_Handler(void) WEAK_DEFAULT;
void MemManage_Handler(void) WEAK_DEFAULT;
void BusFault_Handler(void) WEAK_DEFAULT;
void UsageFault_Handler(void) WEAK_DEFAULT;
void SVC_Handler(void) WEAK_DEFAULT;
void DebugMon_Handler(void) WEAK_DEFAULT;
void PendSV_Handler(void) WEAK_DEFAULT;
void SysTick_Handler(void) WEAK_DEFAULT;
/* Interrupt names follow CodethinkLabs VectorTable.c (IRQ numbers in mt3620.h). */
void irq_gpt01(void) WEAK_DEFAULT;
void irq_gpt3(void) WEAK_DEFAULT;
void irq_wdt(void) WEAK_DEFAULT;
void irq_uart_debug(void) WEAK_DEFAULT;
void irq_mbox_a7_rd(void) WEAK_DEFAULT;
void irq_mbox_a7_nf(void) WEAK_DEFAULT;
void irq_mbox_a7_wr(void) WEAK_DEFAULT;
void irq_mbox_a7_ne(void) WEAK_DEFAULT;
void irq_mbox_a7_fifo(void) WEAK_DEFAULT;
void irq_mbox_a7_sw(void) WEAK_DEFAULT;
void irq_eint12(void) WEAK_DEFAULT;
void irq_eint13(void) WEAK_DEFAULT;
/* ISU I2C / SPI master / SPI subordinate n = IRQ 44 + 4n / 45 + 4n / 46 + 4n; I2S0/1 = 68/69; ADC = 70;
   GPIOIF counters of GPIO block n = 71 + n; M4 DMA = 77 (CodethinkLabs VectorTable.c, MediaTek CMSIS irq.h). */
void irq_isu0_i2c(void) WEAK_DEFAULT;
void irq_isu1_i2c(void) WEAK_DEFAULT;
void irq_isu2_i2c(void) WEAK_DEFAULT;
void irq_isu3_i2c(void) WEAK_DEFAULT;
void irq_isu4_i2c(void) WEAK_DEFAULT;
void irq_isu0_spim(void) WEAK_DEFAULT;
void irq_isu1_spim(void) WEAK_DEFAULT;
void irq_isu2_spim(void) WEAK_DEFAULT;
void irq_isu3_spim(void) WEAK_DEFAULT;
void irq_isu4_spim(void) WEAK_DEFAULT;
void irq_isu0_spis(void) WEAK_DEFAULT;
void irq_isu1_spis(void) WEAK_DEFAULT;
void irq_isu2_spis(void) WEAK_DEFAULT;
void irq_isu3_spis(void) WEAK_DEFAULT;
void irq_isu4_spis(void) WEAK_DEFAULT;
void irq_i2s0(void) WEAK_DEFAULT;
void irq_i2s1(void) WEAK_DEFAULT;
void irq_adc(void) WEAK_DEFAULT;
void irq_gpio_cnt0(void) WEAK_DEFAULT;
void irq_gpio_cnt1(void) WEAK_DEFAULT;
void irq_gpio_cnt2(void) WEAK_DEFAULT;
void irq_gpio_cnt3(void) WEAK_DEFAULT;
void irq_gpio_cnt4(void) WEAK_DEFAULT;
void irq_gpio_cnt5(void) WEAK_DEFAULT;
void irq_m4dma(void) WEAK_DEFAULT;

#define EXC(n) (n)
#define INT(n) (16 + (n))

__attribute__((section(".vector_table"), used))
const uintptr_t ExceptionVectorTable[16 + INTERRUPT_COUNT] = {
    [EXC(0)] = (uintptr_t)&StackTop,
    [EXC(1)] = (uintptr_t)Reset_Handler,
    [EXC(2)] = (uintptr_t)NMI_Handler,
    [EXC(3)] = (uintptr_t)HardFault_Handler,
    [EXC(4)] = (uintptr_t)MemManage_Handler,
    [EXC(5)] = (uintptr_t)BusFault_Handler,
    [EXC(6)] = (uintptr_t)UsageFault_Handler,
    [EXC(11)] = (uintptr_t)SVC_Handler,
    [EXC(12)] = (uintptr_t)DebugMon_Handler,
    [EXC(14)] = (uintptr_t)PendSV_Handler,
    [EXC(15)] = (uintptr_t)SysTick_Handler,
    [INT(0)... INT(INTERRUPT_COUNT - 1)] = (uintptr_t)Default_Handler,
    [INT(IRQ_GPT01)] = (uintptr_t)irq_gpt01,
    [INT(IRQ_GPT3)] = (uintptr_t)irq_gpt3,
    [INT(IRQ_WDT)] = (uintptr_t)irq_wdt,
    [INT(IRQ_UART_DEBUG)] = (uintptr_t)irq_uart_debug,
    [INT(IRQ_MBOX_A7_RD)] = (uintptr_t)irq_mbox_a7_rd,
    [INT(IRQ_MBOX_A7_NF)] = (uintptr_t)irq_mbox_a7_nf,
    [INT(IRQ_MBOX_A7_WR)] = (uintptr_t)irq_mbox_a7_wr,
    [INT(IRQ_MBOX_A7_NE)] = (uintptr_t)irq_mbox_a7_ne,
    [INT(IRQ_MBOX_A7_FIFO)] = (uintptr_t)irq_mbox_a7_fifo,
    [INT(IRQ_MBOX_A7_SW)] = (uintptr_t)irq_mbox_a7_sw,
    [INT(IRQ_EINT(12))] = (uintptr_t)irq_eint12,
    [INT(IRQ_EINT(13))] = (uintptr_t)irq_eint13,
    [INT(44)] = (uintptr_t)irq_isu0_i2c, [INT(48)] = (uintptr_t)irq_isu1_i2c, [INT(52)] = (uintptr_t)irq_isu2_i2c,
    [INT(56)] = (uintptr_t)irq_isu3_i2c, [INT(60)] = (uintptr_t)irq_isu4_i2c,
    [INT(45)] = (uintptr_t)irq_isu0_spim, [INT(49)] = (uintptr_t)irq_isu1_spim, [INT(53)] = (uintptr_t)irq_isu2_spim,
    [INT(57)] = (uintptr_t)irq_isu3_spim, [INT(61)] = (uintptr_t)irq_isu4_spim,
    [INT(46)] = (uintptr_t)irq_isu0_spis, [INT(50)] = (uintptr_t)irq_isu1_spis, [INT(54)] = (uintptr_t)irq_isu2_spis,
    [INT(58)] = (uintptr_t)irq_isu3_spis, [INT(62)] = (uintptr_t)irq_isu4_spis,
    [INT(68)] = (uintptr_t)irq_i2s0, [INT(69)] = (uintptr_t)irq_i2s1, [INT(70)] = (uintptr_t)irq_adc,
    [INT(71)] = (uintptr_t)irq_gpio_cnt0, [INT(72)] = (uintptr_t)irq_gpio_cnt1, [INT(73)] = (uintptr_t)irq_gpio_cnt2,
    [INT(74)] = (uintptr_t)irq_gpio_cnt3, [INT(75)] = (uintptr_t)irq_gpio_cnt4, [INT(76)] = (uintptr_t)irq_gpio_cnt5,
    [INT(77)] = (uintptr_t)irq_m4dma,
};

_Noreturn void Reset_Handler(void)
{
    /* The vector table's address is not known to the hardware until software says so (the samples write
       VTOR first thing). */
    wr32(SCS_VTOR, (uint32_t)(uintptr_t)ExceptionVectorTable);
    cpu_dsb();
    cpu_isb();
    uart_init();
    main();
    halt();
}

/* Any exception or interrupt a firmware did not ask for: say which, with the fault status, and stop. */
void Default_Handler(void)
{
    uint32_t exc = cpu_get_ipsr() & 0x1FFu;
    cpu_irq_disable();
    print("unhandled exception %u (CFSR=0x%08x HFSR=0x%08x)\r\n", exc, rd32(SCS_CFSR), rd32(SCS_HFSR));
    halt();
}

_Noreturn void halt(void)
{
    cpu_irq_disable();
    for (;;) {
        cpu_wfi();
    }
}

void fpu_enable(void)
{
    /* CP10 and CP11 full access (ARM DDI 0403E B3.2.20); ISB so the next instruction sees it. */
    wr32(SCS_CPACR, rd32(SCS_CPACR) | (0xFu << 20));
    cpu_dsb();
    cpu_isb();
}

static const uint32_t hclk_hz[4] = {26000000u, 32768u, 197600000u, 26000000u};

uint32_t clock_select(uint32_t source)
{
    uint32_t v = rd32(RGU_HCLK_CTRL);
    v = (v & ~(3u << 8)) | ((source & 3u) << 8);
    wr32(RGU_HCLK_CTRL, v);
    return clock_hz();
}

uint32_t clock_hz(void)
{
    return hclk_hz[(rd32(RGU_HCLK_CTRL) >> 8) & 3u];
}
