/* Polled transmit on the IO core's debug UART (0x21040000), a 16550 with MediaTek baud-rate extensions. */
#include "rt.h"

static inline void ureg_w(uint32_t off, uint32_t v) { wr32(UART_DEBUG_BASE + off, v); }
static inline uint32_t ureg_r(uint32_t off) { return rd32(UART_DEBUG_BASE + off); }

void uart_init(void)
{
    /* 115200 8N1 from the 26 MHz UART clock, with the register values of the Azure HelloWorld RTApp's
       Uart_Init: divisor 1, HIGHSPEED 3, 224 samples per bit sampled at 110, fractional divider 223. */
    ureg_w(UART_LCR, 0x80);  /* DLAB: 0x00/0x04 become DLL/DLM */
    ureg_w(UART_HIGHSPEED, 3);
    ureg_w(UART_DLM, 0);
    ureg_w(UART_DLL, 1);
    ureg_w(UART_SAMPLE_COUNT, 224);
    ureg_w(UART_SAMPLE_POINT, 110);
    ureg_w(UART_FRACDIV_M, 0);
    ureg_w(UART_FRACDIV_L, 223);
    ureg_w(UART_LCR, 0x03);  /* 8 data bits, no parity, 1 stop bit, DLAB off */
}

void uart_putc(char c)
{
    /* LSR.THRE: the transmitter can take another character. */
    while (!(ureg_r(UART_LSR) & UART_LSR_THRE)) {
    }
    ureg_w(UART_THR, (uint8_t)c);
}

void uart_write(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uart_putc(s[i]);
    }
}

void uart_puts(const char *s)
{
    while (*s) {
        uart_putc(*s++);
    }
}
