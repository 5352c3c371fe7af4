/* ISU SPI master (see spi.c). */
#ifndef SPI_H
#define SPI_H

#include "periph.h"

#define SPI_CS_NONE 7u    /* no hardware chip select: the caller drives a GPIO */

/* Master on ISU `isu`: SCLK as close to `hz` from below as the divider allows, SPI mode 0..3; returns SCLK in Hz. */
uint32_t spi_open(unsigned isu, uint32_t hz, unsigned mode);
void spi_set_dma(unsigned isu, bool dma);
/* Half duplex: `cmd` (0..4 bytes, sent first), then `tx` (0..32 bytes), then `rx` (0..32 bytes) read with MOSI
   held; chip select line `cs` (0 = CSA, 1 = CSB, SPI_CS_NONE) active for the whole transfer. */
int spi_transfer(unsigned isu, unsigned cs, const uint8_t *cmd, unsigned cmdlen, const uint8_t *tx, unsigned txlen,
                 uint8_t *rx, unsigned rxlen);
/* Full duplex: `cmdlen` (1..4) command bytes, then `len` (1..16) bytes out of `tx` while `len` come into `rx`. */
int spi_full_duplex(unsigned isu, unsigned cs, const uint8_t *cmd, unsigned cmdlen, const uint8_t *tx, uint8_t *rx,
                    unsigned len);

#endif
