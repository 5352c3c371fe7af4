/* GPT2/GPT3 and SysTick helpers (register layout: CodethinkLabs mt3620/gpt.h; SysTick: ARM DDI 0403E B3.3). */
#include "rt.h"

void gpt3_wait_us(uint32_t us)
{
    /* GPT3 counts microseconds up from INIT while enabled (Azure HelloWorld RTApp's Gpt3_WaitUs). EXPIRE at
       its maximum keeps the compare from raising IRQ 2 meanwhile (CodethinkLabs GPT.c, GPT_Start_Freerun). */
    wr32(GPT3_INIT, 0);
    wr32(GPT3_EXPIRE, 0xFFFFFFFFu);
    wr32(GPT3_CTRL, GPT3_OSC_CNT_1US | GPT_CTRL_EN);
    while (rd32(GPT3_CNT) < us) {
    }
    wr32(GPT3_CTRL, 0);
}

void gpt2_start_32k(void)
{
    /* GPT2 is started by writing its count, then enabling it (CodethinkLabs GPT.c, GPT_Start_Freerun). */
    wr32(GPT2_CTRL, 0);
    wr32(GPT2_CNT, 0);
    wr32(GPT2_CTRL, GPT2_CTRL_32K | GPT_CTRL_EN);
}

void systick_start(uint32_t hz)
{
    wr32(SYST_CSR, 0);
    wr32(SYST_RVR, clock_hz() / hz - 1u);
    wr32(SYST_CVR, 0);
    wr32(SYST_CSR, 7u);  /* core clock, interrupt, enable */
}
