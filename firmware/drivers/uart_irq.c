/* Interrupt-driven transmit and receive on the debug UART, as the CodethinkLabs driver (UART.c) does it:
 * bytes wait in a 256-byte software ring; the ISR reads IIR until it says 0x01 (nothing pending), and on
 * "THR empty" moves at most 16 - TX_OFFSET bytes into the hardware FIFO, turning ETBEI off once the ring
 * is empty. Received bytes (IIR 0x04 / 0x0C) are read while LSR.DR is set. */
#include "uart_irq.h"

#define RX_RING 32u

static volatile uint8_t tx_ring[UIRQ_TX_RING];
static volatile uint32_t tx_head, tx_tail;  /* head: next free slot, tail: next byte to send */
static volatile uint8_t rx_ring[RX_RING];
static volatile uint32_t rx_head, rx_tail;
static volatile uint32_t isr_calls;

static inline uint32_t ureg_r(uint32_t off) { return rd32(UART_DEBUG_BASE + off); }
static inline void ureg_w(uint32_t off, uint32_t v) { wr32(UART_DEBUG_BASE + off, v); }

void irq_uart_debug(void)
{
    isr_calls++;
    for (;;) {
        uint32_t id = ureg_r(UART_IIR) & 0x3Fu;
        if (id == UART_IIR_NONE) {
            break;
        }
        if (id == UART_IIR_THRE) {
            uint32_t room = UART_FIFO_DEPTH - ureg_r(UART_TX_OFFSET);
            while (room && tx_tail != tx_head) {
                ureg_w(UART_THR, tx_ring[tx_tail % UIRQ_TX_RING]);
                tx_tail++;
                room--;
            }
            if (tx_tail == tx_head) {
                ureg_w(UART_IER, ureg_r(UART_IER) & ~UART_IER_ETBEI);
            }
        } else if (id == UART_IIR_RX || id == UART_IIR_RX_TIMEOUT) {
            while (ureg_r(UART_LSR) & UART_LSR_DR) {
                uint8_t c = (uint8_t)ureg_r(UART_RBR);
                if (rx_head - rx_tail < RX_RING) {
                    rx_ring[rx_head % RX_RING] = c;
                    rx_head++;
                }
            }
        } else if (id == UART_IIR_LINE) {
            (void)ureg_r(UART_LSR);  /* reading LSR clears a line-status interrupt */
        } else {
            break;  /* an interrupt this driver never enables */
        }
    }
}

void uirq_open(void)
{
    /* Let polled output already handed to the UART leave first: clearing the FIFOs would drop it. */
    while (!(ureg_r(UART_LSR) & UART_LSR_TEMT)) {
    }
    /* FIFO on, both FIFOs cleared, TX trigger 4 bytes, RX trigger 12 (CodethinkLabs UART_Open). */
    ureg_w(UART_FCR, 0x01u | 0x02u | 0x04u | (1u << 4) | (2u << 6));
    ureg_w(UART_IER, UART_IER_ERBFI);
    nvic_clear_pending(IRQ_UART_DEBUG);
    nvic_enable_irq(IRQ_UART_DEBUG, 2);
}

void uirq_write(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        while (tx_head - tx_tail >= UIRQ_TX_RING) {
            cpu_wfi();  /* ring full: the THR-empty interrupt drains it */
        }
        tx_ring[tx_head % UIRQ_TX_RING] = (uint8_t)s[i];
        tx_head++;
        /* (Re-)arm "THR empty": the UART raises it as soon as its FIFO has room. */
        cpu_irq_disable();
        ureg_w(UART_IER, ureg_r(UART_IER) | UART_IER_ETBEI);
        cpu_irq_enable();
    }
}

static void sink(void *ctx, char c)
{
    (void)ctx;
    uirq_write(&c, 1);
}

int uirq_print(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vformat(sink, NULL, fmt, ap);
    va_end(ap);
    return n;
}

uint32_t uirq_tx_free(void)
{
    return UIRQ_TX_RING - (tx_head - tx_tail);
}

void uirq_drain(void)
{
    while (tx_tail != tx_head || !(ureg_r(UART_LSR) & UART_LSR_TEMT)) {
    }
}

bool uirq_getc(uint8_t *c)
{
    if (rx_tail == rx_head) {
        return false;
    }
    *c = rx_ring[rx_tail % RX_RING];
    rx_tail++;
    return true;
}

uint32_t uirq_isr_calls(void)
{
    return isr_calls;
}
