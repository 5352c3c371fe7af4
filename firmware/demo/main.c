/* demo: what `mt3620 demo` boots. Selects the 197.6 MHz PLL, prints a banner, blinks LED1 red (GPIO 8,
 * active low on the RDB) every 500 ms from GPT0's repeat interrupt, and reports button A (GPIO 12) presses.
 * The button is sampled every 10 ms on GPT1; a press is a high-to-low change (the RDB pulls it up). */
#include "rt.h"

#define BLINK_COUNTS 16384u  /* 500 ms at 32.768 kHz */
#define POLL_COUNTS  328u    /* 10 ms at 32.768 kHz */

static volatile uint32_t blinks;
static volatile uint32_t polls;

void irq_gpt01(void)
{
    /* GPT0 and GPT1 share IRQ 1; GPT_ISR says which expired and is cleared by writing ones. */
    uint32_t isr = rd32(GPT_ISR);
    wr32(GPT_ISR, isr);
    if (isr & 1u) {
        blinks++;
    }
    if (isr & 2u) {
        polls++;
    }
}

int main(void)
{
    uint32_t hz = clock_select(HCLK_SRC_PLL);
    print("MT3620 emulator demo: IO core at %u Hz\r\n", hz);
    print("demo: LED1 red (GPIO 8) blinks every 500 ms; press button A (GPIO 12)\r\n");

    gpio_output(PIN_LED1_RED, true);  /* off */
    gpio_input(PIN_BUTTON_A);
    bool was_high = gpio_read(PIN_BUTTON_A);

    /* GPT0 and GPT1 count down from ICNT at 32.768 kHz and reload in repeat mode (CodethinkLabs GPT.c). */
    wr32(GPT0_CTRL, 0);
    wr32(GPT1_CTRL, 0);
    wr32(GPT_ISR, 3u);
    wr32(GPT0_ICNT, BLINK_COUNTS - 1u);
    wr32(GPT1_ICNT, POLL_COUNTS - 1u);
    wr32(GPT_IER, 3u);
    nvic_clear_pending(IRQ_GPT01);
    nvic_enable_irq(IRQ_GPT01, 2);
    wr32(GPT0_CTRL, GPT_CTRL_EN | GPT_CTRL_REPEAT | GPT_CTRL_32K);
    wr32(GPT1_CTRL, GPT_CTRL_EN | GPT_CTRL_REPEAT | GPT_CTRL_32K);

    uint32_t shown = 0, polled = 0;
    for (;;) {
        cpu_irq_disable();
        if (blinks == shown && polls == polled) {
            cpu_wfi();  /* woken by the pending interrupt even with PRIMASK set; taken after cpsie */
        }
        cpu_irq_enable();
        while (shown != blinks) {
            shown++;
            gpio_write(PIN_LED1_RED, (shown & 1u) == 0);  /* odd blinks: LED on (low) */
            print("blink %u\r\n", shown);
        }
        if (polled != polls) {
            polled = polls;
            bool high = gpio_read(PIN_BUTTON_A);
            if (was_high && !high) {
                print("button A pressed\r\n");
            }
            was_high = high;
        }
    }
}
