/* M4 DMA helpers: virtual-FIFO rings and the channel interrupt dispatch (see dma.c). */
#ifndef DMA_H
#define DMA_H

#include "periph.h"

typedef void (*dma_handler)(unsigned channel);

/* A virtual-FIFO ring for channel `ch`: `ring` holds `beats` beats of 1 << `size` bytes; `threshold` beats raise
   the channel interrupt (RX: at least that many filled; TX: at most that many left). `rx` selects the direction. */
void dma_vff_start(unsigned ch, void *ring, unsigned beats, unsigned size, unsigned threshold, bool rx,
                   dma_handler handler);
void dma_vff_stop(unsigned ch);
unsigned dma_vff_count(unsigned ch);               /* beats in the ring */
unsigned dma_vff_swptr(unsigned ch);               /* software pointer, bytes */
/* Software consumed (RX) or produced (TX) `bytes` bytes: advance SWPTR around the ring, toggling the wrap bit. */
void dma_vff_advance(unsigned ch, unsigned bytes, unsigned ring_bytes);
/* Memory to memory on the full-size channel 12: `bytes` from `src` to `dst`, waiting for completion. */
void dma_memcpy(void *dst, const void *src, unsigned bytes);

#endif
