/* eint_wake: the wake-up of MediaTek's FreeRTOS LP sample (MediaTek-Labs/mt3620_m4_software, OS_HAL
 * os_hal_lp.c): the core sleeps (WFI) until GPT3's one-shot timeout or button A (GPIO 12), which drives EINT 12
 * configured as os_hal_eint.c does for HAL_EINT_LEVEL_LOW: POL = 1 (low), level delivery (IRQ_SENS), debounce on.
 * The released button reads high, so it must not wake the core; a press must. Each round prints what woke it and
 * when; after an EINT wake it waits for the button's release (and the debounce) before sleeping again. */
#include "rt.h"

#define EINT_BASE        0x21000000u
#define EINT_DBNC_CON(n) (EINT_BASE + 4u * (n))      /* CNT 3:0, PRESCAL 6:4, DUAL 7, POL 8, EN 9 */
#define EINT_IRQ_SENS(n) (EINT_BASE + 0x200u + 4u * (n))  /* bit k of word n: IRQ 32n + k is level-sensitive */
#define DBNC_EN          (1u << 9)
#define DBNC_POL_LOW     (1u << 8)                   /* os_hal_eint.c: 1 for LEVEL_LOW, EDGE_FALLING */
#define DBNC_8KHZ_4      4u                          /* 4 ticks of 8 kHz: 0.5 ms */
#define BUTTON_A         12u
#define TIMEOUT_US       2000000u
#define ROUNDS           3

enum { WOKEN_NONE, WOKEN_GPT3, WOKEN_EINT };
static volatile uint32_t woken;

void irq_gpt3(void)
{
    wr32(GPT3_CTRL, GPT3_OSC_CNT_1US | GPT3_CTRL_ICLR);    /* stop and clear */
    woken = WOKEN_GPT3;
}

void irq_eint12(void)
{
    nvic_disable_irq(IRQ_EINT(BUTTON_A));    /* level-low: held while pressed (the LP driver unregisters it) */
    woken = WOKEN_EINT;
}

int main(void)
{
    print("eint_wake: start\r\n");
    gpio_input(BUTTON_A);
    const uint32_t irq = IRQ_EINT(BUTTON_A);
    wr32(EINT_IRQ_SENS(irq / 32u), rd32(EINT_IRQ_SENS(irq / 32u)) | 1u << (irq % 32u));
    wr32(EINT_DBNC_CON(BUTTON_A), DBNC_EN | DBNC_POL_LOW | DBNC_8KHZ_4);
    gpt2_start_32k();
    nvic_enable_irq(IRQ_GPT3, 2);

    for (int round = 1; round <= ROUNDS; round++) {
        woken = WOKEN_NONE;
        wr32(GPT3_CTRL, GPT3_OSC_CNT_1US | GPT3_CTRL_ICLR);
        wr32(GPT3_INIT, 0);
        wr32(GPT3_EXPIRE, TIMEOUT_US - 1u);
        nvic_clear_pending(irq);
        nvic_enable_irq(irq, 2);
        print("eint_wake: sleeping (press button A or wait %u ms)\r\n", TIMEOUT_US / 1000u);
        uint32_t start = gpt2_count();
        wr32(GPT3_CTRL, GPT3_OSC_CNT_1US | GPT_CTRL_EN);
        cpu_irq_disable();
        while (woken == WOKEN_NONE) {
            cpu_wfi();
            cpu_irq_enable();
            cpu_irq_disable();
        }
        cpu_irq_enable();
        uint32_t ms = (gpt2_count() - start) * 1000u / 32768u;
        wr32(GPT3_CTRL, GPT3_OSC_CNT_1US | GPT3_CTRL_ICLR);
        nvic_disable_irq(irq);
        print("eint_wake: woken by %s after %u ms\r\n", woken == WOKEN_GPT3 ? "GPT3" : "EINT 12", ms);
        while (!gpio_read(BUTTON_A)) {
        }
        gpt3_wait_us(2000u);                 /* the EINT's debounced level follows 0.5 ms later */
    }
    print("eint_wake: done\r\n");
    return 0;
}
