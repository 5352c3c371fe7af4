/* Interrupt-driven debug UART (see uart_irq.c). */
#ifndef UART_IRQ_H
#define UART_IRQ_H

#include "rt.h"

#define UIRQ_TX_RING 256u

void uirq_open(void);
void uirq_write(const char *s, size_t n);       /* waits (WFI) while the ring is full */
int uirq_print(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint32_t uirq_tx_free(void);                     /* room left in the transmit ring */
void uirq_drain(void);                           /* returns once the last bit has left the UART */
bool uirq_getc(uint8_t *c);                      /* a received byte, if any */
uint32_t uirq_isr_calls(void);

#endif
