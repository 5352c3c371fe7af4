/* gpt3: the microsecond timer. First a 1000 us busy-wait on GPT3_CNT (the Azure HelloWorld RTApp's
 * Gpt3_WaitUs), then a 5000 us timeout delivered by the GPT3 expire interrupt (IRQ 2), cleared with
 * GPT3_CTRL.ICLR (bit 15) as CodethinkLabs GPT.c does. */
#include "rt.h"

#define WAIT_US 1000u
#define EXPIRE_US 5000u

static volatile uint32_t fired;
static volatile uint32_t count_at_irq;

void irq_gpt3(void)
{
    count_at_irq = rd32(GPT3_CNT);
    wr32(GPT3_CTRL, GPT3_OSC_CNT_1US | GPT3_CTRL_ICLR);  /* stop and clear the interrupt */
    fired++;
}

int main(void)
{
    print("gpt3: start\r\n");

    gpt3_wait_us(WAIT_US);
    print("gpt3: busy-wait of %u us done\r\n", WAIT_US);

    wr32(GPT3_CTRL, GPT3_OSC_CNT_1US | GPT3_CTRL_ICLR);
    wr32(GPT3_INIT, 0);
    wr32(GPT3_EXPIRE, EXPIRE_US - 1u);
    nvic_clear_pending(IRQ_GPT3);
    nvic_enable_irq(IRQ_GPT3, 2);
    wr32(GPT3_CTRL, GPT3_OSC_CNT_1US | GPT_CTRL_EN);
    while (!fired) {
        cpu_irq_disable();
        if (!fired) {
            cpu_wfi();
        }
        cpu_irq_enable();
    }
    nvic_disable_irq(IRQ_GPT3);
    print("gpt3: expire interrupt after %u us (cnt=%u)\r\n", EXPIRE_US, count_at_irq);
    print("gpt3: done\r\n");
    return 0;
}
