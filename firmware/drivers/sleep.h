/* Sleeping waits on GPT3's expire interrupt (see sleep.c). */
#ifndef SLEEP_H
#define SLEEP_H

#include "rt.h"

/* Sleeps (WFI) for `us` microseconds, 1 <= us; other interrupts are served meanwhile. */
void sleep_us(uint32_t us);

#endif
