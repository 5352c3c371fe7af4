/* uart_irq: interrupt-driven transmit (drivers/uart_irq.c): ten lines, more than the 256-byte ring holds,
 * so the writer sleeps while the ISR drains it; then every received byte is echoed as one line. */
#include "uart_irq.h"

int main(void)
{
    uirq_open();
    uirq_print("uart_irq: start\r\n");
    for (uint32_t i = 1; i <= 8; i++) {
        uirq_print("uart_irq: line %u of 8: the quick brown fox jumps over the lazy dog\r\n", i);
    }
    uirq_print("uart_irq: done\r\n");
    uirq_drain();
    print("uart_irq: isr_calls=%u\r\n", uirq_isr_calls());

    for (;;) {
        uint8_t c;
        cpu_irq_disable();
        bool got = uirq_getc(&c);
        if (!got) {
            cpu_wfi();
        }
        cpu_irq_enable();
        if (got) {
            uirq_print("uart_irq: rx 0x%02x\r\n", c);
        }
    }
}
