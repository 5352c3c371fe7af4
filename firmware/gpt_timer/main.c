/* gpt_timer: GPT0 in repeat mode at 32.768 kHz with its interrupt (IRQ 1): five 100 ms periods, each
 * printed, then GPT0 is stopped and the elapsed time is read from GPT2, free-running at 32.768 kHz. */
#include "rt.h"

#define TICKS 5u
#define PERIOD_COUNTS 3277u  /* 100 ms at 32.768 kHz */

static volatile uint32_t ticks;

void irq_gpt01(void)
{
    uint32_t isr = rd32(GPT_ISR);
    wr32(GPT_ISR, isr);  /* write-one-to-clear */
    if (isr & 1u) {
        ticks++;
    }
}

int main(void)
{
    print("gpt_timer: start\r\n");
    gpt2_start_32k();
    wr32(GPT0_CTRL, 0);
    wr32(GPT_ISR, 1u);
    wr32(GPT0_ICNT, PERIOD_COUNTS - 1u);  /* counts down to 0, then reloads (CodethinkLabs GPT.c) */
    wr32(GPT_IER, 1u);
    nvic_clear_pending(IRQ_GPT01);
    nvic_enable_irq(IRQ_GPT01, 2);
    uint32_t start = gpt2_count();
    wr32(GPT0_CTRL, GPT_CTRL_EN | GPT_CTRL_REPEAT | GPT_CTRL_32K);

    uint32_t shown = 0;
    while (shown < TICKS) {
        cpu_irq_disable();
        if (ticks == shown) {
            cpu_wfi();
        }
        cpu_irq_enable();
        while (shown < ticks && shown < TICKS) {
            shown++;
            print("gpt_timer: tick %u\r\n", shown);
        }
    }
    uint32_t elapsed = gpt2_count() - start;
    wr32(GPT0_CTRL, 0);
    wr32(GPT_IER, 0);
    nvic_disable_irq(IRQ_GPT01);
    print("gpt_timer: gpt2 elapsed %u counts\r\n", elapsed);
    print("gpt_timer: done after %u ticks\r\n", TICKS);
    return 0;
}
