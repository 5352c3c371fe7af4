/* irq_storm: the interrupt-heavy benchmark. At 197.6 MHz, SysTick interrupts 1000 times a second while
 * the main loop keeps the interrupt-driven UART (drivers/uart_irq.c) busy at 115200 baud. After 1000
 * ticks (one second of chip time) it stops queueing, drains the UART and reports the counts. */
#include "uart_irq.h"

#define TICKS 1000u

static volatile uint32_t ticks;

void SysTick_Handler(void)
{
    ticks++;
}

int main(void)
{
    uint32_t hz = clock_select(HCLK_SRC_PLL);
    print("irq_storm: start at %u Hz\r\n", hz);
    uirq_open();
    systick_start(1000);
    uint32_t lines = 0;
    char line[48];
    while (ticks < TICKS) {
        if (uirq_tx_free() >= sizeof line) {
            lines++;
            int n = snformat(line, sizeof line, "irq_storm: line %u tick %u\r\n", lines, ticks);
            uirq_write(line, (size_t)n);
        } else {
            cpu_wfi();
        }
    }
    wr32(SYST_CSR, 0);
    uirq_drain();
    print("irq_storm: ticks=%u lines=%u uart_isr_calls=%u\r\n", ticks, lines, uirq_isr_calls());
    print("irq_storm: done\r\n");
    return 0;
}
