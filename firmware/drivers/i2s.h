/* I2S output and input through DMA rings, 16-bit stereo (see i2s.c). */
#ifndef I2S_H
#define I2S_H

#include "periph.h"

/* Sample-rate codes of DL/UL_CONTROL.SR (CodethinkLabs mt3620/i2s.h): 8, 12, 16, 24, 32, 48 kHz. */
#define I2S_SR_8K  0x0u
#define I2S_SR_16K 0x4u
#define I2S_SR_48K 0xAu

typedef void (*i2s_ring_cb)(uint32_t *ring, unsigned first, unsigned count);

/* Controller `n` as a clock subordinate of the codec (as the CodethinkLabs sample runs it), or looped back inside
   the chip (`loopback`: output frames come back as input, MediaTek's "internal loopback mode"). */
void i2s_open(unsigned n, bool loopback);
/* Output 16-bit stereo frames (one word each: left in the low half) from `ring` (`beats` words, SYSRAM);
   `refill(ring, first, count)` fills `count` free words from index `first` whenever a quarter is left. */
void i2s_output(unsigned n, unsigned sr, uint32_t *ring, unsigned beats, i2s_ring_cb refill);
/* Input frames into `ring`; `consume(ring, first, count)` gets them whenever three quarters are filled. */
void i2s_input(unsigned n, unsigned sr, uint32_t *ring, unsigned beats, i2s_ring_cb consume);
void i2s_stop(unsigned n);

#endif
