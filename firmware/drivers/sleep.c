/* Sleeping waits: GPT3 counts microseconds from INIT = 0 and raises IRQ 2 when it reaches EXPIRE
 * (CodethinkLabs GPT.c, GPT_StartTimeout: EXPIRE = count - 1, ICLR before enabling). The core sleeps in WFI
 * meanwhile, with the usual race-free pattern: interrupts masked while deciding to sleep, WFI (which wakes on
 * a pending interrupt even while masked), then unmasked so the interrupt is taken. */
#include "sleep.h"

static volatile bool expired;

void irq_gpt3(void)
{
    wr32(GPT3_CTRL, GPT3_OSC_CNT_1US | GPT3_CTRL_ICLR);  /* stop GPT3 and clear its interrupt */
    expired = true;
}

void sleep_us(uint32_t us)
{
    wr32(GPT3_CTRL, GPT3_OSC_CNT_1US | GPT3_CTRL_ICLR);
    wr32(GPT3_INIT, 0);
    wr32(GPT3_EXPIRE, (us ? us : 1u) - 1u);
    expired = false;
    nvic_clear_pending(IRQ_GPT3);
    nvic_enable_irq(IRQ_GPT3, 3);
    wr32(GPT3_CTRL, GPT3_OSC_CNT_1US | GPT_CTRL_EN);
    while (!expired) {
        cpu_irq_disable();
        if (!expired) {
            cpu_wfi();
        }
        cpu_irq_enable();
    }
    nvic_disable_irq(IRQ_GPT3);
}
