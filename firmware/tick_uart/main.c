/* tick_uart: the background load of a typical RTApp, for the benchmark: SysTick at 1 kHz and one UART interrupt
 * per transmitted byte, with the core asleep (WFI) the rest of the time. At 197.6 MHz the debug UART sends a line
 * a tick from a 256-byte ring; its "THR empty" interrupt moves exactly one byte into the FIFO each time, so at
 * 115200 baud there are about 11,500 UART interrupts and 1,000 ticks per second of chip time. After SECONDS it
 * stops, drains and prints the counts. */
#include "rt.h"

#define SECONDS 10u
#define RING 256u

static volatile uint8_t ring[RING];
static volatile uint32_t head, tail;   /* head: next free slot; tail: next byte to send */
static volatile uint32_t ticks, uart_irqs, bytes_sent;

static inline uint32_t ureg_r(uint32_t off) { return rd32(UART_DEBUG_BASE + off); }
static inline void ureg_w(uint32_t off, uint32_t v) { wr32(UART_DEBUG_BASE + off, v); }

void SysTick_Handler(void)
{
    ticks++;
}

void irq_uart_debug(void)
{
    uart_irqs++;
    if ((ureg_r(UART_IIR) & 0x3Fu) != UART_IIR_THRE) {
        return;
    }
    if (tail != head) {
        ureg_w(UART_THR, ring[tail % RING]);  /* one byte per interrupt */
        tail++;
        bytes_sent++;
    }
    if (tail == head) {
        ureg_w(UART_IER, 0);                  /* nothing left: no more "THR empty" interrupts */
    }
}

static void queue_line(uint32_t n)
{
    char line[48];
    int len = snformat(line, sizeof line, "tick_uart: line %u tick %u\r\n", n, ticks);
    cpu_irq_disable();
    for (int i = 0; i < len; i++) {
        ring[head % RING] = (uint8_t)line[i];
        head++;
    }
    ureg_w(UART_IER, UART_IER_ETBEI);
    cpu_irq_enable();
}

int main(void)
{
    uint32_t hz = clock_select(HCLK_SRC_PLL);
    print("tick_uart: start at %u Hz\r\n", hz);
    while (!(ureg_r(UART_LSR) & UART_LSR_TEMT)) {
    }
    ureg_w(UART_FCR, 0x01u | 0x02u | 0x04u);  /* FIFOs on and cleared */
    nvic_clear_pending(IRQ_UART_DEBUG);
    nvic_enable_irq(IRQ_UART_DEBUG, 2);
    systick_start(1000);
    uint32_t lines = 0;
    while (ticks < SECONDS * 1000u) {
        if (RING - (head - tail) >= 48u) {
            queue_line(++lines);
        } else {
            cpu_wfi();
        }
    }
    wr32(SYST_CSR, 0);
    while (tail != head) {
        cpu_wfi();
    }
    while (!(ureg_r(UART_LSR) & UART_LSR_TEMT)) {
    }
    nvic_disable_irq(IRQ_UART_DEBUG);
    print("tick_uart: ticks=%u lines=%u bytes=%u uart_irqs=%u\r\n", ticks, lines, bytes_sent, uart_irqs);
    print("tick_uart: done\r\n");
    return 0;
}
