/* GPIOIF event counter of a GPIO block (see gpioif.c). */
#ifndef GPIOIF_H
#define GPIOIF_H

#include "periph.h"

/* Up/down counting on GPIO block `group`: both edges of its pin 0 count up, of its pin 1 down, from `reset`;
   the interrupt fires when the count reaches `low` or `high` and calls `on_limit(status, count)`. */
void gpioif_updown(unsigned group, uint32_t reset, uint32_t low, uint32_t high,
                   void (*on_limit)(uint32_t status, uint32_t count));
uint32_t gpioif_count(unsigned group);

#endif
