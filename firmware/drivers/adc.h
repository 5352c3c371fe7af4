/* The ADC: one-shot scans through the FIFO, periodic scans into a DMA ring (see adc.c). */
#ifndef ADC_H
#define ADC_H

#include "periph.h"

#define ADC_VALUE(sample)   (((sample) >> 4) & 0xFFFu)
#define ADC_CHANNEL(sample) ((sample) & 0xFu)

void adc_open(void);
/* One scan of the channels in `map` (bit n = channel n); returns the samples read into `out` (at most `max`). */
unsigned adc_one_shot(uint16_t map, uint32_t *out, unsigned max);
/* Periodic scans every `period_clocks` ADC clocks (2 MHz) into `ring` (`beats` words, in SYSRAM), the DMA
   interrupt every `threshold` samples calling `on_samples(first, count)` (ring indices). */
void adc_periodic(uint16_t map, uint32_t period_clocks, uint32_t *ring, unsigned beats, unsigned threshold,
                  void (*on_samples)(unsigned first, unsigned count));
void adc_stop(void);

#endif
