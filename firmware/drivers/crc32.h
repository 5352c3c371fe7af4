/* The CRC-32 kernel of the compute-bound benchmark (crc32.c), shared by the IO-core build (firmware/crc32) and the
 * build for QEMU's mps2-an386 Cortex-M4 board (firmware/crc32_qemu), so both run the same instructions. */
#ifndef CRC32_KERNEL_H
#define CRC32_KERNEL_H

#include <stdint.h>

#define CRC32_BUF_SIZE 4096u

extern uint8_t crc32_buffer[CRC32_BUF_SIZE];

/* Fills the buffer from a linear congruential generator and builds the table. */
void crc32_prepare(void);
/* Continues a CRC: pass 0 to start, the previous result to go on (zlib.crc32(data, value) semantics). */
uint32_t crc32_update(uint32_t crc, const uint8_t *p, uint32_t n);

#endif
